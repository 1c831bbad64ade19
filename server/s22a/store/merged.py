"""The merged graph of a remote store: the updates that keep `MERGED_GRAPH` the RDF merge of
the store's graphs (all but `UNMERGED`), each triple once, as graphs are replaced and dropped
(see `s22a.store.base`, "Merged graph", and `RemoteStore`)."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

from s22a.namespaces import GRAPH_ARCHIVE, GRAPH_META
from s22a.store import changes
from s22a.store.base import HIDDEN_MARK, MERGED_GRAPH, is_staging

# Graphs left out of the merged graph: the meta graph changes with every write by updates
# of its own (kept as a default graph beside it), and the archive is never queried.
UNMERGED = (GRAPH_META, GRAPH_ARCHIVE)


def merged(graph: str) -> bool:
    """Whether `graph`'s triples belong in `MERGED_GRAPH`."""
    return graph not in UNMERGED and not is_staging(graph)


def _counts(variable: str, *besides: str) -> str:
    """A FILTER keeping the graphs named by `variable` whose triples are merged, but `besides`."""
    left_out = ", ".join(f"<{g}>" for g in (*UNMERGED, *besides))
    return f'FILTER({variable} NOT IN ({left_out}) && !CONTAINS(STR({variable}), "{HIDDEN_MARK}"))'


def unmerge(graph: str, replacement: str | None = None, guard: str | None = None) -> str:
    """The update removing from `MERGED_GRAPH` the triples of `graph` that no other merged
    graph states (nor `replacement`, the staging graph taking its place), where `guard` holds."""
    kept = f"FILTER NOT EXISTS {{ GRAPH <{replacement}> {{ ?s ?p ?o }} }} " if replacement else ""
    return (
        f"DELETE {{ GRAPH <{MERGED_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ {guard or ''} "
        f"GRAPH <{graph}> {{ ?s ?p ?o }} {kept}"
        f"FILTER NOT EXISTS {{ GRAPH ?other {{ ?s ?p ?o }} {_counts('?other', graph)} }} }}"
    )


def remerge(staging: str, guard: str | None = None) -> str:
    """The update adding the triples of `staging` to `MERGED_GRAPH`, where `guard` holds."""
    return (
        f"INSERT {{ GRAPH <{MERGED_GRAPH}> {{ ?s ?p ?o }} }} "
        f"WHERE {{ {guard or ''} GRAPH <{staging}> {{ ?s ?p ?o }} }}"
    )


def merge_everything() -> str:
    """The update adding every merged graph's triples to `MERGED_GRAPH` (a set: each lands
    once), for data that did not come through `RemoteStore.replace_graph`."""
    return (
        f"INSERT {{ GRAPH <{MERGED_GRAPH}> {{ ?s ?p ?o }} }} "
        f"WHERE {{ GRAPH ?g {{ ?s ?p ?o }} {_counts('?g')} }}"
    )


def merged_lock(graph: str) -> AbstractContextManager[None]:
    """The lock an update of `graph` takes if it also updates `MERGED_GRAPH`: one for the whole
    store (and every process sharing `S22A_LOCKS`). Two registers' updates run side by side on a
    snapshot-isolated server would each decide from a snapshot without the other's change
    whether a triple both state stays in the merged graph."""
    return changes.exclusive("merged-graph.lock") if merged(graph) else nullcontext()
