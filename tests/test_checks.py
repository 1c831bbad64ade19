"""A catalogue load checks big registers in worker processes (`s22a.ingest.checks`): what it
stores and what it refuses, and why, are as when every register is checked in this process."""

from __future__ import annotations

from pathlib import Path

import pytest
from rdflib.compare import isomorphic

from s22a.ingest import checks
from s22a.ingest.load import load_catalog
from s22a.namespaces import register_iri
from s22a.store import open_store

REGISTERS = Path(__file__).resolve().parents[1] / "data" / "registers"


def catalogue(folder: Path) -> Path:
    """The seed registers, and three to refuse: one naming another force than its catalogue
    entry's, one unreadable, one invalid."""
    lancashire = (REGISTERS / "lancashire.ttl").read_text()
    assert "s22a:force force:lancashire ;" in lancashire
    files = {slug: (REGISTERS / f"{slug}.ttl").read_text() for slug in (
        "cheshire", "leicestershire", "merseyside", "north-wales")}  # fmt: skip
    files["lancashire"] = lancashire.replace(
        "s22a:force force:lancashire ;", "s22a:force force:cumbria ;"
    )
    files["durham"] = "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .\n<a> s22a:lists ."
    files["kent"] = (  # a register without its force or any agreement
        "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .\n"
        "<https://w3id.org/s22a/id/register/kent> a s22a:Register ."
    )
    lines = [
        "@prefix dcat: <http://www.w3.org/ns/dcat#> .",
        "@prefix s22a: <https://w3id.org/s22a/def/s22a#> .",
    ]
    for slug, text in files.items():
        path = folder / f"{slug}.ttl"
        path.write_text(text)
        lines.append(
            f"<{register_iri(slug)}> a dcat:Dataset ; "
            f"s22a:force <https://w3id.org/s22a/id/force/{slug}> ; "
            f"dcat:distribution [ dcat:downloadURL <{path.as_uri()}> ] ."
        )
    path = folder / "catalog.ttl"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_registers_checked_in_worker_processes_are_loaded_as_if_checked_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = catalogue(tmp_path)
    loads = {}
    for where, worker_bytes in (("here", checks.WORKER_BYTES), ("workers", 0)):
        monkeypatch.setattr(checks, "WORKER_BYTES", worker_bytes)
        with open_store("memory:") as store:
            outcomes = load_catalog(store, path)
            graphs = {r: store.graph_triples(r) for r in store.graphs() if "/register/" in r}
        loads[where] = outcomes, graphs
    (here, here_graphs), (workers, worker_graphs) = loads["here"], loads["workers"]

    def said(outcomes: list) -> list[tuple]:
        return [(o.register, o.outcome, o.reason, o.triples, o.agreements, o.warnings,
                 [f.message for f in o.findings]) for o in outcomes]  # fmt: skip

    assert said(workers) == said(here)
    by_slug = {o.register.rsplit("/", 1)[-1]: o for o in workers}
    assert {s for s, o in by_slug.items() if o.outcome == "Accepted"} == {
        "cheshire", "leicestershire", "merseyside", "north-wales"}  # fmt: skip
    assert any("a register speaks only for its own force" in f.message
               for f in by_slug["lancashire"].findings)  # fmt: skip
    assert by_slug["durham"].reason.startswith("cannot be read")
    assert by_slug["kent"].reason.startswith("invalid")
    # Checked in a worker: the result came back without its graphs.
    assert all(o.validation.agreements is not None for o in workers if o.validation)
    assert not any(o.validation.agreements is not None for o in here if o.validation)
    assert worker_graphs.keys() == here_graphs.keys() and len(here_graphs) == 4
    for register, graph in here_graphs.items():
        assert isomorphic(worker_graphs[register], graph), register
