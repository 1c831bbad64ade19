"""Running pySHACL where each kind of shape is fast, for `s22a.ingest.validation`.

The SHACL Core constraints run on rdflib's in-memory graph, where pySHACL's many small look-ups
are fast; the SHACL-SPARQL constraints and the statement shapes on the same data held by
Oxigraph (through oxrdflib), where a query over 100,000 triples takes milliseconds instead of
rdflib's seconds. bench/validate.py and bench/statements.py compare both with plain pySHACL.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterator
from typing import Any

import pyoxigraph as ox
import pyshacl
from oxrdflib import OxigraphStore
from rdflib import Graph
from rdflib.graph import DATASET_DEFAULT_GRAPH_ID
from rdflib.store import Store
from rdflib.term import Node

from s22a.reference import context_graph
from s22a.store import to_oxigraph

# pyshacl runs the shapes' SPARQL constraints through rdflib, whose query parser (pyparsing)
# is not thread-safe (RDFLib/rdflib#1282): two validations at once in a threaded server fail at
# random with parser errors. Validation is CPU-bound Python, so one at a time costs little.
LOCK = threading.Lock()


def on_oxigraph(register: Graph, *, with_context: bool = False) -> Graph:
    """The register (with the ontology and reference data if `with_context`) as an rdflib graph
    held by Oxigraph, so that pySHACL's SPARQL runs there.

    rdflib's SPARQL takes tens of seconds over 100,000 triples; Oxigraph, milliseconds.
    """
    return _held(list(_quads(register)), with_context)


def on_oxigraph_both(register: Graph) -> tuple[Graph, Graph]:
    """`on_oxigraph` with and without the context, the register's terms converted once."""
    quads = list(_quads(register))
    return _held(quads, True), _held(quads, False)


def _held(quads: list[ox.Quad], with_context: bool) -> Graph:
    store = ox.Store()
    if with_context:
        store.bulk_extend(_context_quads())
    store.bulk_extend(quads)
    return Graph(store=_CountedStore(store=store), identifier=DATASET_DEFAULT_GRAPH_ID)


class _CountedStore(OxigraphStore):
    """oxrdflib's store, counting its triples once until the next write.

    pySHACL tests the data graph's truth (`datagraph or shapes`) twice for every result it
    reports, which is `len()`; oxrdflib answers that with a COUNT over the whole store, so a
    register with many findings took time growing with findings x triples (46 s of SPARQL
    constraints for 1,000 agreements with 190 warnings; bench/validate.py). Validation only
    reads the store, so the count is kept; any write forgets it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lengths: dict[object, int] = {}

    def __len__(self, context: Graph | None = None) -> int:
        key = None if context is None else context.identifier
        if key not in self._lengths:
            self._lengths[key] = super().__len__(context)
        return self._lengths[key]

    def add(self, *args: Any, **kwargs: Any) -> None:
        self._lengths.clear()
        super().add(*args, **kwargs)

    def addN(self, *args: Any, **kwargs: Any) -> None:
        self._lengths.clear()
        super().addN(*args, **kwargs)

    def remove(self, *args: Any, **kwargs: Any) -> None:
        self._lengths.clear()
        super().remove(*args, **kwargs)

    def update(self, *args: Any, **kwargs: Any) -> None:
        self._lengths.clear()
        super().update(*args, **kwargs)

    def remove_graph(self, graph: Graph) -> None:
        self._lengths.clear()
        super().remove_graph(graph)


@functools.cache
def _context_quads() -> tuple[ox.Quad, ...]:
    """The ontology and reference data as Oxigraph quads (made once per process)."""
    return tuple(_quads(context_graph()))


def _quads(register: Graph) -> Iterator[ox.Quad]:
    # Each term converted once (predicates, forces and agreements recur in many triples); a
    # blank node keeps its own label: a result's blank node is the register's.
    converted: dict[Node, ox.NamedNode | ox.BlankNode | ox.Literal] = {}

    def term(node: Node) -> ox.NamedNode | ox.BlankNode | ox.Literal:
        found = converted.get(node)
        if found is None:
            found = converted[node] = to_oxigraph(node)  # type: ignore[arg-type]
        return found

    return (ox.Quad(term(s), term(p), term(o)) for s, p, o in register)  # type: ignore[arg-type]


class _Parameters(list[Any]):
    """pySHACL's list of constraint parameters, looked up through a set."""

    def __init__(self, parameters: list[Any]):
        super().__init__(parameters)
        self._set = frozenset(parameters)

    def __contains__(self, item: object) -> bool:
        return item in self._set


def _index_constraint_parameters() -> None:
    """Let pySHACL find a shape's constraint parameters by hashing, not by scanning a list.

    For every shape it evaluates (once per value node of a nested sh:node or sh:or shape)
    pySHACL tests each of the shape's predicates with `in` against its list of about 40
    parameters (pyshacl/shape.py), comparing URIRefs in Python: 40% of the Core constraints'
    time on a big register. It keeps that list in a cache attribute of its `shape` module,
    filled on first use; filled here first with the same parameters in the same order, only
    the `in` test changes. Where a pySHACL version lacks the cache, nothing is done.
    """
    try:
        from pyshacl import shape
        from pyshacl.constraints import ALL_CONSTRAINT_PARAMETERS, CONSTRAINT_PARAMETERS_MAP
    except ImportError:  # pragma: no cover - another pySHACL layout: its own lookup stays
        return
    if getattr(shape, "CONSTRAINT_PARAMS", None) is None and hasattr(shape, "module"):
        shape.CONSTRAINT_PARAMS = (  # type: ignore[attr-defined]
            _Parameters(ALL_CONSTRAINT_PARAMETERS),
            CONSTRAINT_PARAMETERS_MAP,
        )


_index_constraint_parameters()


def run(data: Graph, shapes: Graph) -> Graph:
    """pySHACL's report of `data` against `shapes` (SHACL Core and SHACL-SPARQL)."""
    _conforms, report, _text = pyshacl.validate(
        data,
        shacl_graph=shapes,
        inference="none",
        abort_on_first=False,
        allow_warnings=True,
        allow_infos=True,
        meta_shacl=False,
        advanced=False,
        js=False,
        inplace=True,  # `data` is made for this validation; copying it would only cost time
    )
    return report


def with_context(register: Graph) -> Graph:
    """`register` with the ontology and reference data, as one graph for pySHACL to read:
    neither is copied or changed (`_Beside`)."""
    return Graph(store=_Beside(register, context_graph()))


class _Beside(Store):
    """Two graphs read as one, neither copied nor changed.

    Adding the ontology and reference data to a register and taking them out again cost more
    than validating it once the screen passes its agreements (1,810 triples each way: 0.14 s a
    register of a load, bench/load.py); a copy of a big register, hundreds of MiB at the peak of
    a write (bench/upload.py). A triple both graphs hold is read once.
    """

    # pySHACL reads its data graph through an rdflib Dataset, which asks for both.
    context_aware = True
    graph_aware = True

    def __init__(self, first: Graph, second: Graph) -> None:
        super().__init__()
        self._first, self._second = first, second
        # By subject first: most of the second graph's subjects are not in the first at all.
        shared = {s for s in set(second.subjects()) if (s, None, None) in first}
        self._both = {t for s in shared for t in second.triples((s, None, None)) if t in first}

    def triples(
        self, pattern: tuple[Node | None, Node | None, Node | None], context: Graph | None = None
    ) -> Iterator[tuple[tuple[Node, Node, Node], Iterator[Graph]]]:
        for triple in self._first.triples(pattern):
            yield triple, iter(())
        for triple in self._second.triples(pattern):
            if triple not in self._both:
                yield triple, iter(())

    def __len__(self, context: Graph | None = None) -> int:
        return len(self._first) + len(self._second) - len(self._both)
