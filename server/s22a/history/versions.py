"""The record of every load attempt and accepted register version (PROV-O, in the meta graph).

The records live in the store's metadata graph, so `/sparql` can query them:
each accepted version is an ``s22a:RegisterVersion`` (``prov:Entity``) and each
attempt an ``s22a:LoadAttempt`` (``prov:Activity``). Each listed agreement is a
UKGovLD register item (``reg:RegisterItem``) with a ``reg:status`` and the time the register
first listed it (``dcterms:dateSubmitted``, kept through later versions): which register
published an agreement first decides whose title and date lead (`read.attribution`).
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from rdflib import Graph, Literal, URIRef
from rdflib.namespace import PROV, XSD

from s22a.history import items
from s22a.namespaces import (
    GRAPH_ARCHIVE,
    GRAPH_META,
    GRAPH_RECONCILIATION,
    SPARQL_PREFIXES,
)
from s22a.store import Store

PREFIXES = SPARQL_PREFIXES


@dataclass(frozen=True)
class Version:
    """An accepted version of a register, as recorded in the meta graph."""

    iri: str
    register: str
    number: int
    generated: datetime
    content_hash: str
    triples: int
    agreements: int
    source: str | None = None
    etag: str | None = None
    last_modified: str | None = None


def now() -> Literal:
    """The current time as an xsd:dateTime literal (UTC, microseconds)."""
    return Literal(datetime.now(UTC).isoformat(timespec="microseconds"), datatype=XSD.dateTime)


def _n3(value: object) -> str:
    return (value if isinstance(value, URIRef | Literal) else Literal(value)).n3()


def history(store: Store, register: str, last: int | None = None) -> list[Version]:
    """Every accepted version of `register` (or its `last` ones), oldest first."""
    newest = f"ORDER BY DESC(?number) LIMIT {int(last)}" if last else "ORDER BY ?number"
    rows = store.select(
        PREFIXES
        + f"""
        SELECT ?version ?number ?time ?hash ?triples ?agreements ?source ?etag ?modified WHERE {{
          GRAPH <{GRAPH_META}> {{
            ?version a s22a:RegisterVersion ; dcterms:isVersionOf <{register}> ;
                s22a:versionNumber ?number ; prov:generatedAtTime ?time ;
                s22a:contentHash ?hash ; void:triples ?triples ; s22a:agreementCount ?agreements .
            OPTIONAL {{ ?version prov:wasDerivedFrom ?source }}
            OPTIONAL {{ ?version s22a:etag ?etag }}
            OPTIONAL {{ ?version s22a:lastModified ?modified }}
          }}
        }} {newest}"""
    )
    found = [
        Version(
            iri=str(row["version"]),
            register=register,
            number=int(row["number"]),
            generated=datetime.fromisoformat(str(row["time"])),
            content_hash=str(row["hash"]),
            triples=int(row["triples"]),
            agreements=int(row["agreements"]),
            source=str(row["source"]) if "source" in row else None,
            etag=str(row["etag"]) if "etag" in row else None,
            last_modified=str(row["modified"]) if "modified" in row else None,
        )
        for row in rows
    ]
    return sorted(found, key=lambda v: v.number)


def latest(store: Store, register: str) -> Version | None:
    """The current (newest accepted) version of `register`, if any."""
    versions = history(store, register, last=1)
    return versions[-1] if versions else None


class VersionConflict(Exception):
    """Another writer (another process, perhaps on another machine) recorded the register's
    next version first: nothing of this write was stored; read the register again and retry."""


def record_accepted(store: Store, register: str, **details: Any) -> str:
    """Record a newly accepted version, its content and its register items; return its IRI.

    `details` are `accepted_update`'s keywords. `content` is the register as N-Triples; it is
    archived (gzip, base64) in the archive graph so that history survives later versions
    without its triples joining the union. `withheld` maps agreements whose details are
    withheld to the provision (s23E): their register items say so, so that they read as
    withheld rather than as missing data. Raises `VersionConflict` if another writer took
    the version's number first.
    """
    version, update, guard = accepted_update(store, register, **details)
    store.update(PREFIXES + update)
    check_recorded(store, guard)
    return version


def check_recorded(store: Store, guard: str) -> None:
    """Raise `VersionConflict` unless the version whose `guard` this is was recorded."""
    if not store.ask(f"ASK {{ {guard} }}"):
        raise VersionConflict("another writer recorded this register's next version first")


def accepted_update(
    store: Store,
    register: str,
    *,
    content: bytes,
    source: str,
    content_hash: str,
    triples: int,
    agreements: list[str],
    warnings: int,
    withheld: dict[str, str] | None = None,
    etag: str | None = None,
    last_modified: str | None = None,
    exclusive: bool = False,
) -> tuple[str, str, str]:
    """The IRI of the next version of `register`, the SPARQL update that records it (see
    `record_accepted`; without a prologue, as `Then` has it: it uses the prefixes of
    `SPARQL_PREFIXES`), and its guard: a graph pattern that holds once this write's record
    is stored, for a caller that runs the update in the same transaction as the replacement
    of the register's graph (`Store.replace_graph`'s ``then`` and ``guard``).

    Writes are coordinated through the store, not a lock in one process: the update is a
    compare-and-set. Its first operation records version N only if the register has no
    version N (or later) yet; every later operation, and the graph replacement, holds only
    where that record is this write's (the guard names this write's own attempt). So of two
    processes that both read N - 1 as the latest, one stores version N and the other stores
    nothing and gets `VersionConflict`, where the store runs updates one after another. The
    stores tested do not (Oxigraph's server runs them side by side on snapshots) and let both
    pass: two `s22a serve` processes on either were acknowledged one number twice. So writers of a
    register also hold its lock (`s22a.ingest.gate.register_lock`, shared by every process
    through `S22A_LOCKS`), and this is the check behind it.

    `exclusive`: the caller holds the store's only write lock from this call until the
    update has run (the embedded store, `Store.replace_graph`'s ``then``), so nothing read
    here can change before it runs. The update is then the record's changes spelt out, worked
    out here from what is stored (`items.as_data`): DATA operations only, which Oxigraph applies
    about twice as fast as templates, and under which the graph's own replacement needs no
    guard either (8.1 -> 3.6 s for a 98,000-triple register, bench/README.md).
    """
    withheld = withheld or {}
    previous = latest(store, register)
    number = previous.number + 1 if previous else 1
    version = URIRef(f"{register}/version/{number}")
    attempt = URIRef(f"{register}/attempt/{uuid.uuid4().hex}")
    guard = f"GRAPH <{GRAPH_META}> {{ <{attempt}> <{PROV.generated}> <{version}> }}"
    stamp = now()
    optional = ""
    if etag:
        optional += f" ; s22a:etag {_n3(etag)}"
    if last_modified:
        optional += f" ; s22a:lastModified {_n3(last_modified)}"
    source_term = URIRef(source) if "://" in source else Literal(source)
    record = f"""
            {version.n3()} a s22a:RegisterVersion, prov:Entity ;
                dcterms:isVersionOf <{register}> ; s22a:versionNumber {number} ;
                prov:generatedAtTime {stamp.n3()} ; prov:wasDerivedFrom {source_term.n3()} ;
                s22a:contentHash {_n3(content_hash)} ; void:triples {triples} ;
                s22a:agreementCount {len(agreements)} ; s22a:warningCount {warnings} ;
                reg:status reg:statusValid {optional} .
            {attempt.n3()} a s22a:LoadAttempt, prov:Activity ; s22a:register <{register}> ;
                prov:startedAtTime {stamp.n3()} ; prov:used {source_term.n3()} ;
                s22a:outcome s22a:Accepted ; prov:generated {version.n3()} ."""
    archive = (
        f"GRAPH <{GRAPH_ARCHIVE}> {{ {version.n3()} s22a:snapshot {_snapshot(content).n3()} . }}"
    )
    if exclusive:
        update = items.as_data(store, register, record, archive, agreements, withheld, stamp)
        if update is not None:
            return str(version), update, guard
    item_iris = " ".join(f"<{items.item(register, a)}>" for a in agreements)
    listed = "\n".join(items.turtle(register, a, withheld.get(a)) for a in agreements)
    # Blank nodes (the items' definitions) go in INSERT ... WHERE, not INSERT DATA: Virtuoso
    # takes none in INSERT DATA.
    update = f"""
        INSERT {{
          GRAPH <{GRAPH_META}> {{ {record}
          }}
          {archive}
        }} WHERE {{
          FILTER NOT EXISTS {{ GRAPH <{GRAPH_META}> {{
            ?taken dcterms:isVersionOf <{register}> ; s22a:versionNumber ?n FILTER(?n >= {number})
          }} }}
        }} ;
        DELETE {{ GRAPH <{GRAPH_META}> {{ ?old reg:status reg:statusValid }} }}
        INSERT {{ GRAPH <{GRAPH_META}> {{ ?old reg:status reg:statusSuperseded }} }}
        WHERE {{ {guard} GRAPH <{GRAPH_META}> {{
            ?old a s22a:RegisterVersion ; dcterms:isVersionOf <{register}> ;
                 reg:status reg:statusValid FILTER(?old != {version.n3()}) }} }} ;
        DELETE {{ GRAPH <{GRAPH_META}> {{ ?item reg:status reg:statusValid }} }}
        INSERT {{ GRAPH <{GRAPH_META}> {{ ?item reg:status reg:statusRetired }} }}
        WHERE {{ {guard} GRAPH <{GRAPH_META}> {{
            ?item reg:register <{register}> ; reg:status reg:statusValid }} }} ;
        DELETE {{ GRAPH <{GRAPH_META}> {{ ?item ?p ?o . ?def ?dp ?do }} }}
        WHERE {{ {guard} GRAPH <{GRAPH_META}> {{
            ?item a reg:RegisterItem ; reg:register <{register}> ; ?p ?o .
            FILTER(?p != dcterms:dateSubmitted)
            OPTIONAL {{ ?item reg:definition ?def . ?def ?dp ?do }}
            VALUES ?item {{ {item_iris} }}
        }} }} ;
        INSERT {{ GRAPH <{GRAPH_META}> {{ ?item dcterms:dateSubmitted {stamp.n3()} }} }}
        WHERE {{ {guard} VALUES ?item {{ {item_iris} }}
            FILTER NOT EXISTS {{ GRAPH <{GRAPH_META}> {{ ?item dcterms:dateSubmitted ?t }} }} }} ;
        INSERT {{ GRAPH <{GRAPH_META}> {{
          {listed}
        }} }} WHERE {{ {guard} }}"""
    return str(version), update, guard


def _snapshot(content: bytes) -> Literal:
    return Literal(
        base64.b64encode(gzip.compress(content, mtime=0)).decode("ascii"),
        datatype=XSD.base64Binary,
    )


def snapshot(store: Store, version: str) -> Graph:
    """The register as it stood in `version` (an rdflib Graph; empty if unknown)."""
    rows = store.select(
        f"SELECT ?data WHERE {{ GRAPH <{GRAPH_ARCHIVE}> {{ <{version}> "
        f"<https://w3id.org/s22a/def/s22a#snapshot> ?data }} }}"
    )
    graph = Graph()
    if rows:
        content = gzip.decompress(base64.b64decode(str(rows[0]["data"])))
        graph.parse(data=content, format="nt")
    return graph


@dataclass(frozen=True)
class DatasetState:
    """What validators and caches key on: a token that changes with every change of data."""

    token: str
    modified: datetime | None


def dataset_state(store: Store, *, reconciliation: bool = True) -> DatasetState:
    """The dataset's state: changes whenever a register version is accepted, reference data
    reloads or (unless `reconciliation` is False: the state of what the report is computed
    from) a new reconciliation report is stored; `modified` is when the newest register version
    was accepted."""
    leave_out = "" if reconciliation else f"FILTER(?graph != <{GRAPH_RECONCILIATION}>)"
    rows = store.select(
        PREFIXES
        + f"""SELECT ?n ?latest ?reference WHERE {{ GRAPH <{GRAPH_META}> {{
              {{ SELECT (COUNT(?v) AS ?n) (MAX(?t) AS ?latest) WHERE {{
                   ?v a s22a:RegisterVersion ; prov:generatedAtTime ?t }} }}
              {{ SELECT (GROUP_CONCAT(?h; separator=" ") AS ?reference) WHERE {{
                   ?graph s22a:contentHash ?h FILTER NOT EXISTS {{ ?graph a ?type }} {leave_out}
              }} }}
            }} }}"""
    )
    row = rows[0] if rows else {}
    reference = hashlib.sha256(str(row.get("reference", "")).encode()).hexdigest()[:12]
    latest = row.get("latest")
    modified = datetime.fromisoformat(str(latest)) if latest is not None else None
    return DatasetState(f"{row.get('n', 0)}-{latest or ''}-{reference}", modified)


def current_state(store: Store) -> DatasetState:
    """`dataset_state`, read again only when the store may have changed since it was last read
    (its change clock, `s22a.store.changes`): what the read side keys its caches by."""
    return store.changes.derived("state", lambda: dataset_state(store))


def dataset_version(store: Store) -> str:
    """A token that changes whenever the data changes (for ETags and caches)."""
    return current_state(store).token


def record_attempt(
    store: Store,
    register: str,
    *,
    source: str,
    outcome: str,
    reason: str | None = None,
    violations: int | None = None,
) -> None:
    """Record a load attempt that did not produce a new version (unchanged or refused)."""
    stamp = now()
    attempt = URIRef(f"{register}/attempt/{uuid.uuid4().hex}")
    source_term = URIRef(source) if "://" in source else Literal(source)
    extra = ""
    if reason:
        extra += f" ; s22a:reason {_n3(reason)}"
    if violations is not None:
        extra += f" ; s22a:violationCount {violations}"
    store.update(
        PREFIXES
        + f"""
        INSERT DATA {{ GRAPH <{GRAPH_META}> {{
          {attempt.n3()} a s22a:LoadAttempt, prov:Activity ; s22a:register <{register}> ;
              prov:startedAtTime {stamp.n3()} ; prov:used {source_term.n3()} ;
              s22a:outcome s22a:{outcome} {extra} .
        }} }}"""
    )


def attempts(store: Store, register: str) -> list[dict[str, str]]:
    """Every load attempt for `register`, newest first, as outcome / time / reason."""
    rows = store.select(
        PREFIXES
        + f"""
        SELECT ?attempt ?outcome ?time ?reason WHERE {{ GRAPH <{GRAPH_META}> {{
            ?attempt a s22a:LoadAttempt ; s22a:register <{register}> ;
                     s22a:outcome ?outcome ; prov:startedAtTime ?time .
            OPTIONAL {{ ?attempt s22a:reason ?reason }} }} }}
        ORDER BY DESC(?time) DESC(STR(?attempt))"""
    )
    return [
        {
            "attempt": str(r["attempt"]),
            "outcome": str(r["outcome"]).rsplit("#", 1)[-1],
            "time": str(r["time"]),
            "reason": str(r.get("reason", "")),
        }
        for r in rows
    ]
