"""How long an offline `fetch` takes to give up: eight requests (as eight topics make) to a closed port.

    python bench/reliability/unreachable.py

Measured in the same run: in real time with the settings a user gets (pace 3 s, 4 retries, 2 s backoff),
and on a simulated clock (sleeps and pace add up, nothing waits) for the new client and for the peer, the
client as it was before issue #11 (sources/http.py at commit a85e6eb, read from git), which retried a
refused connection like any other failure.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tests"))

from arxiv_server import ArxivServer, FakeClock  # noqa: E402

from paperscope.errors import HTTPError  # noqa: E402
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy  # noqa: E402

REQUESTS = 8


def closed_port() -> str:
    with ArxivServer() as s:
        return s.url


PEER_COMMIT = "a85e6eb"


def old_http() -> ModuleType:
    """sources/http.py as it was before the fail-fast change, loaded from git as a module of its own."""
    root = Path(__file__).resolve().parents[2]
    code = subprocess.run(["git", "show", f"{PEER_COMMIT}:src/paperscope/sources/http.py"], cwd=root,
                          capture_output=True, text=True, check=True).stdout
    module = ModuleType("old_http")
    sys.modules["old_http"] = module  # dataclasses look their module up while the class is made
    exec(compile(code, f"{PEER_COMMIT}:http.py", "exec"), module.__dict__)  # noqa: S102 - our own history
    return module


def run(url: str, *, simulated: bool, http: ModuleType | None = None) -> float:
    fake = FakeClock()
    clock, sleep = (fake.clock, fake.sleep) if simulated else (time.monotonic, time.sleep)
    if http is None:
        client = PoliteClient(url, pacer=Pacer(3.0, clock=clock, sleep=sleep), retry=RetryPolicy(retries=4),
                              sleep=sleep, clock=clock, rng=random.Random(1))
    else:  # the old client has no clock argument: its time is the pacer's and the sleeps
        client = http.PoliteClient(url, pacer=http.Pacer(3.0, clock=clock, sleep=sleep),
                                   retry=http.RetryPolicy(retries=4), sleep=sleep, rng=random.Random(1))
    start = clock()
    with client:
        for _ in range(REQUESTS):
            try:
                client.get("api/query")
            except HTTPError:
                pass
    return clock() - start


def main() -> int:
    url = closed_port()
    real = run(url, simulated=False)
    new = run(url, simulated=True)
    old = run(url, simulated=True, http=old_http())
    print(f"{REQUESTS} requests to a closed port, pace 3 s, 4 retries:")
    print(f"  this client, real time:            {real:6.1f} s")
    print(f"  this client, simulated clock:      {new:6.1f} s")
    print(f"  peer ({PEER_COMMIT}), simulated clock: {old:6.1f} s")
    print(f"  ratio before/after: {old / new:.0f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
