"""Settings, from defaults overridden by S22A_* environment variables and test_config."""

from __future__ import annotations

import os
from typing import Any

from s22a import resources

DEFAULTS: dict[str, Any] = {
    # Canonical IRIs do not depend on where the server runs.
    "S22A_BASE": "https://w3id.org/s22a/",
    # oxigraph:PATH (embedded, on disk), memory: (embedded, in memory) or sparql:URL (remote).
    "S22A_STORE": "oxigraph:./var/store",
    # The DCAT catalogue listing each force's register and where it comes from.
    "S22A_CATALOG": None,
    # Load the catalogue when the app starts and the store holds no register.
    "S22A_LOAD_ON_START": True,
    "S22A_TOKENS": "./var/tokens.json",  # forces' write tokens: salted hashes, never served
    "S22A_MAX_UPLOAD": 5 * 2**20,  # the largest register a write or form accepts, in bytes
    # glibc malloc arenas a serving process may use (0: glibc's default, 8 per core).
    "S22A_MALLOC_ARENAS": "2",
}


def from_environment() -> dict[str, Any]:
    """Return the settings, with any S22A_* environment variable overriding its default."""
    settings = dict(DEFAULTS)
    for key, default in DEFAULTS.items():
        if key in os.environ:
            raw = os.environ[key]
            settings[key] = (
                raw.lower() in ("1", "true", "yes") if isinstance(default, bool) else raw
            )
    if settings["S22A_CATALOG"] is None:
        settings["S22A_CATALOG"] = str(resources.catalog_path())
    return settings
