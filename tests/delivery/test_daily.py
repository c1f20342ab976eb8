"""The daily pipeline: the lock, resuming after a failure, exit codes, quiet days, and the watch loop."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from paperscope.errors import ConfigError, PaperscopeError
from paperscope.service import daily
from paperscope.service.daily import ExitCode, RunLock, Unreachable

MONDAY = datetime(2025, 10, 13, 9, tzinfo=timezone.utc)  # after Sunday evening's announcement
SATURDAY = datetime(2025, 10, 18, 9, tzinfo=timezone.utc)
THANKSGIVING_FRIDAY = datetime(2025, 11, 28, 9, tzinfo=timezone.utc)


class Recorder:
    """Step implementations that record their calls and fail where told."""

    def __init__(self, fail: dict[str, BaseException] | None = None) -> None:
        self.calls: list[str] = []
        self.fail = dict(fail or {})

    def impls(self) -> dict[str, Any]:
        def make(name: str) -> Any:
            def step(ctx: Any) -> tuple[str, dict[str, Any]]:
                self.calls.append(name)
                if name in self.fail:
                    raise self.fail.pop(name)
                return f"{name} ok", {"n": 1}
            return step
        return {n: make(n) for n in daily.STEPS}


def test_a_full_run_records_each_step_with_its_time(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    rec = Recorder()
    res = daily.run(lib, impls=rec.impls())
    assert res.exit_code == ExitCode.OK and res.quiet is None
    assert rec.calls == list(daily.STEPS)
    assert [s.status for s in res.steps] == ["done"] * 7 and all(s.seconds >= 0 for s in res.steps)
    assert "fetch" in res.summary() and res.to_dict()["steps"][0]["detail"] == "fetch ok"
    assert lib.store.get_state(daily.STATE_KEY)["finished"]
    assert not daily.lock_path(lib).exists()


def test_a_run_that_died_resumes_at_the_step_it_died_in(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    crash = Recorder(fail={"enrich": KeyboardInterrupt()})  # the process is killed mid-step
    with pytest.raises(KeyboardInterrupt):
        daily.run(lib, impls=crash.impls())
    assert crash.calls == ["fetch", "enrich"]
    assert not daily.lock_path(lib).exists()  # released on the way out
    again = Recorder()
    res = daily.run(lib, impls=again.impls())
    assert again.calls == ["enrich", "embed", "novelty", "score", "digest", "deliver"]
    assert res.resumed_from == "enrich" and res.steps[0].status == "resumed" and res.ok
    # the next day starts over
    third = Recorder()
    daily.run(lib, impls=third.impls(), now=MONDAY + timedelta(days=1))
    assert third.calls == list(daily.STEPS)


def test_an_optional_step_failing_is_partial_and_retried(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    rec = Recorder(fail={"enrich": PaperscopeError("OpenAlex: HTTP 503")})
    res = daily.run(lib, impls=rec.impls())
    assert res.exit_code == ExitCode.PARTIAL and "enrich" in res.message
    assert rec.calls == list(daily.STEPS)  # the digest still went out
    again = Recorder()
    # resumed at enrich: it and every step after it run again (delivery skips who already has it)
    assert daily.run(lib, impls=again.impls()).ok and again.calls == list(daily.STEPS[1:])


def test_a_required_step_failing_stops_the_run(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    rec = Recorder(fail={"digest": PaperscopeError("disk full")})
    res = daily.run(lib, impls=rec.impls())
    assert res.exit_code == ExitCode.PARTIAL and "digest failed: disk full" in res.message
    assert "deliver" not in rec.calls


@pytest.mark.parametrize("error, code", [
    (Unreachable("arXiv failed every request: connection refused"), ExitCode.UNREACHABLE),
    (ConfigError("config.toml:3: topic 'x': field 'query' must be a non-empty string"), ExitCode.USER_ERROR),
])
def test_exit_codes_say_what_a_scheduler_should_do(make_lib: Any, error: Exception, code: ExitCode) -> None:
    lib = make_lib(now=MONDAY)
    rec = Recorder(fail={"fetch": error})
    res = daily.run(lib, impls=rec.impls())
    assert res.exit_code == code and rec.calls == ["fetch"] and str(error) in res.message
    assert "\n" not in res.message


def test_unknown_step_is_a_user_error(make_lib: Any) -> None:
    res = daily.run(make_lib(now=MONDAY), steps=["fetch", "fetchh"], impls=Recorder().impls())
    assert res.exit_code == ExitCode.USER_ERROR and "'fetchh'" in res.message


@pytest.mark.parametrize("now, reason", [(SATURDAY, "weekend: no announcement on Fridays"),
                                         (THANKSGIVING_FRIDAY, "holiday: Thanksgiving")])
def test_quiet_days_say_why(make_lib: Any, now: datetime, reason: str) -> None:
    res = daily.run(make_lib(now=now), impls=Recorder().impls())
    assert res.ok and res.quiet == reason
    assert res.message == f"arXiv announced nothing today ({reason}); the next run covers what was missed."


def test_a_run_after_missed_days_says_what_it_covers(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    daily.run(lib, impls=Recorder().impls())
    res = daily.run(lib, impls=Recorder().impls(), now=MONDAY + timedelta(days=3))  # Tue, Wed missed
    assert [d.isoformat() for d in res.covers] == ["2025-10-13", "2025-10-14", "2025-10-15"]
    assert daily.notice_for(None, res.covers).startswith("This digest covers 3 announcements")


# ------------------------------------------------------------------------------------------------ the lock
def test_a_live_lock_makes_the_second_run_try_later(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    held = RunLock(daily.lock_path(lib))
    assert held.acquire()
    rec = Recorder()
    res = daily.run(lib, impls=rec.impls())
    assert res.exit_code == ExitCode.LOCKED == 75 and rec.calls == []
    assert f"pid {os.getpid()}" in res.message and str(daily.lock_path(lib)) in res.message
    held.release()
    assert daily.run(lib, impls=rec.impls()).ok


def dead_pid() -> int:
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_the_lock_of_a_crashed_run_is_taken_over(make_lib: Any) -> None:
    lib = make_lib(now=MONDAY)
    path = daily.lock_path(lib)
    path.write_text(json.dumps({"pid": dead_pid(), "host": socket.gethostname(), "started": time.time()}))
    assert daily.run(lib, impls=Recorder().impls()).ok
    assert not path.exists()


def test_a_lock_older_than_the_limit_is_stale_even_if_the_pid_lives(make_lib: Any, tmp_path: Any) -> None:
    path = tmp_path / "x.lock"
    path.write_text(json.dumps({"pid": os.getpid(), "host": socket.gethostname(),
                                "started": time.time() - 7 * 3600}))
    lock = RunLock(path)
    assert lock.acquire() and lock.took_over and lock.took_over["pid"] == os.getpid()
    other = RunLock(path, pid=os.getpid() + 1)
    assert not other.acquire()  # and now it is ours, fresh
    lock.release()
    assert not path.exists()


def test_a_garbled_lock_is_judged_by_its_age(tmp_path: Any) -> None:
    path = tmp_path / "x.lock"
    path.write_text("{half")
    assert not RunLock(path).acquire()  # maybe still being written
    old = time.time() - 120
    os.utime(path, (old, old))
    assert RunLock(path).acquire()


# ------------------------------------------------------------------------------------------------ watch
class Clock:
    def __init__(self, start: datetime) -> None:
        self.t = start
        self.slept: list[float] = []

    def now(self) -> datetime:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.t += timedelta(seconds=seconds)


def test_watch_runs_after_each_announcement_and_skips_the_weekend(make_lib: Any) -> None:
    clock = Clock(datetime(2025, 10, 16, 12, tzinfo=timezone.utc))  # Thursday noon; Wednesday's not handled
    lib = make_lib()
    runs: list[datetime] = []

    def fake_run(lib: Any, *, now: datetime, **kw: Any) -> daily.RunResult:
        runs.append(now)
        return daily.RunResult(date=now.date(), started=now)

    daily.watch(lib, clock=clock.now, sleep=clock.sleep, run_fn=fake_run, max_runs=3)
    after = daily.AFTER_ANNOUNCEMENT
    # catch-up at once, then Thursday evening's, then Sunday evening's (Friday and Saturday announce nothing)
    assert runs[0] == datetime(2025, 10, 16, 12, tzinfo=timezone.utc)
    assert runs[1] == datetime(2025, 10, 17, 0, tzinfo=timezone.utc) + after
    assert runs[2] == datetime(2025, 10, 20, 0, tzinfo=timezone.utc) + after


def test_watch_retries_later_when_arxiv_is_down_or_late(make_lib: Any) -> None:
    start = datetime(2025, 10, 14, 6, tzinfo=timezone.utc)  # Tuesday morning, Monday evening's is due
    clock = Clock(start)
    results = iter([ExitCode.UNREACHABLE, "late", ExitCode.OK, ExitCode.OK])
    runs: list[datetime] = []

    def fake_run(lib: Any, *, now: datetime, **kw: Any) -> daily.RunResult:
        runs.append(now)
        outcome = next(results)
        r = daily.RunResult(date=now.date(), started=now)
        if outcome == "late":
            r.late = True
        else:
            r.exit_code = outcome  # type: ignore[assignment]
        return r

    daily.watch(make_lib(), clock=clock.now, sleep=clock.sleep, run_fn=fake_run, max_runs=4)
    assert runs[1] - runs[0] == daily.RETRY_AFTER[0]
    assert runs[2] - runs[1] == daily.RETRY_AFTER[1]
    # handled: the next run waits for Tuesday evening's announcement
    assert runs[3] == datetime(2025, 10, 15, 0, tzinfo=timezone.utc) + daily.AFTER_ANNOUNCEMENT


def test_watch_stops_retrying_a_user_error(make_lib: Any) -> None:
    clock = Clock(datetime(2025, 10, 14, 6, tzinfo=timezone.utc))
    runs: list[datetime] = []

    def fake_run(lib: Any, *, now: datetime, **kw: Any) -> daily.RunResult:
        runs.append(now)
        return daily.RunResult(date=now.date(), started=now, exit_code=ExitCode.USER_ERROR)

    daily.watch(make_lib(), clock=clock.now, sleep=clock.sleep, run_fn=fake_run, max_runs=2)
    assert runs[1] == datetime(2025, 10, 15, 0, tzinfo=timezone.utc) + daily.AFTER_ANNOUNCEMENT
