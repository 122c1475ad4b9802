"""List queries of the fake PBX: ``filter``, ``search``, ``orderby``, ``skip``/``top``.

PortSIP REST "About" (Query Options, Filter) describes an OData-like filter with ``eq``, ``ne``,
``gt``, ``ge``, ``lt``, ``le``, ``and``, ``or``, ``startswith``, ``endswith`` and ``contains``.
This is a small recursive-descent reading of exactly that:

    expr  := conj ("or" conj)*
    conj  := atom ("and" atom)*
    atom  := "(" expr ")" | field op literal | fn "(" field "," literal ")"
    op    := eq | ne | gt | ge | lt | le
    fn    := startswith | endswith | contains
    literal := 'text' ('' escapes a quote) | number | true | false | null

Comparisons follow OData: text against text orders by code point (``caller gt '101'``), a
number against a number by value; anything else (a null, mixed types) is false, and "items
where the expression evaluates to false or null are omitted".
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Predicate", "QueryError", "apply_query", "parse_filter"]

Row = dict[str, Any]
Predicate = Callable[[Row], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?[0-9]+(?:\.[0-9]+)?)|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<punct>[(),]))"
)
_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "ge": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "le": lambda a, b: a <= b,
}
_FUNCS: dict[str, Callable[[str, str], bool]] = {
    "startswith": str.startswith,
    "endswith": str.endswith,
    "contains": lambda value, part: part in value,
}


class QueryError(ValueError):
    """A list parameter the fake PBX cannot understand; ``field`` names the parameter."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


def _tokenize(text: str) -> list[tuple[str, Any]]:
    tokens: list[tuple[str, Any]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise QueryError("filter", f"cannot read {text[pos:]!r}")
        pos = match.end()
        if match["str"] is not None:
            tokens.append(("lit", match["str"][1:-1].replace("''", "'")))
        elif match["num"] is not None:
            num = match["num"]
            tokens.append(("lit", float(num) if "." in num else int(num)))
        elif match["word"] is not None:
            word = match["word"]
            literal = {"true": True, "false": False, "null": None}
            if word in literal:
                tokens.append(("lit", literal[word]))
            else:
                tokens.append(("word", word))
        else:
            tokens.append(("punct", match["punct"]))
    return tokens


class _Parser:
    def __init__(self, tokens: list[tuple[str, Any]]) -> None:
        self.tokens = tokens
        self.pos = 0

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str, value: Any = None) -> Any:
        token = self.peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            want = value if value is not None else kind
            raise QueryError("filter", f"expected {want!r}, found {token[1] if token else 'end'!r}")
        self.pos += 1
        return token[1]

    def is_word(self, word: str) -> bool:
        token = self.peek()
        return token is not None and token[0] == "word" and token[1] == word

    def expr(self) -> Predicate:
        parts = [self.conj()]
        while self.is_word("or"):
            self.pos += 1
            parts.append(self.conj())
        return parts[0] if len(parts) == 1 else (lambda row: any(p(row) for p in parts))

    def conj(self) -> Predicate:
        parts = [self.atom()]
        while self.is_word("and"):
            self.pos += 1
            parts.append(self.atom())
        return parts[0] if len(parts) == 1 else (lambda row: all(p(row) for p in parts))

    def atom(self) -> Predicate:
        token = self.peek()
        if token == ("punct", "("):
            self.pos += 1
            inner = self.expr()
            self.take("punct", ")")
            return inner
        name = self.take("word")
        if name in _FUNCS and self.peek() == ("punct", "("):
            self.pos += 1
            field = self.take("word")
            self.take("punct", ",")
            part = self.take("lit")
            self.take("punct", ")")
            fn = _FUNCS[name]
            return lambda row: isinstance(row.get(field), str) and fn(row[field], str(part))
        op = self.take("word")
        value = self.take("lit")
        if op == "eq":
            return lambda row: row.get(name) == value
        if op == "ne":
            return lambda row: row.get(name) != value
        if op in _ORDER:
            return _compare(name, _ORDER[op], value)
        raise QueryError(
            "filter", f"unknown operator {op!r} (eq, ne, gt, ge, lt, le, and, or, startswith)"
        )


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _compare(name: str, op: Callable[[Any, Any], bool], value: Any) -> Predicate:
    def predicate(row: Row) -> bool:
        have = row.get(name)
        if isinstance(have, str) and isinstance(value, str):
            return op(have, value)
        if _is_number(have) and _is_number(value):
            return op(have, value)
        return False

    return predicate


def parse_filter(text: str) -> Predicate:
    parser = _Parser(_tokenize(text))
    predicate = parser.expr()
    if parser.peek() is not None:
        raise QueryError("filter", f"unexpected {parser.peek()[1]!r}")  # type: ignore[index]
    return predicate


def _sort(rows: list[Row], orderby: str) -> list[Row]:
    for clause in reversed([c.strip() for c in orderby.split(",") if c.strip()]):
        parts = clause.split()
        if len(parts) > 2 or (len(parts) == 2 and parts[1].lower() not in ("asc", "desc")):
            raise QueryError("orderby", f"{clause!r} is not 'field [asc|desc]'")
        field, desc = parts[0], len(parts) == 2 and parts[1].lower() == "desc"
        rows.sort(key=lambda r: (r.get(field) is None, str(r.get(field) or "")), reverse=desc)
    return rows


def apply_query(
    rows: Sequence[Row],
    *,
    filter: str | None,
    search: str | None,
    orderby: str | None,
    search_fields: Sequence[str],
) -> list[Row]:
    """Rows matching ``filter`` and ``search``, sorted by ``orderby`` (stable otherwise)."""
    result = list(rows)
    if filter:
        predicate = parse_filter(filter)
        result = [r for r in result if predicate(r)]
    if search:
        needle = search.lower()
        result = [
            r for r in result if any(needle in str(r.get(f) or "").lower() for f in search_fields)
        ]
    if orderby:
        result = _sort(result, orderby)
    return result
