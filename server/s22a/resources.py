"""Where the ontology, shapes and data live: the repository, or the installed wheel."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGED = Path(__file__).resolve().parent / "_resources"
_REPOSITORY = Path(__file__).resolve().parents[2]


@cache
def resource_root() -> Path:
    """Return the folder holding ontology/, shapes/ and data/."""
    if (_PACKAGED / "ontology").is_dir():
        return _PACKAGED
    if (_REPOSITORY / "ontology" / "s22a.ttl").is_file():
        return _REPOSITORY
    raise FileNotFoundError(
        "Cannot find the ontology, shapes and data: the package was installed without them. "
        "Reinstall with `pip install .` from a checkout of the repository."
    )


def ontology_path() -> Path:
    """Return the path of the s22a ontology in Turtle."""
    return resource_root() / "ontology" / "s22a.ttl"


def shapes_paths() -> list[Path]:
    """Return the SHACL shape files, sorted."""
    return sorted((resource_root() / "shapes").glob("*.ttl"))


def statement_shapes_path() -> Path:
    """Return the shapes checked against a register alone: what a register may say."""
    return resource_root() / "shapes" / "statements.ttl"


def reference_paths() -> list[Path]:
    """Return the reference data files (forces, bodies, regions, capabilities...), sorted."""
    return sorted((resource_root() / "data" / "reference").glob("*.ttl"))


def register_paths() -> list[Path]:
    """Return the bundled force registers, sorted."""
    return sorted((resource_root() / "data" / "registers").glob("*.ttl"))


def catalog_path() -> Path:
    """Return the bundled DCAT catalogue of registers."""
    return resource_root() / "data" / "catalog.ttl"
