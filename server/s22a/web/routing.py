"""URL converters the routes use: a day (`<day:...>`, yyyy-mm-dd) and a memento's instant
(`<stamp:...>`, yyyymmddhhmmss), each given to views as a `date` or a `datetime`."""

from __future__ import annotations

from datetime import date, datetime

from flask import Flask
from werkzeug.routing import BaseConverter, ValidationError

from s22a.web.memento import from_stamp, stamp


class DayConverter(BaseConverter):
    """A day written yyyy-mm-dd (ISO 8601), given to views as a `datetime.date`."""

    regex = r"\d{4}-\d{2}-\d{2}"

    def to_python(self, value: str) -> date:
        """Parse the day; an impossible one (2024-02-30) does not match the route."""
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value: object) -> str:
        """Write the day back as yyyy-mm-dd."""
        return value.isoformat() if isinstance(value, date) else str(value)


class StampConverter(BaseConverter):
    """A memento's instant in its URL: yyyymmddhhmmss (UTC), given to views as a datetime."""

    regex = r"\d{14}"

    def to_python(self, value: str) -> datetime:
        """Read the instant."""
        try:
            return from_stamp(value)
        except ValueError:
            raise ValidationError() from None

    def to_url(self, value: object) -> str:
        """Write the instant."""
        return stamp(value) if isinstance(value, datetime) else str(value)


def init_app(app: Flask) -> None:
    """Make the converters available to every route (before the blueprints are registered)."""
    app.url_map.converters["day"] = DayConverter
    app.url_map.converters["stamp"] = StampConverter
