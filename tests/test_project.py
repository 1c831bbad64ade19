"""The project keeps its promises: README commands, tool config, packaging, documented terms."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import rdflib
from rdflib.namespace import OWL, RDF, RDFS

ROOT = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"```sh\n(.*?)\n```", text, re.S)
    assert block, "README must open with a sh block of set-up commands"
    return block.group(1).splitlines()


def test_readme_opens_with_exactly_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first_block = text.index("```sh")
    assert text[:first_block].count("\n") <= 2, "the commands come first"
    serve, test = readme_commands()
    assert "s22a serve" in serve
    assert "pytest" in test


def test_ci_runs_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    assert readme_commands()[1] in ci.splitlines()


def test_pytest_configuration_is_read(pytestconfig: pytest.Config) -> None:
    # pyproject's [tool.pytest.ini_options] is in force (a misplaced table is silently ignored).
    assert "error" in pytestconfig.getini("filterwarnings")
    assert pytestconfig.inipath == ROOT / "pyproject.toml"


def test_console_script_points_at_the_tested_command() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["scripts"] == {"s22a": "s22a.cli:main"}
    from s22a import cli

    assert callable(cli.main)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff is installed by the test extra")
def test_ruff_is_clean() -> None:
    result = subprocess.run(
        ["ruff", "check", "server", "tests", "bench"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_ontology_term_documents_itself() -> None:
    ontology = rdflib.Graph().parse(ROOT / "ontology" / "s22a.ttl")
    namespace = "https://w3id.org/s22a/def/s22a#"
    kinds = (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty)
    terms = {t for k in kinds for t in ontology.subjects(RDF.type, k)}
    terms |= {s for s in ontology.subjects() if str(s).startswith(namespace)}
    assert len(terms) > 60
    undocumented = [
        str(t)
        for t in sorted(terms)
        if ontology.value(t, RDFS.label) is None or ontology.value(t, RDFS.comment) is None
    ]
    assert undocumented == []


@pytest.mark.slow
def test_installed_wheel_validates_from_another_directory(tmp_path: Path) -> None:
    """`pip install .` (not -e) ships the ontology, shapes and data as package data."""
    venv = tmp_path / "venv"
    # System site-packages give the dependencies and the build backend, so nothing is
    # downloaded; the venv gets no pip (nor the old setuptools that comes with it).
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", str(venv)],
        check=True,
    )
    python = venv / "bin" / "python"
    build = tmp_path / "src"
    shutil.copytree(
        ROOT,
        build,
        ignore=shutil.ignore_patterns(".git", "var", "*.egg-info", "build", "__pycache__"),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(python),
            "install",
            "--quiet",
            "--no-index",
            "--no-deps",
            "--no-build-isolation",
            str(build),
        ],
        check=True,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    shutil.rmtree(build)  # the installed package must not lean on the source tree
    register = tmp_path / "elsewhere" / "merseyside.ttl"
    register.parent.mkdir()
    shutil.copy(ROOT / "data" / "registers" / "merseyside.ttl", register)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [str(venv / "bin" / "s22a"), "validate", "merseyside.ttl"],
        cwd=register.parent,
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "merseyside.ttl: valid (0 violation(s), 0 warning(s), 24 agreement(s))" in result.stdout
    location = subprocess.run(
        [str(python), "-c", "import s22a.resources as r; print(r.resource_root())"],
        cwd=register.parent,
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert "site-packages" in location
