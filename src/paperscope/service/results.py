"""One serialisation convention for every service result: a dataclass whose `to_dict()` is JSON-ready.

Papers become `render.jsonout.paper_to_dict`, dates ISO strings, paths strings, nested dataclasses dicts;
fields whose name starts with `_` stay private. JSON output of the CLI, the web API and MCP tool results all
come from `to_dict()`.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime
from enum import Enum
from pathlib import Path

from paperscope.models import Paper
from paperscope.render.jsonout import paper_to_dict

JSONValue = str | int | float | bool | None | list["JSONValue"] | dict[str, "JSONValue"]


def jsonable(value: object) -> JSONValue:
    """`value` as JSON-ready data (see the module docstring)."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, Paper):
        return paper_to_dict(value)  # type: ignore[return-value]
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, (Path, Enum)):
        return str(value.value if isinstance(value, Enum) else value)
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict) and not isinstance(value, type):
        return jsonable(to_dict())
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: jsonable(getattr(value, f.name)) for f in dataclasses.fields(value) if not f.name.startswith("_")}
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        items = sorted(value) if isinstance(value, (set, frozenset)) else value
        return [jsonable(v) for v in items]
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return jsonable(value.tolist())
    return str(value)


def as_dict(value: JSONValue) -> dict[str, JSONValue]:
    """A stored JSON value that should be an object ({} when it is not)."""
    return value if isinstance(value, dict) else {}


def as_str(value: JSONValue) -> str | None:
    """A stored JSON value that should be a string (None when it is not)."""
    return value if isinstance(value, str) else None


class Result:
    """Base of every service result."""

    def to_dict(self) -> dict[str, JSONValue]:
        assert dataclasses.is_dataclass(self)
        return {f.name: jsonable(getattr(self, f.name)) for f in dataclasses.fields(self) if not f.name.startswith("_")}
