"""Memento (RFC 7089) on the wire: HTTP dates, the Link header's relations, TimeMaps in the
link format (RFC 6690)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

LINK_FORMAT = "application/link-format"
STAMP = "%Y%m%d%H%M%S"  # the instant in a memento's URL, to the second (UTC)


class BadDatetime(ValueError):
    """An Accept-Datetime or asOf that is not a date and time."""


def http_date(moment: datetime) -> str:
    """`moment` as an HTTP date (RFC 9110 section 5.6.7), in GMT."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def parse_http_date(text: str) -> datetime:
    """An Accept-Datetime value (an HTTP date, RFC 7089 section 2.1.1)."""
    try:
        moment = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError):
        raise BadDatetime(f"“{text}” is not an HTTP date such as "
                          "Tue, 01 Dec 2026 12:00:00 GMT") from None  # fmt: skip
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_xsd_datetime(text: str) -> datetime:
    """An xsd:dateTime (or an xsd:date, meaning its end) such as 2026-12-01T12:00:00Z."""
    from s22a.history.asof import as_instant

    value = text.strip().replace("Z", "+00:00")
    try:
        if "T" in value:
            return as_instant(datetime.fromisoformat(value))
        from datetime import date

        return as_instant(date.fromisoformat(value))
    except ValueError:
        raise BadDatetime(f"“{text}” is not an xsd:dateTime such as 2026-12-01T12:00:00Z") from None


def stamp(moment: datetime) -> str:
    """The instant as it stands in a memento's URL."""
    return moment.astimezone(UTC).strftime(STAMP)


def from_stamp(text: str) -> datetime:
    """The instant of a memento's URL."""
    return datetime.strptime(text, STAMP).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Memento:
    """One memento: its URL and its datetime."""

    url: str
    moment: datetime


def links(original: str, timemap: str, timegate: str | None = None) -> list[str]:
    """The Link values every original, TimeGate and memento carries (RFC 7089 section 2.2)."""
    found = [f'<{original}>; rel="original"', f'<{timemap}>; rel="timemap"; type="{LINK_FORMAT}"']
    found.append(f'<{timegate or original}>; rel="timegate"')
    return found


def timemap(original: str, self_url: str, mementos: Iterable[Memento]) -> str:
    """A TimeMap in the link format (RFC 7089 section 5): the original, the TimeGate, itself,
    and every memento with its datetime (first and last marked)."""
    items = list(mementos)
    lines = [f'<{original}>;rel="original"', f'<{original}>;rel="timegate"']
    span = ""
    if items:
        span = f';from="{http_date(items[0].moment)}";until="{http_date(items[-1].moment)}"'
    lines.append(f'<{self_url}>;rel="self";type="{LINK_FORMAT}"{span}')
    for index, memento in enumerate(items):
        rel = "memento"
        if index == 0:
            rel = "first memento"
        if index == len(items) - 1:
            rel = "last memento" if len(items) > 1 else "first last memento"
        lines.append(f'<{memento.url}>;rel="{rel}";datetime="{http_date(memento.moment)}"')
    return ",\n".join(lines) + "\n"
