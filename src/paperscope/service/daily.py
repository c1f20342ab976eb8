"""The daily pipeline: fetch → enrich → embed → novelty → score → digest → deliver, and a scheduler for it.

Each step is recorded in the library state as it finishes (`daily:run`), so a run that died at "enrich"
resumes there on the next call the same day; a new day starts over (fetch reads back to its last success,
so nothing announced in between is lost). One run at a time: a lock file beside the library holds the pid
and start time; the lock of a run that crashed is detected (dead pid, or older than `STALE_AFTER`) and
taken over.

Exit codes, for schedulers (`RunResult.exit_code`):

    0   OK            every step done (a quiet arXiv day is OK: "arXiv announced nothing today (…)")
    1   USER_ERROR    bad config or input (a one-line message names the setting); retrying will not help
    2   PARTIAL       some step or delivery failed; what worked is kept and the next run retries the rest
    3   UNREACHABLE   arXiv could not be reached (or failed every request); try again later
    75  LOCKED        another run holds the lock (EX_TEMPFAIL); try again later
"""

from __future__ import annotations

import json
import os
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from enum import IntEnum
from pathlib import Path
from typing import Any, TYPE_CHECKING

from paperscope import arxiv_calendar as cal
from paperscope.delivery.base import SendResult
from paperscope.delivery.dispatch import Plan, Transports
from paperscope.delivery.email import Transport
from paperscope.errors import ConfigError, InputError, NotFound, PaperscopeError, QueryError, SourceError

if TYPE_CHECKING:
    from paperscope.library import Library
from paperscope.service.results import as_dict, as_str

JSON = dict[str, object]
STEPS = ("fetch", "enrich", "embed", "novelty", "score", "digest", "deliver")
# A failure in these leaves a useful digest: the run goes on and ends PARTIAL.
OPTIONAL = frozenset({"enrich", "novelty", "score"})
STATE_KEY = "daily:run"
LAST_DIGEST_KEY = "daily:last_digest"
LAST_OK_KEY = "daily:last_ok"
WATCH_KEY = "daily:watch"
STALE_AFTER = timedelta(hours=6)
USER_ERRORS = (ConfigError, InputError, QueryError, NotFound)
Day = date  # RunResult has a field named `date`


class ExitCode(IntEnum):
    OK = 0
    USER_ERROR = 1
    PARTIAL = 2
    UNREACHABLE = 3
    LOCKED = 75


class StepPartial(PaperscopeError):
    """A step that did part of its work (some topics fetched, some deliveries failed)."""


class Unreachable(SourceError):
    """arXiv failed every request of the fetch step."""


def _is_unreachable(e: BaseException) -> bool:
    from paperscope.errors import UnreachableError

    return isinstance(e, (Unreachable, UnreachableError))


# ------------------------------------------------------------------------------------------------ the lock
class RunLock:
    """`<db>.lock`: created exclusively, holding {"pid", "host", "started"}; a dead or too old holder is stale."""

    def __init__(self, path: Path, *, stale_after: timedelta = STALE_AFTER,
                 clock: Callable[[], float] = time.time, pid: int | None = None) -> None:
        self.path = path
        self.stale_after = stale_after
        self.clock = clock
        self.pid = os.getpid() if pid is None else pid
        self.held = False
        self.took_over: JSON | None = None

    def holder(self) -> JSON | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}  # half-written or garbage: judged by the file's age

    def stale(self, info: JSON) -> bool:
        started = info.get("started")
        if not isinstance(started, (int, float)):
            try:
                started = self.path.stat().st_mtime
            except FileNotFoundError:
                return True
            if not info:  # unreadable: give a writer a minute to finish writing it
                return self.clock() - started > 60
        if self.clock() - started > self.stale_after.total_seconds():
            return True
        pid, host = info.get("pid"), info.get("host")
        if isinstance(pid, int) and host == socket.gethostname():
            return not _pid_alive(pid)
        return False

    def acquire(self) -> bool:
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                info = self.holder()
                if info is None:
                    continue  # released between our two looks
                if not self.stale(info):
                    return False
                self.took_over = info
                self.path.unlink(missing_ok=True)
                continue
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump({"pid": self.pid, "host": socket.gethostname(), "started": self.clock()}, f)
            self.held = True
            return True
        return False

    def release(self) -> None:
        if self.held:
            info = self.holder() or {}
            if info.get("pid") == self.pid:
                self.path.unlink(missing_ok=True)
            self.held = False

    def describe(self) -> str:
        info = self.holder() or {}
        started = info.get("started")
        when = datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds") if isinstance(
            started, (int, float)) else "unknown time"
        return f"another run (pid {info.get('pid', '?')} on {info.get('host', '?')}, since {when}) holds {self.path}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def lock_path(lib: Library) -> Path:
    """The lock file beside the library database (a PostgreSQL library's: in this machine's cache folder for it,
    so runs on one machine take turns; runs on two machines are kept apart only by the store's writer lock)."""
    beside = lib.store.cache_path("lock")
    if beside is not None:
        return beside
    db = Path(str(getattr(lib.store, "path", "") or "paperscope.db"))
    return db.with_name(db.name + ".lock")


def home(lib: Library) -> Path:
    """The folder the library lives in (the outbox and default digest folder go there)."""
    return lock_path(lib).parent


# ------------------------------------------------------------------------------------------------ results
@dataclass(slots=True)
class StepReport:
    name: str
    status: str  # done | partial | failed | skipped | resumed (done by an earlier run today)
    detail: str = ""
    seconds: float = 0.0
    data: JSON = field(default_factory=dict)

    def to_dict(self) -> JSON:
        return {"name": self.name, "status": self.status, "detail": self.detail,
                "seconds": round(self.seconds, 3), "data": self.data}


@dataclass(slots=True)
class RunResult:
    date: Day
    started: datetime
    steps: list[StepReport] = field(default_factory=list)
    exit_code: ExitCode = ExitCode.OK
    message: str = ""
    quiet: str | None = None  # why arXiv announced nothing today, when it did not
    covers: list[Day] = field(default_factory=list)  # announcement days this run is the first to cover
    resumed_from: str | None = None
    late: bool = False  # arXiv should have announced but its feed does not have it yet

    @property
    def ok(self) -> bool:
        return self.exit_code == ExitCode.OK

    def to_dict(self) -> JSON:
        return {"date": self.date.isoformat(), "started": self.started.isoformat(), "exit_code": int(self.exit_code),
                "status": self.exit_code.name.lower(), "message": self.message, "quiet": self.quiet,
                "covers": [d.isoformat() for d in self.covers], "resumed_from": self.resumed_from,
                "late": self.late, "steps": [s.to_dict() for s in self.steps]}

    def summary(self) -> str:
        """One line per step (what it did, how long it took), then the outcome."""
        lines = [f"{s.name:<8} {s.status:<8} {s.seconds:7.1f} s  {s.detail}".rstrip() for s in self.steps]
        if self.message:
            lines.append(self.message)
        return "\n".join(lines)


# ------------------------------------------------------------------------------------------------ the run
@dataclass
class RunContext:
    """What the steps share within one run."""

    lib: Library
    day: date
    now: datetime
    quiet: str | None
    out_dir: Path
    transports: Transports | None = None
    plan: Plan | None = None  # the delivery channels, checked before the first step
    notice: str = ""
    data: JSON = field(default_factory=dict)


StepFn = Callable[[RunContext], tuple[str, JSON]]


def run(lib: Library, *, steps: Sequence[str] = STEPS, deliver: bool = True, now: datetime | None = None,
        out_dir: str | Path | None = None, transports: Transports | None = None,
        impls: dict[str, StepFn] | None = None, log: Callable[[str], None] | None = None) -> RunResult:
    """Run the daily pipeline once (resuming today's unfinished run), under the library's lock."""
    from paperscope.service import daily_steps  # the calls into the other services, one per step

    now = now or lib.now()
    day = now.astimezone(timezone.utc).date()
    result = RunResult(date=day, started=now)
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        result.exit_code, result.message = ExitCode.USER_ERROR, \
            f"unknown step {unknown[0]!r} (steps: {', '.join(STEPS)})"
        return result
    lock = RunLock(lock_path(lib))
    if not lock.acquire():
        result.exit_code, result.message = ExitCode.LOCKED, lock.describe() + "; try again later"
        return result
    try:
        return _run_locked(lib, result, [s for s in STEPS if s in steps and (deliver or s != "deliver")],
                           out_dir, transports, {**daily_steps.DEFAULT, **(impls or {})}, log, lock)
    finally:
        lock.release()


def _run_locked(lib: Library, result: RunResult, steps: list[str], out_dir: str | Path | None,
                transports: Transports | None,
                impls: dict[str, StepFn], log: Callable[[str], None] | None, lock: RunLock) -> RunResult:
    store = lib.store
    now, day = result.started, result.date
    settings = lib.settings
    out = Path(out_dir or getattr(settings, "digest_dir", "") or home(lib) / "digest").expanduser()
    ctx = RunContext(lib, day, now, cal.quiet_reason(now), out, transports)
    result.quiet = ctx.quiet
    last_ok = as_str(store.get_state(LAST_OK_KEY))
    if last_ok:
        result.covers = cal.missed_since(datetime.fromisoformat(last_ok), now)
    ctx.notice = notice_for(ctx.quiet, result.covers)
    if "deliver" in steps:
        from paperscope.delivery.dispatch import plan

        try:  # bad delivery settings stop the run before any work, so nothing is half done
            ctx.plan = plan(settings, transports, outbox=home(lib) / "outbox")
        except USER_ERRORS as e:
            result.exit_code, result.message = ExitCode.USER_ERROR, str(e)
            return result
    state: dict[str, Any] = dict(as_dict(store.get_state(STATE_KEY)))
    done: set[str] = set()
    if state.get("date") == day.isoformat() and not state.get("finished"):
        # Resume at the first step not done; every step after it runs again (it may depend on that one).
        earlier = set(state.get("done") or [])
        for s in steps:
            if s not in earlier:
                break
            done.add(s)
        pending = [s for s in steps if s not in done]
        result.resumed_from = pending[0] if done and pending else None
    state = {"date": day.isoformat(), "started": now.isoformat(), "done": sorted(done), "finished": None,
             "pid": lock.pid}
    store.set_state(STATE_KEY, state)
    partial = False
    for name in steps:
        if name in done:
            result.steps.append(StepReport(name, "resumed", "done by an earlier run today"))
            continue
        t0 = time.perf_counter()
        report = StepReport(name, "done")
        try:
            report.detail, report.data = impls[name](ctx)
            done.add(name)
        except StepPartial as e:
            # What it did is kept; not marked done, so a run later today tries it (and what follows) again.
            report.status, report.detail, partial = "partial", str(e), True
        except USER_ERRORS as e:
            report.status, report.detail = "failed", str(e)
            result.exit_code, result.message = ExitCode.USER_ERROR, f"{name}: {e}"
        except (PaperscopeError, OSError) as e:
            report.status, report.detail = "failed", str(e)
            if _is_unreachable(e):
                result.exit_code = ExitCode.UNREACHABLE
                result.message = f"{name}: {e}; try again later (the next run reads back to the last success)"
            elif name in OPTIONAL:
                partial = True
            else:
                result.exit_code, result.message = ExitCode.PARTIAL, f"{name} failed: {e}"
        report.seconds = time.perf_counter() - t0
        result.steps.append(report)
        state["done"] = sorted(done)
        store.set_state(STATE_KEY, state)
        if log:
            log(f"{report.name:<8} {report.status:<8} {report.seconds:7.1f} s  {report.detail}".rstrip())
        if report.status == "failed" and name not in OPTIONAL or result.exit_code != ExitCode.OK:
            break
    result.late = bool(ctx.data.get("late"))
    if result.exit_code == ExitCode.OK:
        if partial:
            result.exit_code = ExitCode.PARTIAL
            failed = [s.name for s in result.steps if s.status in ("failed", "partial")]
            result.message = f"partial: {', '.join(failed)} did not finish; the next run retries"
        else:
            state["finished"] = lib.now().isoformat() if hasattr(lib, "now") else now.isoformat()
            store.set_state(STATE_KEY, state)
            if "fetch" in steps:
                store.set_state(LAST_OK_KEY, now.isoformat())
        if ctx.quiet and not result.message:
            result.message = quiet_message(ctx.quiet)
        elif not result.message:
            total = sum(s.seconds for s in result.steps)
            result.message = f"done: {len(result.steps)} steps in {total:.1f} s"
    return result


def quiet_message(reason: str) -> str:
    return f"arXiv announced nothing today ({reason}); the next run covers what was missed."


def notice_for(quiet: str | None, covers: Sequence[date]) -> str:
    """The line a digest opens with on a quiet day, or when it covers more than one announcement."""
    if quiet:
        return f"arXiv announced nothing today ({quiet})."
    if len(covers) > 1:
        days = ", ".join(f"{d:%a} {d:%d %b}" for d in covers)
        return f"This digest covers {len(covers)} announcements ({days}): some runs were missed."
    return ""


# ------------------------------------------------------------------------------------------------ send
@dataclass(slots=True)
class SendReport:
    date: date | None
    results: list[SendResult] = field(default_factory=list)

    @property
    def exit_code(self) -> ExitCode:
        if self.date is None or not self.results:
            return ExitCode.USER_ERROR
        return ExitCode.OK if all(r.ok for r in self.results) else ExitCode.PARTIAL

    def to_dict(self) -> JSON:
        return {"date": self.date.isoformat() if self.date else None, "exit_code": int(self.exit_code),
                "results": [r.to_dict() for r in self.results]}


def send(lib: Library, *, day: date | None = None, to: str = "", transport: Transport | None = None) -> SendReport:
    """Send the last digest's e-mails again (all recipients, or only `to`), exactly as they were built."""
    from paperscope.delivery.dispatch import outbox_files, resend
    from paperscope.delivery.email import SMTPTransport, smtp_config

    found, files = outbox_files(home(lib) / "outbox", day)
    if found is None or not files:
        what = f"of {day.isoformat()}" if day else "yet"
        raise InputError(f"no digest e-mail kept {what} in {home(lib) / 'outbox'} (run `paperscope run` first)")
    if transport is None:
        cfg = smtp_config(lib.settings)
        if cfg is None:
            raise ConfigError("smtp_host is empty: set it to send e-mail")
        transport = SMTPTransport(cfg)
    results = resend(transport, files, only=to)
    if to and not results:
        raise InputError(f"no e-mail to {to!r} kept for {found.isoformat()}")
    return SendReport(found, results)


# ------------------------------------------------------------------------------------------------ watch
@dataclass(slots=True)
class WatchResult:
    runs: list[RunResult] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)

    def to_dict(self) -> JSON:
        return {"runs": [r.to_dict() for r in self.runs], "slept": self.slept}


RETRY_AFTER = (timedelta(minutes=15), timedelta(minutes=30), timedelta(hours=1), timedelta(hours=2))
# The announcement feed is rebuilt just after midnight Eastern, four hours after the 20:00 announcement.
AFTER_ANNOUNCEMENT = timedelta(hours=4, minutes=30)


def watch(lib: Library, *, clock: Callable[[], datetime] | None = None, sleep: Callable[[float], None] = time.sleep,
          run_fn: Callable[..., RunResult] = run, after: timedelta = AFTER_ANNOUNCEMENT,
          retry_after: Sequence[timedelta] = RETRY_AFTER, max_runs: int | None = None,
          stop: Callable[[], bool] = lambda: False, log: Callable[[str], None] | None = None,
          **run_kwargs: object) -> WatchResult:
    """Run the pipeline `after` each announcement, forever (or `max_runs` times); retry later when arXiv is
    late or down. A missed announcement (the machine was off) is caught up at once on start."""
    clock = clock or lib.now
    out = WatchResult()
    attempts = 0
    while not stop():
        now = clock()
        handled: dict[str, Any] = dict(as_dict(lib.store.get_state(WATCH_KEY)))
        latest = cal.previous_announcement(now)
        handled_at = datetime.fromisoformat(handled["slot"]) if handled.get("slot") else None
        if handled_at is None or handled_at < latest:  # the latest announcement is not handled yet
            due = latest + after
        else:
            due = cal.next_announcement(latest) + after
        if attempts:
            due = max(due, out.runs[-1].started + retry_after[attempts - 1])
        if due > now:
            wait = (due - now).total_seconds()
            out.slept.append(wait)
            if log:
                log(f"next run at {due.isoformat(timespec='minutes')} (in {wait / 3600:.1f} h)")
            sleep(wait)
            continue
        result = run_fn(lib, now=clock(), **run_kwargs)
        out.runs.append(result)
        if log:
            log(result.summary())
        retry = result.exit_code in (ExitCode.PARTIAL, ExitCode.UNREACHABLE, ExitCode.LOCKED) or result.late
        if retry and attempts < len(retry_after):
            attempts += 1
        else:  # done, or a user error / retries used up: wait for the next announcement
            attempts = 0
            lib.store.set_state(WATCH_KEY, {"slot": latest.isoformat(), "exit_code": int(result.exit_code)})
        if max_runs is not None and len(out.runs) >= max_runs:
            break
    return out
