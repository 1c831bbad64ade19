"""The Section 22A Collaboration Register: a linked open data service.

`create_app` is the application factory (Flask's pattern): every part registers
itself on the app it is given, and nothing is created at import time.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

from s22a.version import VERSION

__version__ = VERSION


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask app from the environment, overridden by `test_config`."""
    from s22a import config, store
    from s22a.ingest import gate
    from s22a.sparql import service
    from s22a.store import changes
    from s22a.views import (
        api,
        cover,
        documents,
        feeds,
        health,
        history,
        lists,
        memento,
        pages,
        publish,
        registers,
        sparql,
    )
    from s22a.web import errors, filters, front, http, routing, security

    app = Flask(__name__)
    app.config.from_mapping(config.from_environment())
    if test_config:
        app.config.from_mapping(test_config)
    front.init_app(app)
    routing.init_app(app)
    store.init_app(app)
    # Writes from every process on a remote store (or an embedded one several processes
    # serve) take each register's lock in one folder, and signal there.
    processes = app.config.get("SERVING_PROCESSES", 1)  # set by `s22a serve --workers`
    shared = not store.embedded(app.config["S22A_STORE"]) or processes > 1
    gate.share_locks(app.config["S22A_LOCKS"] if shared else None)
    changes.share(app.config["S22A_LOCKS"] if shared else None, app.config["S22A_TOKEN_TTL"])
    service.init_app(app)
    errors.init_app(app)
    filters.init_app(app)
    security.init_app(app)
    http.init_app(app)
    app.register_blueprint(pages.bp)
    app.register_blueprint(lists.bp)
    app.register_blueprint(documents.bp)
    app.register_blueprint(sparql.bp)
    app.register_blueprint(registers.bp)
    app.register_blueprint(history.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(publish.bp)
    app.register_blueprint(memento.bp)
    app.register_blueprint(cover.bp)
    app.register_blueprint(health.bp)
    app.register_blueprint(api.bp)
    return app
