"""Fail when a public signature of the service layer, the Library or the store contract says `Any`.

mypy proves the types hold; this proves they say something: every public function, method and result field of
`paperscope.service.*`, `paperscope.library` and `paperscope.store.api` is annotated, and never with `Any`.
Run by .ci/run: `python tools/check_signatures.py`.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import pkgutil
import re
import sys
from collections.abc import Iterator

ANY = re.compile(r"\bAny\b")


def modules() -> Iterator[str]:
    import paperscope.service

    yield "paperscope.library"
    yield "paperscope.store.api"
    for info in pkgutil.iter_modules(paperscope.service.__path__):
        yield f"paperscope.service.{info.name}"


def problems_of(name: str) -> Iterator[str]:
    mod = importlib.import_module(name)
    for attr, obj in vars(mod).items():
        if attr.startswith("_") or getattr(obj, "__module__", None) != name:
            continue
        if inspect.isfunction(obj):
            yield from _function(f"{name}.{attr}", obj)
        elif inspect.isclass(obj):
            if dataclasses.is_dataclass(obj):
                for f in dataclasses.fields(obj):
                    if not f.name.startswith("_") and ANY.search(str(f.type)):
                        yield f"{name}.{attr}.{f.name}: field typed {f.type}"
            for m_name, m in vars(obj).items():
                if m_name.startswith("_") and m_name not in ("__init__",):
                    continue
                fn = m.__func__ if isinstance(m, (classmethod, staticmethod)) else m
                if inspect.isfunction(fn) and fn.__module__ == name:
                    yield from _function(f"{name}.{attr}.{m_name}", fn)


def _function(qual: str, fn: object) -> Iterator[str]:
    sig = inspect.signature(fn)  # type: ignore[arg-type]
    for p in sig.parameters.values():
        if p.name in ("self", "cls"):
            continue
        if p.annotation is inspect.Parameter.empty:
            yield f"{qual}: parameter {p.name!r} has no annotation"
        elif ANY.search(str(p.annotation)):
            yield f"{qual}: parameter {p.name!r} is {p.annotation}"
    if sig.return_annotation is inspect.Signature.empty and not qual.endswith("__init__"):
        yield f"{qual}: no return annotation"
    elif ANY.search(str(sig.return_annotation)):
        yield f"{qual}: returns {sig.return_annotation}"


def main() -> int:
    found = [p for m in modules() for p in problems_of(m)]
    for p in found:
        print(p)
    print(f"{len(found)} public signatures with Any or without annotations", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
