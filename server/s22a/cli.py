"""The `s22a` command: validate registers, load them, reconcile them, serve them."""

from __future__ import annotations

import logging
import sys

import click

from . import config, reconcile, sources, validation
from .store import Store, StoreError, close_store, get_store, open_store

EXIT_VALID, EXIT_INVALID, EXIT_UNREADABLE = 0, 1, 2


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="s22a-register")
def cli() -> None:
    """The Section 22A Collaboration Register: UK police collaboration agreements as linked data."""


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json", "turtle"]),
    default="text",
    show_default=True,
    help="text: a report for people, grouped by agreement; json: every result; "
    "turtle: the SHACL validation report.",
)
def validate(files: tuple[str, ...], output_format: str) -> None:
    """Check register FILES against the shapes, ontology and reference data.

    Accepts Turtle, N-Triples, JSON-LD and RDF/XML (by extension, else by content).
    Exit status: 0 all valid (warnings allowed), 1 some invalid, 2 some unreadable.
    """
    worst = EXIT_VALID
    json_results: list[dict] = []
    for name in files:
        try:
            result = validation.validate_file(name)
        except validation.RegisterUnreadable as error:
            worst = EXIT_UNREADABLE
            if output_format == "json":
                json_results.append(
                    {
                        "source": name,
                        "readable": False,
                        "error": error.message,
                        "line": error.line,
                        "column": error.column,
                    }
                )
            elif output_format == "turtle":
                click.echo(f"# {name}: cannot be read: {error}", err=True)
            else:
                click.echo(f"{name}: cannot be read: {error}")
            continue
        if not result.conforms:
            worst = max(worst, EXIT_INVALID)
        if output_format == "json":
            json_results.append({"readable": True, **result.as_dict()})
        elif output_format == "turtle":
            click.echo(f"# {name}")
            click.echo(result.report.serialize(format="turtle"))
        else:
            click.echo(validation.format_text(result))
    if output_format == "json":
        click.echo(validation.format_json(json_results))
    sys.exit(worst)


STORE_OPTION = click.option(
    "--store",
    "store_spec",
    envvar="S22A_STORE",
    default=config.DEFAULTS["S22A_STORE"],
    show_default=True,
    help="oxigraph:PATH (embedded, on disk), memory: or sparql:URL (a SPARQL 1.1 server). "
    "Also read from S22A_STORE.",
)
CATALOG_OPTION = click.option(
    "--catalog",
    type=click.Path(exists=True, dir_okay=False),
    envvar="S22A_CATALOG",
    default=None,
    help="The DCAT catalogue of registers (default: the bundled data/catalog.ttl). "
    "Also read from S22A_CATALOG.",
)


def _open(store_spec: str) -> Store:
    try:
        return open_store(store_spec)
    except (ValueError, StoreError, OSError) as error:
        raise click.ClickException(f"cannot open the store {store_spec!r}: {error}") from None


def _report(source: sources.Source, outcome: sources.LoadOutcome) -> None:
    if outcome.outcome == "Accepted":
        detail = (
            f"accepted: {outcome.agreements} agreement(s), {outcome.triples} triples, "
            f"{outcome.warnings} warning(s)"
        )
    elif outcome.outcome == "Unchanged":
        detail = f"unchanged ({outcome.reason})"
    else:
        detail = f"REFUSED, previous version kept: {outcome.reason}"
    click.echo(f"  {source.label}: {detail}")


def _load(store: Store, catalog: str | None) -> list[sources.LoadOutcome]:
    try:
        registers = sources.read_catalog(catalog)
    except (ValueError, OSError) as error:
        raise click.ClickException(f"cannot read the catalogue: {error}") from None
    click.echo(f"Loading {len(registers)} register(s) from {catalog or 'the bundled catalogue'}")
    return sources.load_catalog(store, catalog, progress=_report)


@cli.command()
@STORE_OPTION
@CATALOG_OPTION
def load(store_spec: str, catalog: str | None) -> None:
    """Load or refresh every register the catalogue lists into the store.

    Each register is fetched, validated and, if valid and changed, replaces that
    force's graph; otherwise the previous version stays. Exit status 1 if any
    register was refused.
    """
    with _open(store_spec) as store:
        outcomes = _load(store, catalog)
    refused = [o for o in outcomes if o.outcome == "Refused"]
    click.echo(f"Done: {len(outcomes) - len(refused)} loaded or unchanged, {len(refused)} refused.")
    sys.exit(1 if refused else 0)


@cli.command(name="reconcile")
@STORE_OPTION
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "turtle"]),
    default="text",
    show_default=True,
    help="text: the report for people; turtle: the report as RDF (as stored for /sparql).",
)
def reconcile_command(store_spec: str, output_format: str) -> None:
    """Compare the registers in the store and report where they disagree.

    Reports forces named in agreements their own register does not list (or that have
    published no register), agreements that registers title, date or partner differently,
    one agreement listed as several rows, likely duplicates under different identifiers,
    and how far each agreement is confirmed by its parties. The report is also stored in
    its own graph, so /sparql can query it. Run `s22a load` first.
    """
    with _open(store_spec) as store:
        if not any("/id/register/" in g for g in store.graphs()):
            raise click.ClickException("the store holds no register: run `s22a load` first")
        report = reconcile.reconcile(store)
        reconcile.store_report(store, report)
    if output_format == "turtle":
        click.echo(report.to_graph().serialize(format="turtle"))
    else:
        click.echo(report.text())


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=5000, show_default=True, type=int, help="Port to listen on.")
@STORE_OPTION
@CATALOG_OPTION
@click.option(
    "--workers",
    default=1,
    show_default=True,
    type=click.IntRange(1, 64),
    help="Worker processes. The embedded store can be opened by one process only; use more "
    "with a remote store (sparql:URL).",
)
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 256),
              help="Threads per worker.")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
def serve(
    host: str,
    port: int,
    store_spec: str,
    catalog: str | None,
    workers: int,
    threads: int,
    dev: bool,
) -> None:
    """Serve the register over HTTP, loading the catalogue first if the store holds none.

    Runs the production server (gunicorn, threaded workers) unless --dev is given.
    """
    from . import create_app

    if workers > 1 and store_spec.split(":", 1)[0] in ("oxigraph", "memory"):
        raise click.BadParameter(
            "the embedded store can be opened by one process only: use --workers 1, "
            "or a remote store (--store sparql:URL)",
            param_hint="--workers",
        )
    settings = {"S22A_STORE": store_spec}
    if catalog:
        settings["S22A_CATALOG"] = catalog
    app = create_app(settings)
    with app.app_context():
        store = get_store()
        if not any("/id/register/" in g for g in store.graphs()):
            _load(store, catalog)
        if not store_spec.startswith("memory:"):
            # Workers open the store themselves; a handle must not cross a fork.
            close_store()
    click.echo(f"Serving the register on http://{host}:{port}/ (Ctrl+C to stop)")
    if dev:
        app.run(host=host, port=port, debug=False, use_reloader=False)
        return
    from .production import run

    run(app, host=host, port=port, workers=workers, threads=threads)


def main() -> None:
    """Entry point of the `s22a` console script."""
    # rdflib logs a traceback for every ill-typed literal; the validation report says it better.
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    cli(prog_name="s22a")


# Commands defined next to what they drive.
from .csv_import import import_csv  # noqa: E402
from .tokens import token_cli  # noqa: E402

cli.add_command(token_cli)
cli.add_command(import_csv)


if __name__ == "__main__":
    main()
