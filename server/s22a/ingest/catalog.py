"""The DCAT catalogue of registers: which force's register comes from where.

A source is a local file, an http(s) URL to harvest, or a SPARQL endpoint (`Source.kind`).
"""

from __future__ import annotations

import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from rdflib import Graph
from rdflib.namespace import DCAT, RDF

from s22a import resources
from s22a.namespaces import S22A


@dataclass(frozen=True)
class Source:
    """Where one force's register comes from, as the catalogue says."""

    register: str
    force: str | None
    kind: str  # "file", "url" or "sparql"
    location: str
    endpoint_graph: str | None = None

    @property
    def label(self) -> str:
        """A short name for progress output: the register's slug."""
        return self.register.rstrip("/").rsplit("/", 1)[-1]


def read_catalog(path: str | Path | None = None) -> list[Source]:
    """Read a DCAT catalogue and return its register sources, in catalogue order."""
    path = Path(path) if path else resources.catalog_path()
    graph = Graph().parse(path, format="turtle")
    sources = []
    for dataset in sorted(graph.subjects(RDF.type, DCAT.Dataset), key=str):
        force = graph.value(dataset, S22A.force)
        for distribution in graph.objects(dataset, DCAT.distribution):
            download = graph.value(distribution, DCAT.downloadURL)
            service = graph.value(distribution, DCAT.accessService)
            if download is not None:
                url = str(download)
                kind = "file" if url.startswith("file:") else "url"
                location = (
                    urllib.request.url2pathname(urllib.parse.urlparse(url).path)
                    if (kind == "file")
                    else url
                )
                sources.append(Source(str(dataset), _opt(force), kind, location))
                break
            if service is not None:
                endpoint = graph.value(service, DCAT.endpointURL)
                if endpoint is None:
                    raise ValueError(f"{dataset}: the access service has no dcat:endpointURL")
                sources.append(
                    Source(
                        str(dataset),
                        _opt(force),
                        "sparql",
                        str(endpoint),
                        _opt(graph.value(distribution, S22A.endpointGraph)),
                    )
                )
                break
        else:
            raise ValueError(
                f"{dataset}: no distribution with dcat:downloadURL or dcat:accessService"
            )
    return sources


def _opt(term: object) -> str | None:
    return str(term) if term is not None else None


def catalog_hosts(sources: Iterable[Source]) -> set[str]:
    """The host names (with ports) that catalogue URLs and endpoints point at."""
    return {urllib.parse.urlsplit(s.location).netloc for s in sources if s.kind != "file"}
