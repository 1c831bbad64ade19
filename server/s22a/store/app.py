"""The store of a Flask app: opened on first use from S22A_STORE, shared by its requests."""

from __future__ import annotations

import threading
from typing import Any

from s22a.store.base import Store
from s22a.store.factory import open_store


def init_app(app: Any) -> None:
    """Attach the store named by app.config["S22A_STORE"] to `app` (opened on first use; an
    embedded one on disk as one of several if app.config["SERVING_PROCESSES"] is over 1)."""
    app.extensions["s22a_store"] = None
    app.extensions["s22a_store_lock"] = threading.Lock()


def get_store() -> Store:
    """The current app's store, opened on first use and shared by its requests."""
    from flask import current_app

    extensions = current_app.extensions
    store = extensions.get("s22a_store")
    if store is None:
        with extensions["s22a_store_lock"]:
            store = extensions.get("s22a_store")
            if store is None:
                config = current_app.config
                store = open_store(
                    config["S22A_STORE"],
                    config.get("S22A_STORE_TIMEOUT", 30.0),
                    shared=config.get("SERVING_PROCESSES", 1) > 1,
                )
                extensions["s22a_store"] = store
    return store


def close_store() -> None:
    """Close the current app's store; the next get_store() opens it again."""
    from flask import current_app

    extensions = current_app.extensions
    with extensions["s22a_store_lock"]:
        store = extensions.get("s22a_store")
        extensions["s22a_store"] = None
    if store is not None:
        store.close()
