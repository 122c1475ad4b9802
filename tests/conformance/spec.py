"""Check recorded HTTP exchanges against PortSIP's published OpenAPI document.

A small OpenAPI 3.1 reader for what the document uses: path templates, query and path
parameters, JSON (and, for the OAuth endpoint, form) request bodies, responses by exact status
or range (``4XX``), bearer security. Schemas are checked with ``jsonschema`` (Draft 2020-12,
OpenAPI 3.1's dialect) with formats asserted, ``int32``/``int64`` and ``date-time`` included.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from jsonschema import Draft202012Validator, FormatChecker

from tests.conformance.capture import Exchange
from tests.conformance.quirks import QUIRKS, Quirk, adjusted

__all__ = ["DOCUMENT", "Operation", "Spec", "load"]

DOCUMENT = Path(__file__).with_name("portsip-openapi-ivr.json")

FORMATS = FormatChecker()
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


@FORMATS.checks("int32")
def _int32(value: object) -> bool:
    return not isinstance(value, int) or -(2**31) <= value <= 2**31 - 1


@FORMATS.checks("int64")
def _int64(value: object) -> bool:
    return not isinstance(value, int) or -(2**63) <= value <= 2**63 - 1


@FORMATS.checks("date-time")
def _date_time(value: object) -> bool:
    if not isinstance(value, str):
        return True
    if not _RFC3339.match(value):
        return False
    try:
        datetime.fromisoformat(value)
    except ValueError:
        return False
    return True


@dataclass(frozen=True)
class Operation:
    method: str  # upper case
    template: str  # "/ivrs/{id}"
    spec: dict[str, Any]
    pattern: re.Pattern[str]

    @property
    def id(self) -> str:
        return str(self.spec.get("operationId", f"{self.method} {self.template}"))

    def __str__(self) -> str:
        return f"{self.method} {self.template}"


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(f"^{regex}$")


def _errors(schema: Any, instance: Any, where: str) -> list[str]:
    validator = Draft202012Validator(schema, format_checker=FORMATS)
    found = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: list(e.path)):
        at = ".".join(str(p) for p in error.absolute_path)
        found.append(f"{where}{'.' + at if at else ''}: {error.message}")
    return found


def _typed(value: str, schema: dict[str, Any]) -> Any:
    # Query strings are text; read them the way the parameter's schema types them.
    kind = schema.get("type")
    if kind == "integer" and re.fullmatch(r"-?[0-9]+", value):
        return int(value)
    if kind == "boolean" and value in ("true", "false"):
        return value == "true"
    return value


class Spec:
    """The document (adjusted by ``quirks``) as a checker of exchanges."""

    def __init__(self, document: dict[str, Any], quirks: tuple[Quirk, ...] = QUIRKS) -> None:
        self.document = adjusted(document, quirks)
        self.base = self.document["servers"][0]["url"].rstrip("/")  # "/api"
        self.operations = [
            Operation(method.upper(), template, operation, _template_regex(template))
            for template, item in self.document["paths"].items()
            for method, operation in item.items()
        ]

    def find(self, method: str, path: str) -> Operation | None:
        if not path.startswith(self.base + "/"):
            return None
        local = path[len(self.base) :]
        for operation in self.operations:
            if operation.method == method and operation.pattern.match(local):
                return operation
        return None

    def violations(self, exchange: Exchange) -> list[str]:
        """What is wrong with ``exchange`` (request and response); empty when it conforms."""
        return self.request_violations(exchange) + self.response_violations(exchange)

    def request_violations(self, exchange: Exchange) -> list[str]:
        operation = self.find(exchange.method, exchange.path)
        if operation is None:
            return [f"{exchange}: no such operation in the document"]
        where = f"{exchange} ({operation.id})"
        return [f"{where}: {problem}" for problem in self._request(operation, exchange)]

    def response_violations(self, exchange: Exchange) -> list[str]:
        operation = self.find(exchange.method, exchange.path)
        if operation is None:
            return [f"{exchange}: no such operation in the document"]
        where = f"{exchange} ({operation.id}) -> {exchange.status}"
        return [f"{where}: {problem}" for problem in self._response(operation, exchange)]

    # --- requests ---------------------------------------------------------------------

    def _request(self, operation: Operation, exchange: Exchange) -> list[str]:
        problems: list[str] = []
        secured = operation.spec.get("security", self.document.get("security", []))
        if secured and not exchange.headers.get("authorization", "").startswith("Bearer "):
            problems.append("a secured operation sent without a Bearer token")
        declared = {
            p["name"]: p for p in operation.spec.get("parameters", []) if p["in"] == "query"
        }
        seen = set()
        for name, value in exchange.query:
            if name not in declared:
                problems.append(f"query parameter {name!r} is not declared")
                continue
            seen.add(name)
            schema = declared[name]["schema"]
            problems += _errors(schema, _typed(value, schema), f"query.{name}")
        for name, parameter in declared.items():
            if parameter.get("required") and name not in seen:
                problems.append(f"query parameter {name!r} is required")
        problems += self._request_body(operation, exchange)
        return problems

    def _request_body(self, operation: Operation, exchange: Exchange) -> list[str]:
        declared = operation.spec.get("requestBody")
        if declared is None:
            return [] if not exchange.body else ["a body sent where none is declared"]
        if not exchange.body:
            return ["the body is required"] if declared.get("required") else []
        media_type = exchange.headers.get("content-type", "").split(";")[0].strip()
        media = declared["content"].get(media_type)
        if media is None:
            return [f"content type {media_type!r} is not one of {sorted(declared['content'])}"]
        if media_type == "application/x-www-form-urlencoded":
            instance: Any = dict(parse_qsl(exchange.body.decode(), keep_blank_values=True))
        else:
            try:
                instance = json.loads(exchange.body)
            except ValueError:
                return ["the body is not JSON"]
        return _errors(media.get("schema", {}), instance, "body")

    # --- responses --------------------------------------------------------------------

    def _response(self, operation: Operation, exchange: Exchange) -> list[str]:
        responses = operation.spec["responses"]
        status = str(exchange.status)
        declared = responses.get(status) or responses.get(status[0] + "XX")
        if declared is None:
            return [f"status {status} is not declared ({sorted(responses)})"]
        schema = declared.get("content", {}).get("application/json", {}).get("schema")
        if schema is None:  # "OK" or 204 without content: nothing may follow
            return ["a body answered where none is declared"] if exchange.response_body else []
        media_type = exchange.response_headers.get("content-type", "").split(";")[0].strip()
        if media_type != "application/json":
            return [f"content type {media_type!r}, not application/json"]
        try:
            instance = json.loads(exchange.response_body)
        except ValueError:
            return ["the body is not JSON"]
        return _errors(schema, instance, "body")


def load(quirks: tuple[Quirk, ...] = QUIRKS) -> Spec:
    return Spec(json.loads(DOCUMENT.read_text()), quirks)
