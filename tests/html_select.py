"""A small CSS selector subset for lxml trees in tests (the cssselect package is not a
dependency): tag, *, .class, #id, [attr], [attr="value"], :not(simple), and the
descendant (space) and child (>) combinators.

    select(tree, '.key-points a[data-sentences]')
"""

from __future__ import annotations

import re
from functools import lru_cache

_TOKEN = re.compile(
    r"""\s*(?P<comb>>)\s*
      | (?P<space>\s+)
      | (?P<tag>[a-zA-Z][\w-]*|\*)
      | \.(?P<cls>[\w-]+)
      | \#(?P<id>[\w-]+)
      | \[(?P<attr>[\w-]+)(?:=(?:"(?P<dq>[^"]*)"|'(?P<sq>[^']*)'|(?P<bare>[^\]]+)))?\]
      | :not\((?P<neg>[^()]*)\)
    """,
    re.X,
)


def _literal(value: str) -> str:
    if '"' not in value:
        return f'"{value}"'
    if "'" not in value:
        return f"'{value}'"
    parts = value.split('"')
    return "concat(" + ", '\"', ".join(f'"{p}"' for p in parts) + ")"


def _conditions(selector: str) -> tuple[str, list[str]]:
    tag, conditions, pos = "*", [], 0
    while pos < len(selector):
        m = _TOKEN.match(selector, pos)
        if not m or m.group("comb") or m.group("space"):
            raise ValueError(f"unsupported selector: {selector!r}")
        pos = m.end()
        if m.group("tag"):
            tag = m.group("tag").lower()
        elif m.group("cls"):
            conditions.append(f"contains(concat(' ', normalize-space(@class), ' '), ' {m.group('cls')} ')")
        elif m.group("id"):
            conditions.append(f"@id={_literal(m.group('id'))}")
        elif m.group("attr"):
            value = next((v for v in (m.group("dq"), m.group("sq"), m.group("bare")) if v is not None), None)
            name = m.group("attr")
            conditions.append(f"@{name}" if value is None else f"@{name}={_literal(value)}")
        elif m.group("neg") is not None:
            inner_tag, inner = _conditions(m.group("neg").strip())
            parts = ([f"self::{inner_tag}"] if inner_tag != "*" else []) + inner
            conditions.append("not(" + " and ".join(parts or ["true()"]) + ")")
    return tag, conditions


@lru_cache(maxsize=256)
def to_xpath(selector: str) -> str:
    steps: list[tuple[str, str]] = []  # (axis, compound)
    axis = "descendant-or-self::"
    for piece in re.split(r"(\s*>\s*|\s+)", selector.strip()):
        if not piece:
            continue
        if piece.strip() == ">":
            axis = "/"
            continue
        if not piece.strip():
            axis = "//"
            continue
        steps.append((axis, piece))
        axis = "//"
    xpath = ""
    for axis, compound in steps:
        tag, conditions = _conditions(compound)
        xpath += axis + tag + "".join(f"[{c}]" for c in conditions)
    return xpath


def select(tree, selector: str) -> list:
    return tree.xpath(to_xpath(selector))
