"""The MCP server, driven by the official MCP Python SDK's client against the real server process."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from pathlib import Path

import anyio
import pytest

pytest.importorskip("mcp")
from mcp import ClientSession, StdioServerParameters  # noqa: E402
from mcp.client.stdio import stdio_client  # noqa: E402
from mcp.client.streamable_http import streamable_http_client  # noqa: E402

from paperscope.service.pipeline import run_demo  # noqa: E402


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    out = tmp_path_factory.mktemp("demo")
    rep = run_demo(out)
    return {"db": rep.db, "config": rep.config}


def result_json(res) -> dict:  # type: ignore[no-untyped-def]
    if res.structuredContent is not None:
        data = res.structuredContent
        return data.get("result", data) if set(data) == {"result"} else data
    return json.loads(res.content[0].text)


async def _session_calls(session: ClientSession) -> dict[str, object]:
    await session.initialize()
    tools = {t.name: t for t in (await session.list_tools()).tools}
    out: dict[str, object] = {"tools": tools}
    out["search"] = await session.call_tool("search", {"query": '"reward model" NOT survey', "limit": 3})
    out["semantic"] = await session.call_tool("search", {"query": "noisy correspondence in image-text retrieval",
                                                         "limit": 3, "semantic": True})
    out["paper"] = await session.call_tool("paper", {"paper_id": "2606.04061v1"})
    out["similar"] = await session.call_tool("similar", {"paper_id": "2606.04061", "k": 2})
    out["author"] = await session.call_tool("author_profile", {"name": "Jiancheng Lv"})
    out["digest"] = await session.call_tool("digest", {"topics": ["Reward Model"]})
    out["trends"] = await session.call_tool("trends", {"topics": ["Reward Model"], "weeks": 12})
    out["recommend"] = await session.call_tool("recommend", {"library_file": "/nonexistent/lib.bib"})
    out["unknown_paper"] = await session.call_tool("paper", {"paper_id": "9999.99999"})
    out["bad_type"] = await session.call_tool("search", {"query": "x", "limit": "many"})
    out["bad_query"] = await session.call_tool("search", {"query": '"unclosed'})
    out["bad_k"] = await session.call_tool("similar", {"paper_id": "2606.04061", "k": 0})
    out["since"] = await session.call_tool("search", {"query": "diffusion", "limit": 5, "since": "2026-06-20",
                                                      "until": "2026-06-25"})
    out["bad_since"] = await session.call_tool("search", {"query": "diffusion", "since": "June"})
    out["coded"] = await session.call_tool("search", {"query": "diffusion", "limit": 5, "has_code": True})
    out["still_alive"] = await session.call_tool("search", {"query": "diffusion", "limit": 1})
    return out


def check(out: dict[str, object]) -> None:
    tools = out["tools"]
    assert {"search", "paper", "similar", "author_profile", "digest", "recommend", "trends"} <= set(tools)  # type: ignore[arg-type]
    schema = tools["search"].inputSchema  # type: ignore[index]
    assert schema["properties"]["limit"]["type"] == "integer" and "query" in schema["required"]
    hits = result_json(out["search"])["hits"]
    assert len(hits) == 3 and all("reward model" in (h["paper"]["title"] + h["paper"]["abstract"]).lower()
                                  for h in hits)
    sem = result_json(out["semantic"])
    assert sem["semantic"] and sem["hits"][0]["vector_rank"] is not None
    detail = result_json(out["paper"])
    assert detail["paper"]["id"] == "2606.04061" and detail["code_url"].startswith("https://github.com/")
    assert detail["novelty"]["neighbours"] and "AI Score" in detail["score"]["text"]
    assert len(result_json(out["similar"])["hits"]) == 2
    prof = result_json(out["author"])
    assert prof["name"] and prof["cards"]
    assert len(prof["similar_authors"]) == 5 and all(a["name"] != prof["name"] for a in prof["similar_authors"])
    sections = result_json(out["digest"])["digest"]["sections"]
    assert [s["title"] for s in sections] == ["Reward Model"] and sections[0]["papers"]
    trend = result_json(out["trends"])
    assert not out["trends"].isError, out["trends"].content  # type: ignore[attr-defined]
    assert "Reward Model" in json.dumps(trend)
    spanned = result_json(out["since"])["hits"]
    assert spanned and all("2026-06-20" <= h["paper"]["updated"][:10] <= "2026-06-25" for h in spanned)
    assert "since must be a date" in out["bad_since"].content[0].text  # type: ignore[attr-defined]
    coded = result_json(out["coded"])["hits"]
    assert len(coded) == 5 and all(h["paper"]["code_url"] for h in coded)
    for bad in ("unknown_paper", "bad_type", "bad_query", "bad_k", "recommend", "bad_since"):
        assert out[bad].isError, bad  # type: ignore[attr-defined]
    assert "not in the library" in out["unknown_paper"].content[0].text  # type: ignore[attr-defined]
    assert not out["still_alive"].isError  # type: ignore[attr-defined]


def test_stdio_server_answers_every_tool(demo: dict[str, str]) -> None:
    params = StdioServerParameters(command=sys.executable,
                                   args=["-m", "paperscope", "--db", demo["db"], "--config", demo["config"], "mcp"])

    async def go() -> dict[str, object]:
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as session:
                return await _session_calls(session)

    check(anyio.run(go))


def test_stdio_server_over_a_postgresql_library(tmp_path: Path) -> None:
    """The same tools and answers with the demo loaded into PostgreSQL (`--db postgresql://...`)."""
    import uuid

    import pgserver

    pgserver.need_server()
    schema = "t_" + uuid.uuid4().hex[:12]
    db = f"{pgserver.DSN}{'&' if '?' in pgserver.DSN else '?'}schema={schema}"
    try:
        rep = run_demo(tmp_path / "demo", db=db)
        assert rep.db == db and rep.papers == 3737
        params = StdioServerParameters(command=sys.executable,
                                       args=["-m", "paperscope", "--db", db, "--config", rep.config, "mcp"])

        async def go() -> dict[str, object]:
            async with stdio_client(params) as (read, write):
                async with ClientSession(read, write) as session:
                    return await _session_calls(session)

        check(anyio.run(go))
    finally:
        pgserver.drop_schema(schema)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_streamable_http_server(demo: dict[str, str], tmp_path: Path) -> None:
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--db", demo["db"], "--config", demo["config"],
                             "mcp", "--http", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.2)

        async def go() -> dict[str, object]:
            async with streamable_http_client(f"http://127.0.0.1:{port}/mcp") as (read, write, _):
                async with ClientSession(read, write) as session:
                    return await _session_calls(session)

        check(anyio.run(go))
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_http_refuses_other_addresses(demo: dict[str, str]) -> None:
    res = subprocess.run([sys.executable, "-m", "paperscope", "--db", demo["db"], "mcp", "--http", "--host",
                          "0.0.0.0"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 1 and "127.0.0.1" in res.stderr
