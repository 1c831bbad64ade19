"""Parse a force's register and validate it against the SHACL shapes.

One public entry point per step: :func:`parse_register` turns bytes into an
rdflib graph (or raises :class:`RegisterSyntaxError` with a line and column),
:func:`validate_graph` checks a parsed register against the shapes together
with the ontology and the reference data, and :func:`validate_bytes` does
both. The CLI, the loader and the upload gate all use these, so a register
is judged the same way everywhere.
"""

from __future__ import annotations

import difflib
import functools
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDF, RDFS, SH
from rdflib.term import Node

from s22a.ingest import screen, shacl
from s22a.ingest.parse import parse_register, read_register
from s22a.namespaces import BODY, FORCE, S22A, bind_prefixes
from s22a.reference import (
    agreement_shapes,
    context_graph,
    core_shape_parts,
    register_shape_halves,
    statement_shapes,
)

SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}


@dataclass(frozen=True)
class Finding:
    """One result of validation, as a PCC office needs to read it."""

    severity: str
    message: str
    focus: str
    path: str | None = None
    value: str | None = None
    agreement: str | None = None
    agreement_title: str | None = None
    shape: str | None = None
    suggestions: list[str] = field(default_factory=list)  # known IRIs the value may mean


@dataclass
class ValidationResult:
    """The outcome of validating one register."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    report: Graph = field(default_factory=Graph)
    graph: Graph = field(default_factory=Graph)
    agreements: int | None = None  # set where `graph` was left out (`s22a.ingest.sandbox`)
    # How many listed agreements pySHACL ran the agreement shapes on: the screen passed the
    # others (`s22a.ingest.screen`).
    agreements_checked: int | None = None

    @property
    def violations(self) -> list[Finding]:
        """Findings that make the register invalid."""
        return [f for f in self.findings if f.severity == "violation"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings that are suspicious but allowed."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def conforms(self) -> bool:
        """True when the register has no violations (warnings are allowed)."""
        return not self.violations

    def by_agreement(self) -> list[dict[str, Any]]:
        """The findings grouped by agreement (`agreement`, `title`, `findings`), the register
        as a whole first, then by title."""
        groups: dict[str | None, dict[str, Any]] = {}
        for finding in self.findings:
            group = groups.setdefault(
                finding.agreement,
                {"agreement": finding.agreement, "title": finding.agreement_title, "findings": []},
            )
            group["findings"].append(finding)
        return sorted(
            groups.values(),
            key=lambda g: (g["agreement"] is not None, g["title"] or "", g["agreement"] or ""),
        )

    def add_violation(self, message: str, focus: str, path: URIRef | None = None) -> None:
        """Add a violation found outside the shapes (by the gate) to the findings and report."""
        self.findings.append(
            Finding("violation", message, focus, path=str(path) if path is not None else None)
        )
        report_node = next(iter(self.report.subjects(RDF.type, SH.ValidationReport)), None)
        if report_node is None:
            report_node = BNode()
            self.report.add((report_node, RDF.type, SH.ValidationReport))
        self.report.set((report_node, SH.conforms, Literal(False)))
        result = BNode()
        self.report.add((report_node, SH.result, result))
        self.report.add((result, RDF.type, SH.ValidationResult))
        self.report.add((result, SH.resultSeverity, SH.Violation))
        self.report.add((result, SH.focusNode, URIRef(focus)))
        if path is not None:
            self.report.add((result, SH.resultPath, path))
        self.report.add((result, SH.resultMessage, Literal(message, lang="en")))

    def agreement_count(self) -> int:
        """Number of agreements the register lists."""
        if self.agreements is not None:
            return self.agreements
        return len(set(self.graph.objects(None, S22A.lists)))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with every finding."""
        return {
            "source": self.source,
            "conforms": self.conforms,
            "agreements": self.agreement_count(),
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [asdict(f) for f in self.findings],
        }


def _message(report: Graph, result: Node) -> str:
    messages = list(report.objects(result, SH.resultMessage))
    for message in messages:
        if isinstance(message, Literal) and message.language in (None, "en"):
            return str(message)
    return str(messages[0]) if messages else "does not conform to the register shapes"


def _optional(report: Graph, result: Node, predicate: URIRef) -> Node | None:
    return next(iter(report.objects(result, predicate)), None)


def _findings(report: Graph, register: Graph) -> list[Finding]:
    listed = set(register.objects(None, S22A.lists))
    findings: list[Finding] = []
    # Only top-level results: nested sh:detail results explain a parent result.
    for result in report.objects(None, SH.result):
        focus = _optional(report, result, SH.focusNode)
        value = _optional(report, result, SH.value)
        path = _optional(report, result, SH.resultPath)
        agreement = _agreement_of(register, listed, focus, value)
        title = register.value(agreement, DCTERMS.title) if agreement is not None else None
        severity = _optional(report, result, SH.resultSeverity)
        message = _message(report, result)
        suggestions = _nearest_parties(value) if path in _PARTY_ROLES else []
        if suggestions:
            names = _known_parties()
            message += (
                " Did you mean "
                + " or ".join(f"{_curie(iri)} ({names[iri]})" for iri in suggestions)
                + "?"
            )
        findings.append(
            Finding(
                severity=SEVERITIES.get(severity, "violation")
                if isinstance(severity, URIRef)
                else "violation",
                message=message,
                focus=str(focus),
                path=str(path) if isinstance(path, URIRef) else None,
                value=str(value) if value is not None else None,
                agreement=str(agreement) if agreement is not None else None,
                agreement_title=str(title) if title is not None else None,
                shape=str(_optional(report, result, SH.sourceShape)),
                suggestions=suggestions,
            )
        )
    order = {"violation": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (f.agreement or "", order[f.severity], f.message))
    # Two shapes may refuse one value for one reason (the date's datatype and its pattern):
    # the reader is told once.
    seen: set[tuple[str | None, ...]] = set()
    unique = []
    for f in findings:
        key = (f.severity, f.message, f.focus, f.path, f.value)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


_PARTY_ROLES = (S22A.party, S22A.leadForce, S22A.hostForce)


@functools.cache
def _known_parties() -> dict[str, str]:
    """Every force and body of the reference data, by IRI, with its label."""
    graph = context_graph()
    return {
        str(s): str(graph.value(s, RDFS.label) or s)
        for s in set(graph.subjects(RDFS.label, None))
        if isinstance(s, URIRef) and str(s).startswith((str(FORCE), str(BODY)))
    }


def _nearest_parties(value: Node | None) -> list[str]:
    """Up to three known forces or bodies whose identifiers are nearest to an unknown one."""
    known = _known_parties()
    if not isinstance(value, URIRef) or str(value) in known:
        return []
    slugs: dict[str, list[str]] = {}
    for iri in known:
        slugs.setdefault(iri.rsplit("/", 1)[1], []).append(iri)
    # The same kind first (a force for a force), then the other kind.
    wanted = str(value).rsplit("/", 1)[-1]
    near = difflib.get_close_matches(wanted, list(slugs), n=3, cutoff=0.6)
    kind = str(value).rsplit("/", 1)[0]
    found = [iri for slug in near for iri in slugs[slug]]
    return sorted(found, key=lambda iri: (iri.rsplit("/", 1)[0] != kind, found.index(iri)))[:3]


def _curie(iri: str) -> str:
    """force:merseyside for a force's IRI, body:... for a body's."""
    for prefix, namespace in (("force", FORCE), ("body", BODY)):
        if iri.startswith(str(namespace)):
            return f"{prefix}:{iri[len(str(namespace)) :]}"
    return f"<{iri}>"


def _agreement_of(register: Graph, listed: set[Node], *nodes: Node | None) -> Node | None:
    """The listed agreement a result is about: its focus or value, or the agreement whose
    blank nodes (a budget, a contribution) lead to it."""
    for node in nodes:
        seen: set[Node] = set()
        while isinstance(node, BNode) and node not in seen:
            seen.add(node)
            node = next(iter(register.subjects(None, node)), None)
        if node in listed:
            return node
    return None


def validate_graph(register: Graph, source: str = "register") -> ValidationResult:
    """Validate a parsed register against the shapes: first with the ontology and reference
    data (shapes/register.ttl), then on its own, where its statements about forces, agreements
    it does not list or the reference data can be told from the reference data's
    (shapes/statements.ttl).

    pySHACL runs the SHACL Core constraints only on what the screen (`s22a.ingest.screen`) could
    not pass: the register as a whole, and each listed agreement, with what is reachable from it.
    """
    _core, sparql = register_shape_halves()
    register_part, agreement_part = core_shape_parts()
    listed = {a for a in register.objects(None, S22A.lists) if isinstance(a, URIRef)}
    register_suspect, agreements = _suspects(register)
    # An agreement the screen cannot tell by itself (a blank node, or no screen at all) is
    # checked with the whole register, as every agreement was before the screen.
    if agreements is None or not agreements <= listed:
        whole, checked = True, sorted(listed)
    else:
        whole, checked = False, sorted(a for a in listed if a in agreements)
    report = Graph()
    # The SPARQL constraints run on Oxigraph, the Core constraints on rdflib's graph: each
    # half where it is fast (bench/validate.py compares with all shapes on rdflib's graph).
    union, alone = shacl.on_oxigraph_both(register)
    if register_suspect or whole:
        data = shacl.with_context(register)
        with shacl.LOCK:
            if register_suspect:
                report += shacl.run(data, register_part)
            if whole:
                report += shacl.run(data, agreement_part)
    if checked and not whole:
        with shacl.LOCK:
            report += shacl.run(_described(register, checked), agreement_part)
    with shacl.LOCK:
        report += shacl.run(union, sparql)
        report += shacl.run(alone, statement_shapes())
    bind_prefixes(report)
    return ValidationResult(
        source=source,
        findings=_findings(report, register),
        report=report,
        graph=register,
        agreements_checked=len(checked),
    )


@functools.cache
def _screen() -> screen.Screen | None:
    """The screen of the Core constraints (None if they use what it cannot check)."""
    core, _sparql = register_shape_halves()
    return screen.compile_screen(core)


@functools.cache
def _context_nodes() -> frozenset[Node]:
    return screen.nodes_of(context_graph())


def _suspects(register: Graph) -> tuple[bool, set[Node] | None]:
    """Whether the register as a whole may have findings of the Core constraints, and which
    agreements may (None: any of them)."""
    compiled = _screen()
    if compiled is None:
        return True, None
    suspects = compiled.suspects(screen.Data(register, context_graph(), _context_nodes()))
    per_agreement = agreement_shapes()
    agreements = {f for shape, found in suspects.items() if shape in per_agreement for f in found}
    return any(found for shape, found in suspects.items() if shape not in per_agreement), agreements


def _described(register: Graph, agreements: list[URIRef]) -> Graph:
    """The ontology, the reference data and what the register says of `agreements` and of
    everything reachable from them, with the register listing them: all the agreement shapes
    read of them (they follow paths forward from the agreement only)."""
    data = Graph()
    seen: set[Node] = set(agreements)
    queue: list[Node] = list(agreements)
    for node in queue:
        for predicate, value in register.predicate_objects(node):
            data.add((node, predicate, value))
            if not isinstance(value, Literal) and value not in seen:
                seen.add(value)
                queue.append(value)
    for agreement in agreements:
        for holder in register.subjects(S22A.lists, agreement):
            data.add((holder, S22A.lists, agreement))
    return shacl.with_context(data)


def validate_bytes(
    data: bytes, name: str = "register.ttl", media_type: str | None = None
) -> ValidationResult:
    """Parse and validate a register given as bytes; raises RegisterUnreadable."""
    return validate_graph(parse_register(data, name, media_type), source=name)


def validate_file(path: str | Path) -> ValidationResult:
    """Read, parse and validate a register file; raises RegisterUnreadable."""
    return validate_graph(read_register(path), source=str(path))


def format_text(result: ValidationResult) -> str:
    """A report for people, grouped by agreement."""
    count = result.agreement_count()
    summary = (
        f"{len(result.violations)} violation(s), {len(result.warnings)} warning(s), "
        f"{count} agreement(s)"
    )
    status = "valid" if result.conforms else "INVALID"
    lines = [f"{result.source}: {status} ({summary})"]
    for group in result.by_agreement():
        agreement = group["agreement"]
        if agreement is None:
            lines.append("  The register as a whole")
        else:
            lines.append(f"  Agreement '{group['title'] or '(no title)'}' <{agreement}>")
        for finding in group["findings"]:
            lines.append(f"    {finding.severity}: {finding.message}")
            if finding.value and finding.value != agreement:
                lines.append(f"      value: {finding.value}")
    return "\n".join(lines)


def format_json(results: list[dict[str, Any]]) -> str:
    """Machine-readable results for several files."""
    return json.dumps({"results": results}, indent=2, ensure_ascii=False)
