"""The record of each accepted version (`versions.accepted_update`) is the same whichever way it
is written: by the embedded store as DATA worked out under its one write lock, or by a remote
store (Oxigraph's server) as the guarded compare-and-set update."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from rdflib import URIRef
from rdflib.namespace import DCTERMS, PROV

from s22a import resources
from s22a.history import versions
from s22a.ingest.gate import accept_register
from s22a.namespaces import GRAPH_META, REG, REGISTER
from s22a.store import OxigraphStore, RemoteStore, Store
from tests.support.oxigraph import OxigraphServer

CHESHIRE = str(REGISTER["cheshire"])
BLUELIGHT = "https://w3id.org/s22a/id/agreement/cheshire-bluelight-collaboration"


def _versions_of_cheshire() -> list[bytes]:
    """Five versions: the bundled register; without one agreement (its item retired); the
    bundled one again (listed again, first submitted at version 1); a register of other
    agreements, one withheld (s23E); the bundled one again."""
    [path] = [p for p in resources.register_paths() if p.name == "cheshire.ttl"]
    text = path.read_text()
    unlisted = text.replace("agreement:cheshire-bluelight-collaboration ,", "", 1)
    unlisted = re.sub(
        r"\nagreement:cheshire-bluelight-collaboration a .*?\n\n", "\n", unlisted, flags=re.S
    )
    assert BLUELIGHT.rsplit("/", 1)[1] not in unlisted
    withheld = (Path(__file__).parent / "fixtures" / "valid" / "withheld.ttl").read_text()
    return [text.encode(), unlisted.encode(), text.encode(), withheld.encode(), text.encode()]


def _record(store: Store) -> dict[str, object]:
    """Cheshire's versions and items as they stand, with what differs between runs (times,
    attempts, blank nodes) replaced: an item's first submission by the version it came with."""
    meta = f"GRAPH <{GRAPH_META}>"
    numbered = {
        str(v.generated.isoformat(timespec="microseconds")): v.number
        for v in versions.history(store, CHESHIRE)
    }
    statuses = {
        str(row["v"]): str(row["status"])
        for row in store.select(
            f"SELECT ?v ?status WHERE {{ {meta} {{ ?v <{DCTERMS.isVersionOf}> <{CHESHIRE}> ; "
            f"<{REG.status}> ?status }} }}"
        )
    }
    items: dict[str, set[tuple[str, str]]] = {}
    for row in store.select(
        f"SELECT ?item ?p ?o WHERE {{ {meta} {{ ?item <{REG.register}> <{CHESHIRE}> ; ?p ?o }} }}"
    ):
        p, o = URIRef(row["p"]), row["o"]
        if p == DCTERMS.dateSubmitted:
            value = f"version {numbered[o.toPython().isoformat(timespec='microseconds')]}"
        elif p == REG.definition:
            [entity] = store.select(
                f"SELECT ?e WHERE {{ {meta} {{ <{row['item']}> "
                f"<{REG.definition}>/<{REG.entity}> ?e }} }}"
            )
            value = f"definition of {entity['e']}"
        else:
            value = str(o)
        items.setdefault(str(row["item"]), set()).add((str(p), value))
    attempts = store.select(
        f"SELECT (COUNT(*) AS ?n) WHERE {{ {meta} {{ ?a <{PROV.generated}> ?v . "
        f"?v <{DCTERMS.isVersionOf}> <{CHESHIRE}> }} }}"
    )
    return {"statuses": statuses, "items": items, "attempts": int(attempts[0]["n"])}


def _write_versions(store: Store) -> list[dict[str, object]]:
    """Accept each version of Cheshire's register in turn; the record after each."""
    records = []
    for data in _versions_of_cheshire():
        outcome = accept_register(
            store,
            CHESHIRE,
            data,
            name="cheshire.ttl",
            source="https://example.org/cheshire.ttl",
            refresh_reconciliation=False,
        )
        assert outcome.outcome == "Accepted", outcome.reason
        records.append(_record(store))
    return records


@pytest.fixture(scope="module")
def guarded() -> Iterator[list[dict[str, object]]]:
    """The records as Oxigraph's server stores them: the guarded update."""
    with OxigraphServer() as server, RemoteStore(server.url) as store:
        yield _write_versions(store)


def test_the_embedded_store_records_versions_as_a_remote_store_does(
    guarded: list[dict[str, object]], tmp_path: Path
) -> None:
    with OxigraphStore(tmp_path / "store") as store:
        embedded = _write_versions(store)
    assert embedded == guarded


def test_the_records_say_what_each_version_changed(guarded: list[dict[str, object]]) -> None:
    bluelight = CHESHIRE + "/item/" + BLUELIGHT.rsplit("/", 1)[1]
    status = f"{REG.status}"

    def of(record: dict[str, object], item: str) -> dict[str, str]:
        return dict(record["items"][item])  # type: ignore[index]

    first, unlisted, again, withheld, last = guarded
    assert of(first, bluelight)[status] == str(REG.statusValid)
    assert of(unlisted, bluelight)[status] == str(REG.statusRetired)
    # Listed again: valid, first submitted with version 1 still, one definition.
    assert of(again, bluelight) == of(first, bluelight)
    assert of(again, bluelight)[f"{DCTERMS.dateSubmitted}"] == "version 1"
    assert sum(p == str(REG.definition) for p, _ in again["items"][bluelight]) == 1  # type: ignore[index]
    withholding = "https://w3id.org/s22a/def/s22a#withheldUnder"
    [(item, provision)] = [
        (item, said[withholding])
        for item, said in ((i, dict(p)) for i, p in withheld["items"].items())  # type: ignore[attr-defined]
        if withholding in said
    ]
    assert provision.endswith("/section/23E")
    assert of(withheld, item)[status] == str(REG.statusValid)
    assert of(last, item)[status] == str(REG.statusRetired)  # the bundled one does not list it
    # One valid version at a time; each write one attempt generating it.
    assert sorted(last["statuses"].values()) == [  # type: ignore[attr-defined]
        *[str(REG.statusSuperseded)] * 4,
        str(REG.statusValid),
    ]
    assert last["attempts"] == 5


def test_a_stray_definition_is_replaced_by_the_guarded_update(tmp_path: Path) -> None:
    """An item with a definition it would not be given (here a second one, written by hand):
    DATA cannot delete a blank node, so the embedded store writes the record guarded."""
    bluelight = CHESHIRE + "/item/" + BLUELIGHT.rsplit("/", 1)[1]
    first, *_ = _versions_of_cheshire()
    with OxigraphStore(tmp_path / "store") as store:
        assert (
            accept_register(
                store, CHESHIRE, first, name="c.ttl", source="test", refresh_reconciliation=False
            ).outcome
            == "Accepted"
        )
        store.update(
            f"INSERT DATA {{ GRAPH <{GRAPH_META}> {{ <{bluelight}> <{REG.definition}> "
            f"[ <{REG.entity}> <https://example.org/another> ] }} }}"
        )
        again = (
            first
            + b"\n# a new version\n<https://w3id.org/s22a/id/register/cheshire> "
            + (b'<http://purl.org/dc/terms/description> "revised"@en .\n')
        )
        assert (
            accept_register(
                store, CHESHIRE, again, name="c.ttl", source="test", refresh_reconciliation=False
            ).outcome
            == "Accepted"
        )
        entities = store.select(
            f"SELECT ?e WHERE {{ GRAPH <{GRAPH_META}> {{ <{bluelight}> "
            f"<{REG.definition}>/<{REG.entity}> ?e }} }}"
        )
        assert [str(row["e"]) for row in entities] == [BLUELIGHT]
        assert _record(store)["attempts"] == 2
