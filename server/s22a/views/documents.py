"""Documents for people and machines: /id (303), /doc, /def, /void, /catalog, dumps, context.

Cool URIs (W3C note) and the UK public sector URI sets: `/id/{kind}/{slug}` names a thing
and answers 303 See Other to `/doc/{kind}/{slug}`, the document about it, which negotiates
its format (file extension, then `_format`, then Accept; see `conneg`). Every document
carries Vary: Accept, Content-Location (the chosen variant), Link (the alternates), ETag
and Last-Modified; RDF is always written with canonical IRIs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from urllib.parse import urlencode

from flask import Blueprint, Response, redirect, render_template, request, url_for
from rdflib import Graph
from werkzeug.wrappers import Response as BaseResponse

from s22a import jsonld, reference
from s22a.namespaces import BASE, TYPES, is_slug
from s22a.read import agreements, describe, listing, pagedata, pictures, vocab
from s22a.read import void as dataset
from s22a.sparql.examples import EXAMPLES, Example, examples_graph
from s22a.store import Store, get_store
from s22a.web import http, rdf
from s22a.web.conneg import DOCUMENT_FORMATS, DUMPS, HTML, Format, by_key, negotiate
from s22a.web.errors import NoAcceptableFormat, not_found

bp = Blueprint("documents", __name__)

# Things that are not under /id/{kind}/ but have documents: IRI path -> document path.
OTHER_THINGS = {"catalog": "/catalog", "dataset": "/void", "service/sparql": "/sparql"}
# Kinds whose HTML page lists its agreements a page at a time (`?page=`).
PAGED = {"force": pagedata.force, "register": pagedata.register}
# The page data of each kind of thing.
BUILDERS = {
    "agreement": agreements.page,
    "force": pagedata.force,
    "body": pagedata.body,
    "group": pagedata.group,
    "capability": pagedata.capability,
    "scheme": pagedata.scheme,
    "region": pagedata.region,
    "register": pagedata.register,
}


def split_extension(name: str) -> tuple[str, str | None]:
    """'merseyside.ttl' -> ('merseyside', 'ttl'); 'merseyside' -> ('merseyside', None)."""
    stem, dot, ext = name.rpartition(".")
    return (stem, ext) if dot else (name, None)


def serve(
    base_path: str,
    ext: str | None,
    graph: Callable[[], Graph],
    html: Callable[[Sequence[Format]], str],
    formats: Sequence[Format] = DOCUMENT_FORMATS,
    variant: str = "",
    check: Callable[[], None] | None = None,
) -> Response:
    """Negotiate a document's format and answer with it (or 304, or 406); `variant` names a
    page of a paged HTML document (the RDF is the whole document). `check` (a 404 for a thing
    that does not exist) runs before the RDF is built; `html` must fail as `check` would, as
    reading the page data tells (not for an answer from the cache or a 304: `http.cached`)."""
    fmt = negotiate(
        extension=ext,
        format_param=request.args.get("_format"),
        accept=request.headers.get("Accept"),
        offered=formats,
    )
    if fmt is None:
        if check is not None:
            check()  # a thing that does not exist is not found, in any format
        raise NoAcceptableFormat(base_path, formats)

    def build() -> Response:
        if fmt is HTML:
            return Response(html(formats), content_type=fmt.content_type)
        if check is not None:
            check()
        response = Response(rdf.serialize(graph(), fmt), content_type=fmt.content_type)
        response.access_control_allow_origin = "*"
        return response

    response = http.cached(f"{base_path}{variant if fmt is HTML else ''}#{fmt.key}", build, check)
    response.headers["Content-Location"] = f"{http.root()}{base_path}.{fmt.key}"
    response.headers["Link"] = http.link_header(base_path, formats, BASE + base_path[1:])
    return response


def _check_extension(ext: str | None, kind: str, slug: str) -> None:
    if ext is not None and by_key(ext) is None:
        raise not_found(kind, slug)


# ---------------------------------------------------------------------------
# Things


@bp.get("/id/<kind>/<path:slug>")
def thing(kind: str, slug: str) -> BaseResponse:
    """A thing's IRI: 303 See Other to the document about it."""
    target = OTHER_THINGS.get(f"{kind}/{slug}")
    if kind in TYPES and is_slug(slug):
        if describe.exists(get_store(), describe.canonical(kind, slug)):
            target = f"/doc/{kind}/{slug}"
    elif _minted(kind, slug):
        target = f"/doc/{kind}/{slug}"
    if target is None:
        raise not_found(kind, slug)
    return see_other(target)


def _minted(kind: str, path: str) -> bool:
    """Whether /id/{kind}/{path} is another IRI the store describes (a version, a finding)."""
    return bool(describe.PATH.match(f"{kind}/{path}")) and describe.exists_anywhere(
        get_store(), describe.canonical(kind, path)
    )


def see_other(target: str) -> BaseResponse:
    """303 See Other to `target` on this server, keeping the query (and so `_format`)."""
    query = request.query_string.decode("latin-1")
    response = redirect(http.root() + target + (f"?{query}" if query else ""), code=303)
    http.add_vary(response, "Accept")
    return response


@bp.get("/id/<name>")
def other_thing(name: str) -> BaseResponse:
    """The catalogue and the dataset: 303 See Other to /catalog and /void."""
    return see_other(OTHER_THINGS[name]) if name in OTHER_THINGS else thing(name, "")


@bp.get("/doc/<kind>/<path:name>")
def document(kind: str, name: str) -> Response:
    """The document about a thing, in the negotiated format."""
    slug, ext = split_extension(name)
    if kind not in TYPES or not is_slug(slug):
        return resource(kind, slug, ext)
    _check_extension(ext, kind, slug)
    return render_document(get_store(), kind, slug, ext, f"/doc/{kind}/{slug}")


def render_document(
    store: Store, kind: str, slug: str, ext: str | None, base_path: str
) -> Response:
    """The document about the thing of `kind` `slug` as `store` has it (the store now, or the
    registers as they stood at an instant), negotiated; `base_path` is where it is read."""
    iri = describe.canonical(kind, slug)

    def check() -> None:
        if not describe.exists(store, iri):
            raise not_found(kind, slug)

    paged = kind in PAGED
    page = listing.page_args(request.args.get("page"), None, None, {"": ("", "")})[0]

    def html(formats: Sequence[Format]) -> str:
        try:
            data = PAGED[kind](store, iri, page) if kind in PAGED else BUILDERS[kind](store, iri)
        except describe.NotDescribed:
            raise not_found(kind, slug) from None
        extras = {}
        if kind == "force":
            extras["network"] = pictures.network(store, centre=iri, ident="force-network")
            extras["timeline"] = pictures.timeline(
                data["timeline"], ident="force-timeline", subject=f"which {data['title']} is named"
            )
        return render_template(
            f"documents/{kind}.html",
            data=data,
            labels=data["labels"],
            formats=formats,
            base_path=base_path,
            **extras,
        )

    variant = f"?page={page}" if paged and page > 1 else ""
    return serve(
        base_path,
        ext,
        lambda: describe.document_graph(store, iri),
        html,
        variant=variant,
        check=check,
    )


def resource(kind: str, path: str, ext: str | None) -> Response:
    """The document about another IRI the service mints: what the store says of it."""
    _check_extension(ext, kind, path)

    def check() -> None:
        if not _minted(kind, path):
            raise not_found(kind, path.split("/")[0])

    store = get_store()
    iri = describe.canonical(kind, path)
    base_path = f"/doc/{kind}/{path}"

    def html(formats: Sequence[Format]) -> str:
        try:
            data = pagedata.resource(store, iri)
        except describe.NotDescribed:
            raise not_found(kind, path.split("/")[0]) from None
        return render_template(
            "documents/resource.html",
            data=data,
            labels=data["labels"],
            formats=formats,
            base_path=base_path,
        )

    return serve(
        base_path,
        ext,
        lambda: describe.document_graph(store, iri, describe.NOT_ARCHIVE),
        html,
        check=check,
    )


# ---------------------------------------------------------------------------
# The ontology and the shapes


@bp.get("/def/<name>")
def definition(name: str) -> Response:
    """The ontology (/def/s22a) or the shapes (/def/shapes), as documentation or RDF."""
    stem, ext = split_extension(name)
    if stem not in ("s22a", "shapes"):
        raise not_found("definition", stem)
    _check_extension(ext, "definition", stem)
    store = get_store()
    base_path = f"/def/{stem}"
    if stem == "s22a":

        def graph() -> Graph:
            return vocab.ontology_graph(store)

        def html(formats: Sequence[Format]) -> str:
            data = vocab.ontology_doc(graph(), reference.shapes_graph())
            return render_template(
                "documents/ontology.html", data=data, formats=formats, base_path=base_path
            )
    else:

        def graph() -> Graph:
            return reference.shapes_graph()

        def html(formats: Sequence[Format]) -> str:
            return render_template(
                "documents/shapes.html",
                shapes=vocab.shapes_doc(graph()),
                rules=vocab.shapes_rules(graph()),
                formats=formats,
                base_path=base_path,
            )

    return serve(base_path, ext, graph, html)


# ---------------------------------------------------------------------------
# The dataset: VoID, DCAT, dumps, the JSON-LD context


def _described(name: str, ext: str | None, make: Callable[..., Graph], template: str) -> Response:
    _check_extension(ext, "document", name)
    store = get_store()

    def html(formats: Sequence[Format]) -> str:
        data = dataset.summary(store)
        return render_template(
            template, data=data, formats=formats, base_path=f"/{name}", dumps=DUMPS
        )

    return serve(f"/{name}", ext, lambda: make(store), html)


@bp.get("/void")
@bp.get("/void.<ext>")
def void(ext: str | None = None) -> Response:
    """The VoID description of the dataset and each register graph."""
    return _described("void", ext, dataset.void_graph, "documents/void.html")


@bp.get("/catalog")
@bp.get("/catalog.<ext>")
def catalog(ext: str | None = None) -> Response:
    """The DCAT catalogue: the dataset, each register, the SPARQL service, the dumps."""
    return _described("catalog", ext, dataset.catalog_graph, "documents/catalog.html")


@bp.get("/dump.<ext>")
def dump(ext: str) -> Response:
    """The whole dataset, every named graph, streamed as N-Quads or TriG."""
    if ext not in DUMPS:
        raise not_found("document", f"dump.{ext}")
    media_type = DUMPS[ext]

    def build() -> Response:
        response = Response(
            get_store().dump(media_type), content_type=f"{media_type}; charset=utf-8"
        )
        response.headers["Content-Disposition"] = f'attachment; filename="s22a-register.{ext}"'
        response.access_control_allow_origin = "*"
        return response

    return http.cached(f"/dump.{ext}", build)


@bp.get("/context.jsonld")
def context() -> Response:
    """The JSON-LD context that every JSON-LD document names."""

    def build() -> Response:
        response = Response(
            jsonld.context_document(), content_type="application/ld+json; charset=utf-8"
        )
        response.access_control_allow_origin = "*"
        return response

    return http.cached("/context.jsonld", build)


@bp.get("/sparql/examples")
@bp.get("/sparql/examples.<ext>")
def sparql_examples(ext: str | None = None) -> Response:
    """The example queries of the query page as RDF (SHACL SPARQL executables), each with the
    endpoint that runs it and a permalink that runs it there."""
    endpoint = url_for("sparql.sparql", _external=True)

    def permalink(example: Example) -> str:
        return f"{endpoint}?{urlencode({'query': example.query})}"

    def graph() -> Graph:
        return examples_graph(BASE + "sparql/examples", endpoint, permalink)

    def html(formats: Sequence[Format]) -> str:
        return render_template(
            "documents/examples.html",
            examples=[(e, permalink(e)) for e in EXAMPLES],
            formats=formats,
            base_path="/sparql/examples",
        )

    return serve("/sparql/examples", ext, graph, html)
