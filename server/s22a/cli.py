"""The `s22a` command: validate registers, load them, reconcile them, serve them."""

from __future__ import annotations

import logging
import multiprocessing
import sys
from collections.abc import Callable
from typing import Any

import click

from s22a import config
from s22a.ingest import parse, validation
from s22a.ingest.catalog import Source, read_catalog
from s22a.ingest.gate import LoadOutcome, share_locks
from s22a.ingest.load import load_catalog
from s22a.reconcile.compute import reconcile
from s22a.reconcile.findings import store_report
from s22a.store import Store, StoreError, StoreInUse, embedded, get_store, in_memory, open_store

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
        except parse.RegisterUnreadable as error:
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
    default=config.default("S22A_STORE"),
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
        return open_store(store_spec, config.from_environment()["S22A_STORE_TIMEOUT"])
    except (ValueError, StoreError, OSError) as error:
        if isinstance(error, StoreInUse):
            raise click.ClickException(
                f"{error} (another `s22a serve` or `s22a load`?): stop it first, or share a "
                "remote store (--store sparql:URL)"
            ) from None
        raise click.ClickException(f"cannot open the store {store_spec!r}: {error}") from None


def _report(source: Source, outcome: LoadOutcome) -> None:
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
    for finding in outcome.validation.violations if outcome.validation else []:
        click.echo(f"    violation: {finding.message}")  # every one, so all can be fixed at once


def _load(store: Store, catalog: str | None) -> list[LoadOutcome]:
    try:
        registers = read_catalog(catalog)
    except (ValueError, OSError) as error:
        raise click.ClickException(f"cannot read the catalogue: {error}") from None
    click.echo(f"Loading {len(registers)} register(s) from {catalog or 'the bundled catalogue'}")
    return load_catalog(store, catalog, progress=_report)


@cli.command()
@STORE_OPTION
@CATALOG_OPTION
def load(store_spec: str, catalog: str | None) -> None:
    """Load or refresh every register the catalogue lists into the store.

    Each register is fetched, validated and, if valid and changed, replaces that
    force's graph; otherwise the previous version stays. Exit status 1 if any
    register was refused. Registers of 200 kB or more are read and validated in
    two worker processes while the ones before them are stored.
    """
    if not embedded(store_spec):  # as `s22a serve` does, to write beside running servers
        share_locks(config.from_environment()["S22A_LOCKS"])
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
        _load_if_empty(store, None)
        report = reconcile(store)
        store_report(store, report)
    if output_format == "turtle":
        click.echo(report.to_graph().serialize(format="turtle"))
    else:
        click.echo(report.text())


def _holds_registers(store: Store) -> bool:
    return any("/id/register/" in g for g in store.graphs())


def _load_if_empty(store: Store, catalog: str | None) -> None:
    """Load the catalogue into `store` if it holds no register yet."""
    if not _holds_registers(store):
        _load(store, catalog)


def _prepare_store(store_spec: str, catalog: str | None) -> None:
    """Open the store, load the catalogue if it holds no register, and close it again."""
    with _open(store_spec) as store:
        _load_if_empty(store, catalog)


def _child(function: Callable[..., None], *args: object) -> None:
    """The body of a forked child: run `function`, show a ClickException as one line."""
    try:
        function(*args)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)


def _in_child_process(function: Callable[..., None], *args: object) -> None:
    """Run `function(*args)` in a forked child process and wait for it; exit if it fails.

    The embedded store starts RocksDB's background threads when it is opened, and threads do
    not survive a fork: a store opened here, in the HTTP server's master, would leave each forked
    worker with a handle whose next flush waits forever. So the master never opens the store;
    a child that exits does the first load.
    """
    child = multiprocessing.get_context("fork").Process(target=_child, args=(function, *args))
    child.start()
    try:
        child.join()
    except KeyboardInterrupt:
        child.terminate()
        child.join()
        sys.exit(130)
    if child.exitcode:
        sys.exit(child.exitcode if child.exitcode > 0 else 1)


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
    help="Worker processes. More than one on the embedded store on disk: each reads from a "
    "copy of it in memory and opens it for each write; not on a store in memory.",
)
@click.option(
    "--threads",
    default=32,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Threads per worker that run the app (requests are read whole before one takes "
    "them, so a slow client holds none). More than the /sparql queries admitted at once "
    "(S22A_SPARQL_WORKERS + S22A_SPARQL_QUEUE), so that pages never wait behind queries.",
)
@click.option("--dev", is_flag=True, help="Flask's development server instead of Granian.")
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

    Runs the production server (Granian: requests are read whole by its Rust side before one
    of the worker's threads runs the app) unless --dev is given.
    """
    from s22a import create_app

    memory_store = in_memory(store_spec)
    if workers > 1 and memory_store:
        raise click.BadParameter(
            "a store in memory lives in one process: use --workers 1, the embedded store on "
            "disk (--store oxigraph:PATH) or a remote store (--store sparql:URL)",
            param_hint="--workers",
        )
    # Not a setting: how many processes serve the app (the store is shared by them).
    settings: dict[str, Any] = {"S22A_STORE": store_spec, "SERVING_PROCESSES": workers}
    if catalog:
        settings["S22A_CATALOG"] = catalog
    try:
        app = create_app(settings)
    except ValueError as error:  # a setting in the environment that cannot be read
        raise click.ClickException(str(error)) from None
    queries = app.config["S22A_SPARQL_WORKERS"] + app.config["S22A_SPARQL_QUEUE"]
    if threads <= queries:
        raise click.BadParameter(
            f"{threads} thread(s) could all be taken by /sparql queries ({queries} may run or "
            "wait at once: S22A_SPARQL_WORKERS + S22A_SPARQL_QUEUE): give more threads, or "
            "lower S22A_SPARQL_QUEUE",
            param_hint="--threads",
        )

    def open_in_this_process() -> None:
        """Open the store now rather than at the first request (and so hold its lock), and
        fill an in-memory one, which lives and dies with this process."""
        with app.app_context():
            opened = get_store()
            if memory_store or dev:
                _load_if_empty(opened, catalog)

    if dev:
        open_in_this_process()
        click.echo(f"Serving the register on http://{host}:{port}/ (Ctrl+C to stop)")
        app.run(host=host, port=port, debug=False, use_reloader=False)
        return
    if not memory_store:
        _in_child_process(_prepare_store, store_spec, catalog)
    click.echo(f"Serving the register on http://{host}:{port}/ (Ctrl+C to stop)")
    from s22a.web.production import run

    run(
        app,
        host=host,
        port=port,
        workers=workers,
        threads=threads,
        prepare=open_in_this_process,
        malloc_arenas=app.config["S22A_MALLOC_ARENAS"],
        header_timeout=app.config["S22A_HEADER_TIMEOUT"],
    )


def main() -> None:
    """Entry point of the `s22a` console script."""
    # rdflib logs a traceback for every ill-typed literal; the validation report says it better.
    logging.getLogger("rdflib.term").setLevel(logging.CRITICAL)
    cli(prog_name="s22a")


# Commands defined next to what they drive.
from s22a.ingest.csv_import import import_csv  # noqa: E402
from s22a.web.tokens import token_cli  # noqa: E402
from s22a.web.w3id import w3id_command  # noqa: E402

cli.add_command(token_cli)
cli.add_command(import_csv)
cli.add_command(w3id_command)


if __name__ == "__main__":
    main()
