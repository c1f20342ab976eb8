"""The click group, the per-invocation context and the helpers every command module shares.

A command is: parse options -> one service call -> print (text, or `to_dict()` as JSON). Errors of
paperscope's own kinds become one line and exit status 1; this module words their hints for a shell user.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from paperscope import __version__
from paperscope.errors import Ambiguous, NotFound, NotReady, PaperscopeError

F = TypeVar("F", bound=Callable[..., Any])

# What a shell user runs to provide what a NotReady error says is missing.
NEEDS_HINT = {
    "embed": "run `paperscope embed`",
    "novelty": "run `paperscope novelty`",
    "score": "run `paperscope score`",
    "enrich": "run `paperscope enrich`",
    "migrate": "run any writing command once, e.g. `paperscope stats` without a read-only disk",
    "embed --replace": "run `paperscope embed --model NAME --replace`",
}
NOT_FOUND_HINT = {
    "paper": "try `paperscope search` or `paperscope fetch`",
    "author": "try `paperscope search 'au:NAME'`",
    "library": "check --db, or make one with `paperscope demo`, `paperscope import FILE` or `paperscope fetch`",
    "topics": "run `paperscope init` and edit its [[topics]]",
    "topic": "see `paperscope config`",
    "follow": "see `paperscope following`",
}


class Ctx:
    """What every command of one invocation shares: where the library and config are, and the Library."""

    def __init__(self, db: str | None, config: str | None) -> None:
        self.db = db
        self.config_path = config
        self._config: Any = None
        self._libs: list[Any] = []

    @property
    def config(self) -> Any:
        if self._config is None:
            from paperscope.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def library(self, *, readonly: bool = False, create: bool = True, auto_repair: bool = True) -> Any:
        """The Library of this invocation (closed when the command ends). Read commands pass readonly=True."""
        from paperscope.library import Library

        lib = Library.open(self.db, self.config, readonly=readonly, create=create, auto_repair=auto_repair)
        click.get_current_context().call_on_close(lib.close)
        return lib


def hint(e: PaperscopeError) -> str:
    """The error as one line, with what a shell user can do about it."""
    msg = str(e)
    if isinstance(e, NotReady) and e.needs in NEEDS_HINT:
        return f"{msg} ({NEEDS_HINT[e.needs]})"
    if isinstance(e, NotFound) and e.kind in NOT_FOUND_HINT:
        return f"{msg} ({NOT_FOUND_HINT[e.kind]})"
    if isinstance(e, Ambiguous) and "--id" not in msg:
        return f"{msg} (pick one with --id)"
    return msg


def friendly(fn: F) -> F:
    """Turn paperscope's own errors into a one-line message and exit status 1."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except PaperscopeError as e:
            raise click.ClickException(hint(e)) from e
        except BrokenPipeError as e:
            raise PipeClosed() from e
        except OSError as e:
            where = f"{e.filename}: " if getattr(e, "filename", None) else ""
            raise click.ClickException(f"{where}{e.strerror or e}") from e

    return wrapper  # type: ignore[return-value]


def emit_json(data: Any) -> None:
    """Print a result (anything with `to_dict()`, or plain data) as JSON."""
    if hasattr(data, "to_dict"):
        data = data.to_dict()
    elif isinstance(data, list):
        data = [d.to_dict() if hasattr(d, "to_dict") else d for d in data]
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def positive(ctx: click.Context, param: click.Parameter, value: int | None) -> int | None:
    """click callback: a count that must be at least 1."""
    if value is not None and value < 1:
        raise click.BadParameter(f"must be at least 1, not {value}")
    return value


pass_ctx = click.make_pass_decorator(Ctx)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", envvar="PAPERSCOPE_DB", help="Library database file (default: the platform's data folder).")
@click.option("--config", "config", envvar="PAPERSCOPE_CONFIG", help="Config file (TOML).")
@click.version_option(__version__, prog_name="paperscope")
@click.pass_context
def main(ctx: click.Context, db: str | None, config: str | None) -> None:
    """paperscope: a research radar for arXiv — a local library of papers and topic digests."""
    ctx.obj = Ctx(db, config)


class PipeClosed(Exception):
    """The reader of our output went away (`paperscope search x | head`): not an error of the user's.
    Not an OSError, so click lets it through to `run`."""


def run() -> None:
    """The `paperscope` executable: `main`, with a closed pipe ending quietly with status 0."""
    try:
        main(prog_name="paperscope")
    except PipeClosed:
        _quiet_stdout()
        sys.exit(0)


def _quiet_stdout() -> None:
    import os

    # Python flushes stdout again at exit; point it at /dev/null so that does not fail too.
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass
