"""The change feed: one Atom entry (RFC 4287) per agreement listed (again), amended, renewed,
replaced, signed, terminated or no longer listed, found by comparing each register version
with the one before it.

The first version of a register is its baseline and makes no entries (see `changes`).
Entries are newest first; each links to the agreement, the version that made the change
and the difference between the two versions. URLs come from the caller, because a feed
read on one server links to that server.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from rdflib.namespace import DCTERMS, RDFS

from s22a.history import changes, versions
from s22a.namespaces import AGREEMENT, BASE, S22A
from s22a.store import Store
from s22a.version import VERSION

ATOM = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
MAX_ENTRIES = 100
VERSIONS_PER_REGISTER = 50
CATEGORY_SCHEME = str(S22A)

PROPERTY_NAMES = {
    str(DCTERMS.title): "title",
    str(DCTERMS.alternative): "other names",
    str(RDFS.label): "label",
    str(RDFS.comment): "notes",
    str(S22A.purpose): "purpose",
    str(S22A.party): "parties",
    str(S22A.leadForce): "lead force",
    str(S22A.hostForce): "host force",
    str(S22A.partyGroup): "party group",
    str(S22A.scope): "scope",
    str(S22A.dateMade): "date",
    str(S22A.capability): "capabilities",
    str(S22A.governance): "governance",
    str(S22A.lifecycleEvent): "lifecycle events",
    str(S22A.notStated): "what is not stated",
    str(S22A.legalBasis): "legal basis",
    str(S22A.budget): "budget",
    str(S22A.coveredBy): "covered by",
}


@dataclass(frozen=True)
class Entry:
    """One change to one agreement, made by one version of one register."""

    change: changes.Change
    register: str
    version: versions.Version
    previous: versions.Version

    @property
    def force(self) -> str:
        """The slug of the force whose register this is."""
        return self.register.rstrip("/").rsplit("/", 1)[-1]


Link = tuple[str, str, str]  # rel, href, media type
Linker = Callable[[Entry], list[Link]]


def entries(store: Store, registers: list[str], limit: int = MAX_ENTRIES) -> list[Entry]:
    """The newest changes to the agreements of `registers`, newest first."""
    found: list[Entry] = []
    for register in registers:
        whole = versions.history(store, register)
        history = whole[-(VERSIONS_PER_REGISTER + 1) :]
        # What versions before each pair listed: an agreement back after a gap is "listed again".
        seen = (
            frozenset(
                str(a)
                for v in whole[: -len(history)]
                for a in changes.listed(changes.snapshot(store, v))
            )
            if len(whole) > len(history)
            else frozenset()
        )
        for previous, version in zip(history, history[1:], strict=False):
            for change in changes.changes_between(store, previous, version, seen):
                found.append(Entry(change, register, version, previous))
            seen |= {str(a) for a in changes.listed(changes.snapshot(store, previous))}
    found.sort(key=lambda e: (e.version.generated, e.register, e.change.agreement), reverse=True)
    return found[:limit]


def property_names(change: changes.Change) -> str:
    """The properties an amendment changed, in words."""
    names = [
        PROPERTY_NAMES.get(p, p.rsplit("#", 1)[-1].rsplit("/", 1)[-1]) for p in change.properties
    ]
    return ", ".join(dict.fromkeys(names))


def summary(entry: Entry, register_name: str) -> str:
    """One sentence saying what happened, for the entry's summary."""
    c, where = entry.change, f"{register_name}, version {entry.version.number}"
    if c.effect == "added":
        if c.kind == "replaced":
            return f"{where}, lists “{c.title}”, which replaces an earlier agreement."
        if c.kind == "signed":
            return f"{where}, lists “{c.title}” and records that it was signed."
        if c.kind == "listed-again":
            return f"{where}, lists “{c.title}” again."
        return f"{where}, lists “{c.title}”, which it did not list before."
    if c.effect == "removed":
        return f"{where}, no longer lists “{c.title}”."
    detail = {
        "renewed": "records that it was renewed",
        "replaced": "records that it replaced an earlier agreement",
        "retired": "records that it was terminated",
    }.get(c.kind, "changes what it says")
    return f"{where}, {detail} about “{c.title}” ({property_names(c)})."


def entry_id(entry: Entry) -> str:
    """A permanent, unique id for the entry: the version's IRI and the agreement."""
    agreement = entry.change.agreement
    if agreement.startswith(str(AGREEMENT)):
        fragment = agreement[len(str(AGREEMENT)) :]
    else:
        fragment = hashlib.sha256(agreement.encode("utf-8")).hexdigest()[:16]
    return f"{entry.version.iri}#{fragment}"


def _stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
    if text is not None:
        element.text = text
    return element


def atom(
    found: list[Entry],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    updated: datetime,
    links: Linker,
    names: dict[str, str],
) -> bytes:
    """The Atom document for `found`; `names` maps register IRIs to what to call them."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(
        feed,
        "subtitle",
        "Agreements listed, amended, renewed, replaced, terminated or no longer listed, "
        "as the forces' registers record them.",
    )
    _sub(feed, "updated", _stamp(max([updated, *(e.version.generated for e in found)])))
    _sub(feed, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    author = _sub(feed, "author")
    _sub(author, "name", "Section 22A Collaboration Register")
    _sub(author, "uri", BASE)
    _sub(feed, "generator", "s22a", uri=BASE, version=VERSION)
    for entry in found:
        change = entry.change
        name = names.get(entry.register, entry.force)
        element = _sub(feed, "entry")
        _sub(element, "id", entry_id(entry))
        _sub(element, "title", f"{change.label}: {change.title} ({name})")
        _sub(element, "updated", _stamp(entry.version.generated))
        _sub(element, "published", _stamp(entry.version.generated))
        for rel, href, media_type in links(entry):
            _sub(element, "link", rel=rel, type=media_type, href=href)
        _sub(element, "category", term=change.kind, scheme=CATEGORY_SCHEME, label=change.label)
        _sub(element, "summary", summary(entry, name), type="text")
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


@dataclass(frozen=True)
class ToConfirm:
    """An agreement another register names a force in, which the force's register does not
    list: when it was last stated, and what to call it."""

    agreement: str
    title: str
    stated: datetime
    link: str


def confirm_atom(
    items: list[ToConfirm],
    *,
    feed_id: str,
    title: str,
    self_url: str,
    alternate_url: str,
    updated: datetime,
) -> bytes:
    """The Atom document of a force's list to confirm: one entry per agreement, dated when a
    register naming the force in it last published a version."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, "id", feed_id)
    _sub(feed, "title", title)
    _sub(feed, "subtitle", "Agreements other registers name the force in, not in its register.")
    _sub(feed, "updated", _stamp(max([updated, *(i.stated for i in items)])))
    _sub(feed, "link", rel="self", type=MEDIA_TYPE, href=self_url)
    _sub(feed, "link", rel="alternate", type="text/html", href=alternate_url)
    author = _sub(feed, "author")
    _sub(author, "name", "Section 22A Collaboration Register")
    _sub(author, "uri", BASE)
    _sub(feed, "generator", "s22a", uri=BASE, version=VERSION)
    for item in sorted(items, key=lambda i: (i.stated, i.agreement), reverse=True):
        element = _sub(feed, "entry")
        digest = hashlib.sha256(f"{feed_id}|{item.agreement}".encode()).hexdigest()[:16]
        _sub(element, "id", f"{feed_id}/{digest}")
        _sub(element, "title", f"To confirm: {item.title}")
        _sub(element, "updated", _stamp(item.stated))
        _sub(element, "link", rel="alternate", type="text/html", href=item.link)
        _sub(
            element,
            "summary",
            f"Another register names this force as a party to “{item.title}”, "
            "which its own register does not list.",
            type="text",
        )
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
