"""The project keeps its promises: README commands, tool config, packaging, documented terms."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import sysconfig
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


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]])
def test_ruff_is_clean(command: list[str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "server", "tests", "bench"],
        cwd=ROOT, capture_output=True, text=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.slow
def test_the_package_type_checks() -> None:
    # mypy reads its configuration (the files, the strictness) from pyproject.toml.
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Success: no issues found" in result.stdout


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
    # The venv gets no pip (nor the old setuptools that comes with it). The dependencies and
    # the build backend come from this interpreter's site-packages, added as plain paths (so
    # nothing is downloaded, and the .pth files there, this checkout's editable install among
    # them, are not run). `--system-site-packages` would give the base interpreter's instead
    # when the tests run in a venv.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    inner_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    outer = dict.fromkeys(sysconfig.get_paths()[key] for key in ("purelib", "platlib"))
    Path(inner_site, "_outer_site_packages.pth").write_text("\n".join(outer) + "\n")
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


def lock_pins() -> dict[str, str]:
    """The exact versions in requirements/dev.lock, by normalised project name."""
    from packaging.utils import canonicalize_name

    text = (ROOT / "requirements" / "dev.lock").read_text()
    pins = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)", text, re.M)
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_file_pins_every_requirement_within_its_range() -> None:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    extras = project["optional-dependencies"]
    pins = lock_pins()
    wanted = [*project["dependencies"], *extras["test"], *extras["bench"]]
    assert len(wanted) > 10
    for line in wanted:
        requirement = Requirement(line)
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement.name} is not in requirements/dev.lock"
        assert requirement.specifier.contains(pins[name], prereleases=True), (line, pins[name])
    assert (
        "uv pip compile pyproject.toml --extra test --extra bench"
        in (ROOT / "requirements" / "dev.lock").read_text()
    )


def readme_settings() -> list[str]:
    """The variables of the README's settings table, in order."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"^\| `(S22A_[A-Z_]+)` \|", section, re.M)


def test_every_setting_is_in_the_readme_and_every_documented_one_is_read() -> None:
    from s22a import config

    names = [setting.name for setting in config.SETTINGS]
    assert readme_settings() == names
    # and nothing in the package reads a setting the table does not have
    read = set()
    for path in (ROOT / "server" / "s22a").rglob("*.py"):
        read |= set(re.findall(r"\bS22A_[A-Z_]*[A-Z]\b", path.read_text()))
    assert read - set(names) == set(), "settings read but not in s22a.config.SETTINGS"


def test_settings_are_typed_from_the_environment() -> None:
    from s22a import config

    settings = config.from_environment({"S22A_SPARQL_TIMEOUT": "2.5", "S22A_MAX_UPLOAD": "10"}.get)
    assert settings["S22A_SPARQL_TIMEOUT"] == 2.5 and settings["S22A_MAX_UPLOAD"] == 10
    assert settings["S22A_STORE"] == "oxigraph:./var/store"
    with pytest.raises(ValueError, match="S22A_MAX_UPLOAD must be a whole number, not 'lots'"):
        config.from_environment({"S22A_MAX_UPLOAD": "lots"}.get)
