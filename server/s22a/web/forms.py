"""What a form (a GET or POST of fields, no JavaScript) was given and what is wrong with it, in
the shape the templates' error summary and field errors read (publish/_macros.html)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Form:
    """What a form was given, what is wrong with it, and what it produced."""

    values: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # field id, message

    def error(self, name: str) -> str | None:
        """The error message for field `name`, if any."""
        return next((message for f, message in self.errors if f == name), None)
