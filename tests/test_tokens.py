"""Bearer tokens: shown once, stored only as salted hashes, scoped to one force, revocable."""

from __future__ import annotations

import json
import logging
import os
import stat
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from click.testing import CliRunner
from flask import Flask

from s22a.cli import cli
from s22a.store import get_store
from s22a.web.tokens import TokenStore, token_id
from tests.support.app import LiveServer

ROOT = Path(__file__).resolve().parents[1]


def test_a_token_is_stored_only_as_a_salted_hash(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.json")
    first, token = tokens.create("merseyside", note="PCC office")
    second, other = tokens.create("merseyside")
    text = (tmp_path / "tokens.json").read_text()
    secret = token.split("_", 2)[2]  # s22a_<id>_<secret>; the secret itself may hold "_"
    assert token not in text and secret not in text
    assert first.salt != second.salt and first.hash != second.hash
    assert tokens.verify(token) == first
    assert tokens.verify(other) == second
    assert stat.S_IMODE(os.stat(tmp_path / "tokens.json").st_mode) == 0o600
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".tokens-")] == []


@pytest.mark.parametrize(
    "mangle",
    [
        lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),  # wrong secret
        lambda t: t.replace("s22a_", "s22a_0", 1)[:-1],  # unknown id
        lambda t: "",
        lambda t: "not a token",
        lambda t: t.split("_", 2)[2],  # the secret alone
    ],
)
def test_anything_but_the_exact_token_is_refused(tmp_path: Path, mangle) -> None:
    tokens = TokenStore(tmp_path / "tokens.json")
    _record, token = tokens.create("cheshire")
    assert tokens.verify(mangle(token)) is None


def test_revoked_tokens_stop_working_but_stay_listed(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.json")
    record, token = tokens.create("lancashire")
    revoked = tokens.revoke(record.id)
    assert revoked.revoked and not revoked.active
    assert tokens.verify(token) is None
    assert [r.id for r in tokens.records()] == [record.id]
    with pytest.raises(KeyError):
        tokens.revoke("000000000000")


def test_concurrent_creations_are_all_kept(tmp_path: Path) -> None:
    tokens = TokenStore(tmp_path / "tokens.json")
    made: list[str] = []

    def create() -> None:
        made.append(tokens.create("cumbria")[1])

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(tokens.records()) == 8
    assert all(tokens.verify(t) is not None for t in made)


def test_the_token_commands(tmp_path: Path) -> None:
    path = str(tmp_path / "tokens.json")
    runner = CliRunner()
    created = runner.invoke(cli, ["token", "create", "--force", "merseyside", "--tokens", path])
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("s22a_") and "cannot be shown again" in created.stderr
    assert TokenStore(path).verify(token) is not None
    listed = runner.invoke(cli, ["token", "list", "--tokens", path])
    ident = token_id(token)
    assert ident and ident in listed.output and "merseyside" in listed.output
    assert token not in listed.output and "active" in listed.output
    revoked = runner.invoke(cli, ["token", "revoke", ident, "--tokens", path])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in runner.invoke(cli, ["token", "list", "--tokens", path]).output
    assert runner.invoke(cli, ["token", "revoke", "nope", "--tokens", path]).exit_code == 1
    unknown = runner.invoke(cli, ["token", "create", "--force", "atlantis", "--tokens", path])
    assert unknown.exit_code != 0 and "no force 'atlantis'" in unknown.output


@pytest.mark.parametrize("content", ["{broken", "[]", '{"tokens": [{"id": 3}]}', '"x"'])
def test_the_token_commands_report_a_damaged_file_in_one_line(tmp_path: Path, content: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(content)
    for command in (["list"], ["create", "--force", "merseyside"], ["revoke", "0123456789ab"]):
        result = CliRunner().invoke(cli, ["token", *command, "--tokens", str(path)])
        assert result.exit_code == 1, (command, result.output)
        assert result.exception is None or isinstance(result.exception, SystemExit)
        lines = result.output.strip().splitlines()
        assert len(lines) == 1 and str(path) in lines[0], result.output
    assert path.read_text() == content  # nothing was written over it


def test_the_token_file_comes_from_s22a_tokens(tmp_path: Path) -> None:
    path = tmp_path / "from-env.json"
    result = CliRunner().invoke(
        cli, ["token", "create", "--force", "cheshire"], env={"S22A_TOKENS": str(path)}
    )
    assert result.exit_code == 0
    assert TokenStore(path).verify(result.stdout.strip()) is not None


def test_tokens_are_never_served(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    app.config["S22A_TOKENS"] = str(path)
    record, token = TokenStore(path).create("merseyside")
    client = app.test_client()
    for url in (
        "/var/tokens.json",
        "/static/../var/tokens.json",
        "/tokens.json",
        f"/static/{path}",
    ):
        assert client.get(url, follow_redirects=True).status_code == 404
    with app.app_context():
        dump = b"".join(get_store().dump())
    for secret in (token, record.id, record.hash, record.salt):
        assert secret.encode() not in dump  # nor, therefore, in /sparql or /dump.nq


def test_request_logs_never_contain_tokens(
    app: Flask, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app.logger, "disabled", False)  # another test may have turned it off
    path = tmp_path / "tokens.json"
    app.config["S22A_TOKENS"] = str(path)
    _, token = TokenStore(path).create("merseyside")
    _, other = TokenStore(path).create("cheshire")
    data = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()
    caplog.set_level(logging.INFO)
    with LiveServer(app) as server:
        for bearer, body in (
            (token, data),
            (other, data),
            (token + "x", data),
            (token, b"not turtle at all"),
        ):
            request = urllib.request.Request(
                f"{server.url}/registers/merseyside",
                data=body,
                method="PUT",
                headers={"Authorization": f"Bearer {bearer}", "Content-Type": "text/turtle"},
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    json.load(response)
            except urllib.error.HTTPError as error:
                error.close()
    logged = caplog.text
    assert "PUT /registers/merseyside" in logged  # the request log was captured
    assert token_id(token) in logged  # writes are attributed by token id
    # A token is s22a_<id>_<secret>, and the secret may itself hold "_" (regression: the
    # piece after the last "_" was once the single letter "I", which the log holds anyway).
    for secret in (token, other, token.split("_", 2)[2], other.split("_", 2)[2]):
        assert secret not in logged
