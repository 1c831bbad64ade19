"""Writing registers over HTTP in tests: a force's token, its headers, and a changed register."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from s22a.web.tokens import TokenStore
from tests.support import ROOT

MERSEYSIDE = (ROOT / "data" / "registers" / "merseyside.ttl").read_bytes()
TURTLE = "text/turtle"


def amended(data: bytes = MERSEYSIDE) -> bytes:
    """Merseyside's register with one agreement amended (its date) and one added."""
    data = data.replace(b'"2022-02"^^xsd:gYearMonth', b'"2022-03"^^xsd:gYearMonth', 1)
    data = data.replace(b"s22a:listedCount 24", b"s22a:listedCount 25")
    data = data.replace(
        b"s22a:lists agreement:west-coast-collaboration ,",
        b"s22a:lists agreement:west-coast-collaboration , agreement:new-unit ,",
    )
    return data + (
        b'\nagreement:new-unit a s22a:Agreement ; dcterms:title "New Unit"@en ;\n'
        b'    s22a:purpose "A unit."@en ; s22a:party force:merseyside , force:cheshire ;'
        b'\n    s22a:dateMade "2025-01"^^xsd:gYearMonth .\n'
    )


def bearer(token: str, content_type: str | None = TURTLE, **extra: str) -> dict[str, str]:
    """The headers of a write with `token`."""
    headers = {"Authorization": f"Bearer {token}", **extra}
    if content_type:
        headers["Content-Type"] = content_type
    return headers


def tokens_for(app: Flask, path: Path, *forces: str) -> dict[str, str]:
    """A token for each of `forces`, in a token file at `path` that `app` uses."""
    app.config["S22A_TOKENS"] = str(path)
    store = TokenStore(path)
    return {force: store.create(force)[1] for force in forces}
