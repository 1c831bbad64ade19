"""Synthetic registers for benchmarks: many forces, many agreements, all valid.

The agreements are made up (they are load, not data) and use only reference
forces and capabilities, so they pass the same shapes as a real register.
"""

from __future__ import annotations

import random

from rdflib import Graph

from s22a import reference
from s22a.namespaces import CAPABILITY_SCHEME, S22A

PREFIXES = """@prefix s22a: <https://w3id.org/s22a/def/s22a#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix schema: <https://schema.org/> .
@prefix force: <https://w3id.org/s22a/id/force/> .
@prefix agreement: <https://w3id.org/s22a/id/agreement/> .
@prefix register: <https://w3id.org/s22a/id/register/> .
"""

S22A_BASIS = "http://www.legislation.gov.uk/id/ukpga/1996/16/section/22A"
SCOPES = ["s22a:Regional", "s22a:SubRegional", "s22a:Bilateral", "s22a:National"]


def reference_slugs() -> tuple[list[str], list[str]]:
    """Force slugs and capability IRIs from the reference data."""
    context: Graph = reference.context_graph()
    forces = sorted(
        str(s).rsplit("/", 1)[1]
        for s in context.subjects(predicate=S22A.policingBody)
        if "/id/force/" in str(s)
    )
    capabilities = sorted(
        str(c)
        for c in context.subjects(predicate=None, object=CAPABILITY_SCHEME)
        if "/id/capability/" in str(c)
    )
    return forces, capabilities


def register_turtle(
    force: str,
    agreements: int,
    *,
    seed: int = 0,
    prefix: str = "synthetic",
    register: str | None = None,
) -> str:
    """A valid register for `force` listing `agreements` made-up agreements.

    `register` names the register (default: the force's slug), so that a benchmark can
    publish more registers than there are forces in the reference data.
    """
    register = register or force
    rng = random.Random(f"{seed}-{force}")
    forces, capabilities = reference_slugs()
    others = [f for f in forces if f != force]
    lines = [PREFIXES]
    slugs = [f"{prefix}-{register}-{n}" for n in range(agreements)]
    lines.append(f"register:{register} a s22a:Register ;\n    s22a:force force:{force} ;")
    lines.append(
        f'    dcterms:source "synthetic benchmark data" ;\n    s22a:listedCount {agreements} ;'
    )
    lines.append("    s22a:lists " + ", ".join(f"agreement:{s}" for s in slugs) + " .\n")
    for n, slug in enumerate(slugs):
        partners = rng.sample(others, rng.randint(1, 5))
        parties = ", ".join(f"force:{p}" for p in [force, *partners])
        year = rng.randint(2005, 2025)
        month = rng.randint(1, 12)
        capability = rng.choice(capabilities)
        lines.append(
            f"agreement:{slug} a s22a:Agreement ;\n"
            f'    dcterms:title "Synthetic collaboration {n} of {register}"@en ;\n'
            f'    s22a:purpose "A made-up agreement for load testing, number {n}."@en ;\n'
            f"    s22a:party {parties} ;\n"
            f"    s22a:leadForce force:{force} ;\n"
            f"    s22a:scope {rng.choice(SCOPES)} ;\n"
            f'    s22a:dateMade "{year}-{month:02d}"^^xsd:gYearMonth ;\n'
            f"    s22a:capability <{capability}> ;\n"
            f"    s22a:legalBasis <{S22A_BASIS}> ;\n"
            f"    s22a:budget [ a schema:MonetaryAmount ;"
            f" schema:value {rng.randint(1, 90) * 10000} ;"
            f' schema:currency "GBP" ] ;\n'
            f"    s22a:staffPosts {rng.randint(1, 400)} .\n"
        )
    return "\n".join(lines)
