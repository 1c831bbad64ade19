"""Bearer tokens that let a force write its own register (and no other).

A token is shown once, when it is created; only a salted scrypt hash of its
secret is kept (RFC 7914), so a copy of the token file lets nobody write.
Tokens look like ``s22a_<id>_<secret>``: the id finds the record without
hashing every stored token, and is what logs and listings show. Checking a
token compares hashes in constant time (`hmac.compare_digest`).

The tokens live in a JSON file (``S22A_TOKENS``, default ``./var/tokens.json``)
outside the store, so no HTTP route or SPARQL query can read them. Every
change writes a temporary file and renames it over the old one (`os.replace`),
under an exclusive lock, so readers see the old file or the new one and two
commands never lose each other's changes.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import hmac
import json
import os
import re
import secrets
import sys
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import click

from s22a.namespaces import is_slug

PREFIX = "s22a"
_TOKEN = re.compile(r"^s22a_([0-9a-f]{12})_([A-Za-z0-9_-]{20,200})\Z")
# scrypt work factors (RFC 7914): 16 MiB of memory, tens of milliseconds per check.
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32, "maxmem": 64 * 2**20}


@dataclass(frozen=True)
class TokenRecord:
    """What is stored about one token: never the token itself."""

    id: str
    force: str
    created: str
    salt: str
    hash: str
    note: str = ""
    revoked: str | None = None

    @property
    def active(self) -> bool:
        """True until the token is revoked."""
        return self.revoked is None


def _digest(secret: str, salt: bytes) -> bytes:
    return hashlib.scrypt(secret.encode("utf-8"), salt=salt, **_SCRYPT)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


class TokenStore:
    """The token file: create, list, revoke and check tokens."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        """Use the token file at `path` (created on the first token)."""
        self.path = Path(path)

    def records(self) -> list[TokenRecord]:
        """Every token record, revoked ones included, oldest first."""
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return []
        except (OSError, ValueError) as error:
            raise ValueError(f"cannot read the token file {self.path}: {error}") from None
        try:
            return [TokenRecord(**item) for item in raw["tokens"]]
        except (TypeError, KeyError) as error:
            raise ValueError(
                f"the token file {self.path} is damaged (expected "
                '{"tokens": [...]} as `s22a token create` writes it): '
                f"{type(error).__name__}: {error}"
            ) from None

    @contextlib.contextmanager
    def _locked(self) -> Iterator[list[TokenRecord]]:
        """Hold the lock while the records are changed, then write them atomically."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(f"{self.path}.lock", "a", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                records = self.records()
                yield records
                self._write(records)
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _write(self, records: list[TokenRecord]) -> None:
        data = json.dumps({"tokens": [asdict(r) for r in records]}, indent=2) + "\n"
        handle, temporary = tempfile.mkstemp(dir=self.path.parent, prefix=".tokens-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(data)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(temporary, 0o600)
            os.replace(temporary, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temporary)
            raise

    def create(self, force: str, note: str = "") -> tuple[TokenRecord, str]:
        """Make a token for `force`; return its record and the token (shown only now)."""
        if not is_slug(force):
            raise ValueError(f"{force!r} is not a force identifier such as 'merseyside'")
        secret = secrets.token_urlsafe(32)
        salt = secrets.token_bytes(16)
        with self._locked() as records:
            known = {r.id for r in records}
            ident = secrets.token_hex(6)
            while ident in known:
                ident = secrets.token_hex(6)
            record = TokenRecord(
                id=ident,
                force=force,
                created=_now(),
                salt=salt.hex(),
                hash=_digest(secret, salt).hex(),
                note=note,
            )
            records.append(record)
        return record, f"{PREFIX}_{ident}_{secret}"

    def revoke(self, ident: str) -> TokenRecord:
        """Revoke the token with id `ident` (it stays listed, marked revoked)."""
        with self._locked() as records:
            for index, record in enumerate(records):
                if record.id == ident:
                    if record.active:
                        record = TokenRecord(**{**asdict(record), "revoked": _now()})
                        records[index] = record
                    return record
        raise KeyError(ident)

    def verify(self, token: str) -> TokenRecord | None:
        """The active record `token` belongs to, or None (constant-time comparison)."""
        match = _TOKEN.match(token.strip())
        ident, secret = match.groups() if match else ("", token)
        record = next((r for r in self.records() if r.id == ident and r.active), None)
        # Hash even when the id is unknown, so timing does not tell which ids exist.
        salt = bytes.fromhex(record.salt) if record else b"\0" * 16
        expected = bytes.fromhex(record.hash) if record else b"\0" * 32
        same = hmac.compare_digest(_digest(secret, salt), expected)
        return record if (record is not None and same) else None


def token_id(token: str) -> str | None:
    """The id part of a token, safe to log; None if `token` is not shaped like one."""
    match = _TOKEN.match(token.strip())
    return match.group(1) if match else None


def app_tokens() -> TokenStore:
    """The token store of the current Flask app (app.config["S22A_TOKENS"])."""
    from flask import current_app

    return TokenStore(current_app.config["S22A_TOKENS"])


# ---------------------------------------------------------------------------
# The `s22a token` commands


def known_force(force: str) -> bool:
    """Whether `force` is the slug of a police force in the reference data."""
    from s22a.ingest.names import police_forces
    from s22a.reference import context_graph

    return force in police_forces(context_graph())


TOKENS_OPTION = click.option(
    "--tokens",
    "tokens_path",
    envvar="S22A_TOKENS",
    default="./var/tokens.json",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The token file. Also read from S22A_TOKENS.",
)


@click.group("token")
def token_cli() -> None:
    """Create, list and revoke the bearer tokens forces write their registers with."""


def _token_file_errors(command: Callable[..., None]) -> Callable[..., None]:
    """Report an unreadable or damaged token file in one line, not a traceback."""

    @functools.wraps(command)
    def wrapper(*args: object, **kwargs: object) -> None:
        try:
            command(*args, **kwargs)
        except ValueError as error:
            raise click.ClickException(str(error)) from None

    return wrapper


@token_cli.command("create")
@click.option("--force", "force", required=True, help="The force slug, e.g. merseyside.")
@click.option("--note", default="", help="A reminder of who holds the token.")
@TOKENS_OPTION
@_token_file_errors
def create_command(force: str, note: str, tokens_path: str) -> None:
    """Create a token for FORCE and print it once; only its hash is kept."""
    if not is_slug(force) or not known_force(force):
        raise click.ClickException(f"there is no force {force!r} in the reference data")
    record, token = TokenStore(tokens_path).create(force, note)
    click.echo(token)
    click.echo(
        f"Token {record.id} for {force} created. Keep it safe: it cannot be shown again.",
        err=True,
    )


@token_cli.command("list")
@TOKENS_OPTION
@_token_file_errors
def list_command(tokens_path: str) -> None:
    """List tokens: id, force, when created, and whether revoked (never the token)."""
    records = TokenStore(tokens_path).records()
    if not records:
        click.echo("No tokens.")
        return
    for r in records:
        status = f"revoked {r.revoked}" if r.revoked else "active"
        note = f"  {r.note}" if r.note else ""
        click.echo(f"{r.id}  {r.force:<24} created {r.created}  {status}{note}")


@token_cli.command("revoke")
@click.argument("ident", metavar="ID")
@TOKENS_OPTION
@_token_file_errors
def revoke_command(ident: str, tokens_path: str) -> None:
    """Revoke the token with ID (as `s22a token list` shows it)."""
    try:
        record = TokenStore(tokens_path).revoke(ident)
    except KeyError:
        click.echo(f"No token with id {ident!r}.", err=True)
        sys.exit(1)
    click.echo(f"Token {record.id} for {record.force} revoked at {record.revoked}.")
