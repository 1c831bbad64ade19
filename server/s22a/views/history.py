"""History: every accepted version of a register, the differences between versions, what
stood on a given day, and the change feeds.

`/registers/{force}/versions` lists the versions (HTML, JSON, Turtle);
`/registers/{force}/versions/{n}` is one version's content; `/registers/{force}/diff/{a}/{b}`
the triples added and removed between two (HTML, TriG, N-Quads, JSON). `/doc/register/{force}/
{yyyy-mm-dd}` and `/doc/agreement/{slug}/{yyyy-mm-dd}` show what the registers said at the end
of that day (UTC). The change feeds are in `views.feeds`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date

import pyoxigraph as ox
from flask import Blueprint, Response, render_template, request, url_for
from rdflib import BNode, Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, RDFS, SKOS
from werkzeug.routing import BaseConverter, ValidationError

from s22a.history import changes, versions
from s22a.namespaces import (
    AGREEMENT,
    BASE,
    FORCE,
    GRAPH_ONTOLOGY,
    GRAPH_REFERENCE,
    PREFIXES,
    S22A,
    bind_prefixes,
    is_slug,
    register_iri,
)
from s22a.store import Store, get_store
from s22a.views.registers import JSON, READ_FORMATS, problem, version_url
from s22a.web import conneg, rdf
from s22a.web.conneg import HTML, Format

TRIG = Format("trig", "application/trig", "TriG", "trig")
NQUADS = Format("nq", "application/n-quads", "N-Quads", "nquads")
DIFF_FORMATS = (TRIG, HTML, JSON, NQUADS)
LIST_FORMATS = (conneg.TURTLE, HTML, JSON)


class DayConverter(BaseConverter):
    """A day written yyyy-mm-dd (ISO 8601), given to views as a `datetime.date`."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        """Parse the day; an impossible one (2024-02-30) does not match the route."""
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value: object) -> str:
        """Write the day back as yyyy-mm-dd."""
        return value.isoformat() if isinstance(value, date) else str(value)


bp = Blueprint("history", __name__)
bp.record_once(lambda state: state.app.url_map.converters.setdefault("day", DayConverter))


# ---------------------------------------------------------------------------
# Helpers


def local(iri: str) -> str:
    """Where an IRI of ours is read on this server (things link to their documents)."""
    if not iri.startswith(BASE):
        return iri
    path = iri[len(BASE) :]
    if path.startswith("id/") and path.count("/") == 2:
        path = "doc/" + path[3:]
    return f"{request.script_root}/{path}"


def labels(store: Store, iris: Sequence[str]) -> dict[str, str]:
    """English labels of `iris` from the reference data and the ontology."""
    wanted = sorted({i for i in iris if i.startswith(("http://", "https://"))})
    if not wanted:
        return {}
    values = " ".join(f"<{i}>" for i in wanted)
    rows = store.select(
        f"""SELECT ?s ?l WHERE {{ VALUES ?s {{ {values} }}
            VALUES ?g {{ <{GRAPH_REFERENCE}> <{GRAPH_ONTOLOGY}> }}
            GRAPH ?g {{ ?s <{RDFS.label}>|<{SKOS.prefLabel}> ?l }}
            FILTER(LANGMATCHES(LANG(?l), "en") || LANG(?l) = "") }}"""
    )
    return {str(r["s"]): str(r["l"]) for r in rows}


def force_name(store: Store, force: str) -> str:
    """What to call a force's register, e.g. 'Merseyside Police register'."""
    iri = str(FORCE[force])
    return f"{labels(store, [iri]).get(iri, force)} register"


def _terms(graph: Graph) -> list[str]:
    return [str(t) for triple in graph for t in triple if isinstance(t, URIRef)]


def describe(graph: Graph, node: URIRef, names: dict[str, str]) -> list[dict]:
    """What `graph` says about `node`, as rows of a property and its values, for pages."""
    rows: dict[str, dict] = {}
    for p, o in sorted(graph.predicate_objects(node)):
        row = rows.setdefault(
            str(p), {"property": names.get(str(p), p.n3(graph.namespace_manager)), "terms": []}
        )
        if isinstance(o, URIRef):
            row["terms"].append({"text": names.get(str(o), str(o)), "href": local(str(o))})
        elif isinstance(o, Literal):
            row["terms"].append({"text": str(o), "href": None})
        else:  # a blank node: its own words, or what it says
            text = graph.value(o, DCTERMS.description) or graph.value(o, RDFS.label)
            if text is None:
                text = "; ".join(names.get(str(v), str(v)) for _, v in graph.predicate_objects(o))
            row["terms"].append({"text": str(text), "href": None})
    return list(rows.values())


def _find(
    store: Store, force: str, number: int
) -> tuple[list[versions.Version], versions.Version | None]:
    # Only a slug may become part of an IRI in a query (others are no register anyway).
    history = versions.history(store, register_iri(force)) if is_slug(force) else []
    return history, next((v for v in history if v.number == number), None)


def _format(offered: Sequence[Format], ext: str | None) -> Format | None:
    return conneg.negotiate(
        extension=ext,
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=offered,
    )


def _respond(fmt: Format, body: str | bytes, **headers: str) -> Response:
    response = Response(body, content_type=fmt.content_type)
    response.vary.add("Accept")
    if fmt is not HTML:
        response.access_control_allow_origin = "*"
    response.headers.update(headers)
    return response


def _not_acceptable(offered: Sequence[Format]) -> Response:
    return problem(
        406,
        "No format you accept",
        "Available as " + ", ".join(f.media_type for f in offered) + ".",
    )


def _rdf(graph: Graph, fmt: Format) -> Response:
    bind_prefixes(graph)
    return _respond(fmt, rdf.serialize(graph, fmt))


# ---------------------------------------------------------------------------
# Versions and differences


@bp.get("/registers/<force>/versions")
def versions_list(force: str) -> Response:
    """Every accepted version of a force's register, and the attempts that were refused."""
    store = get_store()
    register = register_iri(force)
    history = versions.history(store, register) if is_slug(force) else []
    if not history:
        return problem(404, "No such register", f"“{force}” has no register versions.")
    fmt = _format(LIST_FORMATS, None)
    if fmt is None:
        return _not_acceptable(LIST_FORMATS)
    retired = changes.retired_versions(store, register)
    rows = [
        {
            "number": v.number,
            "iri": v.iri,
            "url": version_url(force, v.number),
            "generated": v.generated.isoformat(),
            "agreements": v.agreements,
            "triples": v.triples,
            "retired": v.iri in retired,
        }
        for v in history
    ]
    if fmt is JSON:
        return _respond(fmt, json.dumps({"register": register, "versions": rows}, indent=2))
    if fmt is conneg.TURTLE:
        graph = store.construct(
            versions.PREFIXES
            + f"""CONSTRUCT {{ ?v ?p ?o }} WHERE {{ GRAPH <{versions.GRAPH_META}>
            {{ ?v a s22a:RegisterVersion ; dcterms:isVersionOf <{register}> ; ?p ?o }} }}"""
        )
        return _rdf(graph, fmt)
    refused = [a for a in versions.attempts(store, register) if a["outcome"] == "Refused"][:20]
    return _respond(
        fmt,
        render_template(
            "history/versions.html",
            force=force,
            name=force_name(store, force),
            rows=list(reversed(rows)),
            refused=refused,
            current=register in store.graphs(),
        ),
    )


@bp.get("/registers/<force>/versions/<int:number>")
@bp.get("/registers/<force>/versions/<int:number>.<ext>")
def version(force: str, number: int, ext: str | None = None) -> Response:
    """One version of a register: its content as RDF, or a page about it."""
    store = get_store()
    history, found = _find(store, force, number)
    fmt = _format(READ_FORMATS, ext)
    if found is None or (ext and fmt is None):
        return problem(404, "No such version", f"“{force}” has no version {number}.")
    if fmt is None:
        return _not_acceptable(READ_FORMATS)
    content = changes.snapshot(store, found)
    if fmt is not HTML:
        copy = Graph()
        copy += content
        return _rdf(copy, fmt)
    index = history.index(found)
    previous = history[index - 1] if index else None
    found_changes = changes.changes_between(store, previous, found)
    listed = changes.listed(content)
    return _respond(
        fmt,
        render_template(
            "history/version.html",
            force=force,
            name=force_name(store, force),
            version=found,
            previous=previous,
            changes=found_changes,
            retired=found.iri in changes.retired_versions(store, register_iri(force)),
            agreements=sorted(
                ({"title": changes.title(content, a), "href": local(str(a))} for a in listed),
                key=lambda a: a["title"].casefold(),
            ),
            day=found.generated.date(),
            formats=READ_FORMATS,
        ),
    )


@bp.get("/registers/<force>/diff/<int:older>/<int:newer>")
def diff(force: str, older: int, newer: int) -> Response:
    """The triples added and removed from one version of a register to another."""
    store = get_store()
    _history, first = _find(store, force, older)
    _history, second = _find(store, force, newer)
    if first is None or second is None:
        return problem(
            404,
            "No such version",
            f"“{force}” does not have both version {older} and version {newer}.",
        )
    fmt = _format(DIFF_FORMATS, None)
    if fmt is None:
        return _not_acceptable(DIFF_FORMATS)
    old, new = changes.snapshot(store, first), changes.snapshot(store, second)
    added, removed = changes.triple_diff(old, new)
    register = register_iri(force)
    if fmt in (TRIG, NQUADS):
        return _respond(
            fmt,
            _quads(
                {
                    f"{register}/diff/{older}/{newer}#added": added,
                    f"{register}/diff/{older}/{newer}#removed": removed,
                },
                fmt,
            ),
        )
    agreement_changes = changes.agreement_changes(old, new)
    if fmt is JSON:
        body = {
            "register": register,
            "from": first.iri,
            "to": second.iri,
            "added": sorted(t.strip() for t in _lines(added)),
            "removed": sorted(t.strip() for t in _lines(removed)),
            "agreements": [
                {
                    "agreement": c.agreement,
                    "title": c.title,
                    "kind": c.kind,
                    "effect": c.effect,
                    "properties": list(c.properties),
                }
                for c in agreement_changes
            ],
        }
        return _respond(fmt, json.dumps(body, indent=2, ensure_ascii=False))
    names = labels(store, _terms(added) + _terms(removed))
    return _respond(
        fmt,
        render_template(
            "history/diff.html",
            force=force,
            name=force_name(store, force),
            first=first,
            second=second,
            changes=agreement_changes,
            added=_rows(added, names),
            removed=_rows(removed, names),
            formats=DIFF_FORMATS,
        ),
    )


def _quads(graphs: dict[str, Graph], fmt: Format) -> bytes:
    """Named graphs as TriG or N-Quads (written by Oxigraph: rdflib's TriG writer is deprecated)."""
    lines = []
    for index, (name, graph) in enumerate(graphs.items()):
        own = Graph()  # blank node labels are per document: keep each graph's apart
        for triple in graph:
            own.add(
                tuple(
                    BNode(f"g{index}{t}") if isinstance(t, BNode) else t  # type: ignore
                    for t in triple
                )
            )
        lines += [f"{line[:-1].rstrip()} <{name}> ." for line in _lines(own)]
    quads = ox.parse("\n".join(lines), format=ox.RdfFormat.N_QUADS)
    if fmt is NQUADS:
        return ox.serialize(quads, format=ox.RdfFormat.N_QUADS)
    prefixes = {prefix: str(namespace) for prefix, namespace in PREFIXES.items()}
    return ox.serialize(quads, format=ox.RdfFormat.TRIG, prefixes=prefixes)


def _lines(graph: Graph) -> list[str]:
    text = graph.serialize(format="nt", encoding="utf-8").decode("utf-8")
    return [line for line in text.splitlines() if line.strip()]


def _rows(graph: Graph, names: dict[str, str]) -> list[tuple[str, str, str]]:
    bind_prefixes(graph)
    manager = graph.namespace_manager

    def show(term: object) -> str:
        """A term as people read it: a label, a prefixed name, or a literal."""
        if isinstance(term, URIRef):
            return names.get(str(term)) or term.n3(manager)
        return term.n3(manager) if hasattr(term, "n3") else str(term)  # type: ignore[union-attr]

    return sorted((show(s), show(p), show(o)) for s, p, o in graph)


# ---------------------------------------------------------------------------
# What stood on a day


@bp.get("/doc/register/<force>/<day:day>")
@bp.get("/doc/register/<force>/<day:day>.<ext>")
def register_day(force: str, day: date, ext: str | None = None) -> Response:
    """A force's register as it stood at the end of `day`."""
    store = get_store()
    register = register_iri(force)
    history = versions.history(store, register) if is_slug(force) else []
    found = changes.standing(history, day)
    fmt = _format(READ_FORMATS, ext)
    if (
        found is None
        or found.iri in changes.retired_versions(store, register)
        or (ext and fmt is None)
    ):
        return problem(
            404,
            "No register on that day",
            f"“{force}” had no register at the end of {day.isoformat()}.",
        )
    if fmt is None:
        return _not_acceptable(READ_FORMATS)
    content = changes.snapshot(store, found)
    if fmt is not HTML:
        copy = Graph()
        copy += content
        return _rdf(copy, fmt)
    names = labels(store, _terms(content))
    agreements = [
        {
            "title": changes.title(content, a),
            "href": local(str(a)),
            "dated": url_for("history.agreement_day", slug=str(a).rsplit("/", 1)[-1], day=day)
            if str(a).startswith(str(AGREEMENT))
            else None,
            "date": str(content.value(a, S22A.dateMade) or ""),
            "parties": sorted(names.get(str(p), str(p)) for p in content.objects(a, S22A.party)),
        }
        for a in changes.listed(content)
    ]
    agreements.sort(key=lambda a: str(a["title"]).casefold())
    return _respond(
        fmt,
        render_template(
            "history/day.html",
            force=force,
            name=force_name(store, force),
            day=day,
            version=found,
            agreements=agreements,
            formats=READ_FORMATS,
            base_path=f"/doc/register/{force}/{day.isoformat()}",
        ),
    )


@bp.get("/doc/agreement/<slug>/<day:day>")
@bp.get("/doc/agreement/<slug>/<day:day>.<ext>")
def agreement_day(slug: str, day: date, ext: str | None = None) -> Response:
    """What each register said about an agreement at the end of `day`."""
    store = get_store()
    agreement = AGREEMENT[slug]
    fmt = _format(READ_FORMATS, ext)
    stated: list[tuple[str, versions.Version, Graph]] = []
    if is_slug(slug):
        for register in changes.registers_with_history(store):
            found = changes.standing(versions.history(store, register), day)
            if found is None:
                continue
            content = changes.snapshot(store, found)
            if agreement in changes.listed(content):
                stated.append((register, found, content))
    if not stated or (ext and fmt is None):
        return problem(
            404,
            "Not listed on that day",
            f"No register listed the agreement “{slug}” at the end of {day.isoformat()}.",
        )
    if fmt is None:
        return _not_acceptable(READ_FORMATS)
    union = Graph()
    for register, _version, content in stated:
        union.add((URIRef(register), S22A.lists, agreement))
        union += changes.closure(content, agreement)
    if fmt is not HTML:
        return _rdf(union, fmt)
    names = labels(store, _terms(union))
    sections = [
        {
            "register": register,
            "force": register.rsplit("/", 1)[-1],
            "title": changes.title(content, agreement),
            "version": found,
            "rows": describe(content, agreement, names),
        }
        for register, found, content in stated
    ]
    return _respond(
        fmt,
        render_template(
            "history/agreement_day.html",
            slug=slug,
            day=day,
            sections=sections,
            iri=str(agreement),
            href=local(str(agreement)),
            formats=READ_FORMATS,
            base_path=f"/doc/agreement/{slug}/{day.isoformat()}",
        ),
    )
