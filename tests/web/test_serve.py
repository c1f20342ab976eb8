"""`paperscope serve`: refuses to listen beyond localhost without a token; serves a library end to end."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from click.testing import CliRunner

from paperscope.cli import main


def test_serve_beyond_localhost_needs_a_token(bare_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "PAPERSCOPE_WEB_TOKEN"}
    r = CliRunner(env=env).invoke(main, ["--db", str(bare_path), "serve", "--host", "0.0.0.0"])
    assert r.exit_code == 1 and "refusing to listen on 0.0.0.0" in r.output and "web_token" in r.output


def _free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def test_serve_prints_the_login_link_and_serves(bare_path: Path) -> None:
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "PAPERSCOPE_WEB_TOKEN"}
    cmd = [sys.executable, "-m", "paperscope", "--db", str(bare_path), "--config", str(bare_path.parent / "config.toml"),
           "serve", "--port", str(port)]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        body = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/topic/reward-model", timeout=5) as resp:
                    body = resp.read()
                    assert resp.headers["content-security-policy"].startswith("default-src 'none'")
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
                time.sleep(0.2)
        assert b"Reward Model" in body
    finally:
        proc.terminate()
        out, _ = proc.communicate(timeout=20)
    assert f"http://127.0.0.1:{port}/login?token=" in out
