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
from typing import TypeVar

from flask import Blueprint, Response, render_template, request, url_for
from rdflib import Graph, Literal, URIRef

from s22a.history import changes, versions
from s22a.namespaces import (
    AGREEMENT,
    S22A,
    bind_prefixes,
    is_slug,
    register_iri,
)
from s22a.read.facts import with_labels
from s22a.read.listing import Page, page_args
from s22a.read.rows import (
    iris_in,
    ntriples_lines,
    reference_labels,
    register_name,
    statements,
    triple_rows,
)
from s22a.store import Store, get_store
from s22a.web import conneg, rdf
from s22a.web.conneg import (
    DIFF_FORMATS,
    HTML,
    JSON,
    LIST_FORMATS,
    NQUADS,
    READ_FORMATS,
    TRIG,
    Format,
)
from s22a.web.http import add_vary, local, problem, version_url

bp = Blueprint("history", __name__)


# ---------------------------------------------------------------------------
# Helpers


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
    add_vary(response, "Accept")
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
            name=register_name(store, force),
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
    everything = sorted(
        ({"title": changes.title(content, a), "href": local(str(a))} for a in listed),
        key=lambda a: a["title"].casefold(),
    )
    paging = _paging(max(len(everything), len(found_changes)))
    return _respond(
        fmt,
        render_template(
            "history/version.html",
            force=force,
            name=register_name(store, force),
            version=found,
            previous=previous,
            changes=_slice(found_changes, paging),
            retired=found.iri in changes.retired_versions(store, register_iri(force)),
            agreements=_slice(everything, paging),
            count=len(everything),
            page=paging,
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
            rdf.serialize_dataset(
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
            "added": sorted(t.strip() for t in ntriples_lines(added)),
            "removed": sorted(t.strip() for t in ntriples_lines(removed)),
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
    names = reference_labels(store, iris_in(added) + iris_in(removed))
    paging = _paging(max(len(added), len(removed), len(agreement_changes)))
    return _respond(
        fmt,
        render_template(
            "history/diff.html",
            force=force,
            name=register_name(store, force),
            first=first,
            second=second,
            changes=_slice(agreement_changes, paging),
            added=_slice(triple_rows(added, names), paging),
            removed=_slice(triple_rows(removed, names), paging),
            counts={"added": len(added), "removed": len(removed)},
            page=paging,
            formats=DIFF_FORMATS,
        ),
    )


# A page of a version or a difference shows this many of its agreements and of its triples
# each; the data formats (TriG, N-Quads, JSON, RDF) have them all.
HISTORY_ROWS = 500
T = TypeVar("T")


def _paging(total: int) -> Page:
    """The page of `total` rows the request asks for (`?page=`)."""
    number = page_args(request.args.get("page"), None, None, {"": ("", "")})[0]
    return Page(rows=[], number=number, size=HISTORY_ROWS, total=total, sort="", sorts={})


def _slice(rows: Sequence[T], page: Page) -> list[T]:
    return list(rows[(page.number - 1) * page.size : page.number * page.size])


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
    names = reference_labels(store, iris_in(content))
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
            name=register_name(store, force),
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
    names = reference_labels(store, iris_in(union))
    # Notes name agreements as `agreement:slug`; the page shows their names.
    notes = [str(o) for o in union.objects() if isinstance(o, Literal)]
    labels = with_labels(store, {"notes": notes})["labels"]
    sections = [
        {
            "register": register,
            "name": register_name(store, register.rsplit("/", 1)[-1]),
            "title": changes.title(content, agreement),
            "version": found,
            "rows": statements(content, agreement, names, local),
        }
        for register, found, content in stated
    ]
    return _respond(
        fmt,
        render_template(
            "history/agreement_day.html",
            slug=slug,
            labels=labels,
            day=day,
            sections=sections,
            iri=str(agreement),
            href=local(str(agreement)),
            formats=READ_FORMATS,
            base_path=f"/doc/agreement/{slug}/{day.isoformat()}",
        ),
    )
