"""Parse a force's register and validate it against the SHACL shapes.

One public entry point per step: :func:`parse_register` turns bytes into an
rdflib graph (or raises :class:`RegisterSyntaxError` with a line and column),
:func:`validate_graph` checks a parsed register against the shapes together
with the ontology and the reference data, and :func:`validate_bytes` does
both. The CLI, the loader and the upload gate all use these, so a register
is judged the same way everywhere.
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pyshacl
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCTERMS, SH
from rdflib.term import Node

from s22a.ingest.parse import parse_register, read_register
from s22a.namespaces import S22A, bind_prefixes
from s22a.reference import context_graph, shapes_graph

SEVERITIES = {SH.Violation: "violation", SH.Warning: "warning", SH.Info: "info"}


@dataclass(frozen=True)
class Finding:
    """One result of validation, as a PCC office needs to read it."""

    severity: str
    message: str
    focus: str
    path: str | None = None
    value: str | None = None
    agreement: str | None = None
    agreement_title: str | None = None
    shape: str | None = None


@dataclass
class ValidationResult:
    """The outcome of validating one register."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    report: Graph = field(default_factory=Graph)
    graph: Graph = field(default_factory=Graph)
    agreements: int | None = None  # set where `graph` was left out (`s22a.ingest.sandbox`)

    @property
    def violations(self) -> list[Finding]:
        """Findings that make the register invalid."""
        return [f for f in self.findings if f.severity == "violation"]

    @property
    def warnings(self) -> list[Finding]:
        """Findings that are suspicious but allowed."""
        return [f for f in self.findings if f.severity == "warning"]

    @property
    def conforms(self) -> bool:
        """True when the register has no violations (warnings are allowed)."""
        return not self.violations

    def by_agreement(self) -> list[dict[str, Any]]:
        """The findings grouped by agreement (`agreement`, `title`, `findings`), the register
        as a whole first, then by title."""
        groups: dict[str | None, dict[str, Any]] = {}
        for finding in self.findings:
            group = groups.setdefault(
                finding.agreement,
                {"agreement": finding.agreement, "title": finding.agreement_title, "findings": []},
            )
            group["findings"].append(finding)
        return sorted(
            groups.values(),
            key=lambda g: (g["agreement"] is not None, g["title"] or "", g["agreement"] or ""),
        )

    def agreement_count(self) -> int:
        """Number of agreements the register lists."""
        if self.agreements is not None:
            return self.agreements
        return len(set(self.graph.objects(None, S22A.lists)))

    def as_dict(self) -> dict[str, Any]:
        """A JSON-ready summary with every finding."""
        return {
            "source": self.source,
            "conforms": self.conforms,
            "agreements": self.agreement_count(),
            "violations": len(self.violations),
            "warnings": len(self.warnings),
            "results": [asdict(f) for f in self.findings],
        }


def _message(report: Graph, result: Node) -> str:
    messages = list(report.objects(result, SH.resultMessage))
    for message in messages:
        if isinstance(message, Literal) and message.language in (None, "en"):
            return str(message)
    return str(messages[0]) if messages else "does not conform to the register shapes"


def _optional(report: Graph, result: Node, predicate: URIRef) -> Node | None:
    return next(iter(report.objects(result, predicate)), None)


def _findings(report: Graph, register: Graph) -> list[Finding]:
    listed = set(register.objects(None, S22A.lists))
    findings: list[Finding] = []
    # Only top-level results: nested sh:detail results explain a parent result.
    for result in report.objects(None, SH.result):
        focus = _optional(report, result, SH.focusNode)
        value = _optional(report, result, SH.value)
        path = _optional(report, result, SH.resultPath)
        agreement = focus if focus in listed else value if value in listed else None
        title = register.value(agreement, DCTERMS.title) if agreement is not None else None
        severity = _optional(report, result, SH.resultSeverity)
        findings.append(
            Finding(
                severity=SEVERITIES.get(severity, "violation")
                if isinstance(severity, URIRef)
                else "violation",
                message=_message(report, result),
                focus=str(focus),
                path=str(path) if isinstance(path, URIRef) else None,
                value=str(value) if value is not None else None,
                agreement=str(agreement) if agreement is not None else None,
                agreement_title=str(title) if title is not None else None,
                shape=str(_optional(report, result, SH.sourceShape)),
            )
        )
    order = {"violation": 0, "warning": 1, "info": 2}
    findings.sort(key=lambda f: (f.agreement or "", order[f.severity], f.message))
    return findings


# pyshacl runs the shapes' SPARQL constraints through rdflib, whose query parser (pyparsing)
# is not thread-safe (RDFLib/rdflib#1282): two validations at once in a threaded server fail at
# random with parser errors. Validation is CPU-bound Python, so one at a time costs little.
_VALIDATION_LOCK = threading.Lock()


def validate_graph(register: Graph, source: str = "register") -> ValidationResult:
    """Validate a parsed register against the shapes, with the ontology and reference data."""
    shapes = shapes_graph()
    data = Graph()
    data += context_graph()
    data += register
    with _VALIDATION_LOCK:
        _conforms, report, _text = pyshacl.validate(
            data,
            shacl_graph=shapes,
            inference="none",
            abort_on_first=False,
            allow_warnings=True,
            allow_infos=True,
            meta_shacl=False,
            advanced=False,
            js=False,
        )
    bind_prefixes(report)
    return ValidationResult(
        source=source, findings=_findings(report, register), report=report, graph=register
    )


def validate_bytes(
    data: bytes, name: str = "register.ttl", media_type: str | None = None
) -> ValidationResult:
    """Parse and validate a register given as bytes; raises RegisterUnreadable."""
    return validate_graph(parse_register(data, name, media_type), source=name)


def validate_file(path: str | Path) -> ValidationResult:
    """Read, parse and validate a register file; raises RegisterUnreadable."""
    return validate_graph(read_register(path), source=str(path))


def format_text(result: ValidationResult) -> str:
    """A report for people, grouped by agreement."""
    count = result.agreement_count()
    summary = (
        f"{len(result.violations)} violation(s), {len(result.warnings)} warning(s), "
        f"{count} agreement(s)"
    )
    status = "valid" if result.conforms else "INVALID"
    lines = [f"{result.source}: {status} ({summary})"]
    for group in result.by_agreement():
        agreement = group["agreement"]
        if agreement is None:
            lines.append("  The register as a whole")
        else:
            lines.append(f"  Agreement '{group['title'] or '(no title)'}' <{agreement}>")
        for finding in group["findings"]:
            lines.append(f"    {finding.severity}: {finding.message}")
            if finding.value and finding.value != agreement:
                lines.append(f"      value: {finding.value}")
    return "\n".join(lines)


def format_json(results: list[dict[str, Any]]) -> str:
    """Machine-readable results for several files."""
    return json.dumps({"results": results}, indent=2, ensure_ascii=False)
