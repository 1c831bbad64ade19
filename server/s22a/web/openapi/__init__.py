"""The OpenAPI 3.1 document of the HTTP interface, served at `/openapi.json`.

Written from what each view does (OpenAPI Specification 3.1.0): every route, its methods,
parameters, request bodies, and the status codes and media types it answers with. The
format lists come from `s22a.web.conneg`, as the views' do, so a format added there is
documented here;
the parts shared by many operations are in `components`. `tests/test_openapi.py`
checks the document is valid, that every route of the app is in it with its methods, and
runs schemathesis against a live server to hold each response to it.
"""

from __future__ import annotations

from s22a.version import VERSION
from s22a.web.openapi.components import Schema, components
from s22a.web.openapi.listings import listings_paths
from s22a.web.openapi.questions import memento_paths, questions_paths
from s22a.web.openapi.reading import documents_paths, pages_paths, sparql_paths
from s22a.web.openapi.writing import (
    api_paths,
    feeds_paths,
    history_paths,
    publish_paths,
    registers_paths,
)

OPENAPI_VERSION = "3.1.0"
PARTS = (
    questions_paths,
    memento_paths,
    listings_paths,
    pages_paths,
    documents_paths,
    sparql_paths,
    registers_paths,
    history_paths,
    feeds_paths,
    publish_paths,
    api_paths,
)


def document(server: str = "/") -> Schema:
    """The OpenAPI 3.1 document, for a server whose root is at `server`."""
    paths: Schema = {}
    for part in PARTS:
        paths.update(part())
    return {
        "openapi": OPENAPI_VERSION,
        "info": {
            "title": "Section 22A Collaboration Register",
            "version": VERSION,
            "summary": "UK police collaboration agreements as linked open data",
            "description": "Pages for people, RDF for machines (/id/ IRIs answer 303 to /doc/ "
            "documents, which negotiate their format), a SPARQL 1.1 endpoint, "
            "and each force's register over the SPARQL 1.1 Graph Store "
            "HTTP Protocol, with its versions, differences and change feeds.",
            "license": {"name": "MIT", "identifier": "MIT"},
        },
        "servers": [{"url": server}],
        "tags": [
            {"name": tag}
            for tag in (
                "pages",
                "documents",
                "sparql",
                "registers",
                "history",
                "feeds",
                "publish",
                "api",
                "national",
            )
        ],
        "paths": paths,
        "components": components(),
    }
