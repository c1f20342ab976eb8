"""The command line as a researcher uses it: demo, import, digest, search, errors, help on every verb."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperscope.cli import main
from paperscope.service.pipeline import sample_path
from paperscope.store.sqlite import SQLiteStore

CONFIG = '''
[[topics]]
name = "Reward Model"
query = '"reward model" OR RLHF NOT survey'
categories = ["cs.CL", "cs.LG", "cs.AI"]
max_papers = 5

[[topics]]
name = "Hallucination"
query = "hallucination"
max_papers = 3
'''


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    cfg = tmp_path / "config.toml"
    cfg.write_text(CONFIG, encoding="utf-8")
    return {"db": str(tmp_path / "lib.db"), "config": str(cfg)}


def run(*args: str, ok: bool = True) -> str:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    if ok:
        assert res.exit_code == 0, res.output
    return res.output


def test_every_verb_has_help() -> None:
    for name, cmd in main.commands.items():
        out = run(name, "--help")
        first_words = " ".join(cmd.help.split()[:4]) if cmd.help else ""
        assert first_words and first_words in " ".join(out.split()), name


def test_demo_writes_digest_offline(tmp_path: Path) -> None:
    out = run("demo", "--out", str(tmp_path / "d"), "--json")
    report = json.loads(out)
    assert report["papers"] > 3000
    md = (tmp_path / "d" / "README.md").read_text(encoding="utf-8")
    assert md.startswith("# Daily Papers\nLast update: ")
    assert "## Reward Model" in md and "## Hallucination" in md
    assert all(t["papers"] > 0 for t in report["topics"])
    assert (tmp_path / "d" / "index.html").exists() and (tmp_path / "d" / "feeds" / "reward-model.xml").exists()


def test_import_draws_no_progress_bar_into_a_log(env: dict[str, str], tmp_path: Path) -> None:
    """Progress is for a terminal: an import whose stderr goes to a file or a pipe writes no bar into it."""
    import subprocess
    import sys

    src = tmp_path / "papers.jsonl"
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        src.write_text("".join(next(f) for _ in range(200)), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "paperscope", "--db", env["db"], "import", "--no-embed", str(src)],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "200 new" in done.stdout
    assert "%|" not in done.stderr and "it/s" not in done.stderr and "B/s" not in done.stderr, done.stderr


def test_import_then_digest_search_and_show(env: dict[str, str], tmp_path: Path) -> None:
    out = run("--db", env["db"], "--config", env["config"], "import", str(sample_path()), "--json")
    rep = json.loads(out)["files"][0]
    assert rep["format"] == "snapshot" and rep["new"] > 3000
    again = json.loads(run("--db", env["db"], "import", str(sample_path()), "--json"))["files"][0]
    assert again["new"] == 0 and again["unchanged"] == rep["new"]

    md = run("--db", env["db"], "--config", env["config"], "digest", "--format", "markdown")
    from paperscope.render.markdown import parse_markdown

    parsed = parse_markdown(md)
    sections = {s.title: s for s in parsed.sections}
    assert len(sections["Reward Model"].rows) == 5 and len(sections["Hallucination"].rows) == 3
    dates = [r["date"] for r in sections["Reward Model"].rows]
    assert dates == sorted(dates, reverse=True)
    for row in sections["Reward Model"].rows:
        text = (row["title"] + " " + row["abstract"]).lower()
        assert ("reward model" in text or "rlhf" in text) and "survey" not in text

    hits = json.loads(run("--db", env["db"], "search", "hallucinations", "--json", "--limit", "5"))
    assert len(hits) == 5 and all("hallucinat" in (h["title"] + h["abstract"]).lower() for h in hits)
    by_date = json.loads(run("--db", env["db"], "search", "hallucination", "--order", "date", "--json"))
    assert [h["updated"] for h in by_date] == sorted((h["updated"] for h in by_date), reverse=True)

    one = json.loads(run("--db", env["db"], "show", hits[0]["id"], "--json"))
    assert one["id"] == hits[0]["id"]

    out_dir = tmp_path / "site"
    run("--db", env["db"], "--config", env["config"], "digest", "--out", str(out_dir))
    assert sorted(p.name for p in (out_dir / "feeds").iterdir()) == ["hallucination.xml", "reward-model.xml"]
    data = json.loads((out_dir / "digest.json").read_text(encoding="utf-8"))
    assert [s["title"] for s in data["sections"]] == ["Reward Model", "Hallucination"]


def test_malformed_snapshot_lines_are_skipped_and_reported(env: dict[str, str], tmp_path: Path) -> None:
    good = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:5]
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join([good[0], "{not json", good[1], '{"id": "2501.00001"}', good[2]]) + "\n", encoding="utf-8")
    res = CliRunner().invoke(main, ["--db", env["db"], "import", str(bad)])
    assert res.exit_code == 0, res.output
    assert "3 new" in res.output and "2 skipped" in res.output
    assert "bad.jsonl:2: " in res.output and "bad.jsonl:4: title" in res.output


@pytest.mark.parametrize(
    "args, message",
    [
        (["search", '"unclosed'], "quote"),
        (["search", "(a OR b"], "parenthes"),
        (["import", "/nonexistent/file.jsonl"], "/nonexistent/file.jsonl"),
        (["show", "9999.99999"], "not in the library"),
        (["digest", "--topic", "Nope"], "no topic named 'Nope'"),
    ],
)
def test_user_mistakes_give_one_line_and_status_1(env: dict[str, str], args: list[str], message: str) -> None:
    SQLiteStore(env["db"]).close()  # an (empty) library exists: the mistake is in the command
    res = CliRunner().invoke(main, ["--db", env["db"], "--config", env["config"], *args])
    assert res.exit_code == 1
    assert message in res.output
    assert "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_bad_config_names_file_and_line(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('[[topics]]\nname = "X"\nquery = "a AND"\n', encoding="utf-8")
    res = CliRunner().invoke(main, ["--config", str(cfg), "--db", str(tmp_path / "l.db"), "digest"])
    assert res.exit_code == 1
    assert f"{cfg}:3: topic 'X': field 'query'" in res.output


def test_init_writes_a_working_config(tmp_path: Path) -> None:
    cfg = tmp_path / "new.toml"
    run("--config", str(cfg), "init")
    out = json.loads(run("--config", str(cfg), "config", "--json"))
    assert [t["name"] for t in out["topics"]][:1] == ["Reward Model"]
    res = CliRunner().invoke(main, ["--config", str(cfg), "init"])
    assert res.exit_code == 1 and "already exists" in res.output


def test_env_var_chooses_the_library(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PAPERSCOPE_DB", str(tmp_path / "env.db"))
    SQLiteStore(tmp_path / "env.db").close()
    assert json.loads(run("stats", "--json"))["db"] == str(tmp_path / "env.db")


def test_a_mistyped_library_is_named_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "no" / "such" / "libary.db"
    for args in (["stats"], ["search", "graph"], ["digest"], ["author", "Ada"], ["similar", "2501.00001"]):
        res = CliRunner().invoke(main, ["--db", str(typo), *args])
        assert res.exit_code == 1 and f"no library at {typo}" in res.output, (args, res.output)
        assert len(res.output.strip().splitlines()) == 1
    assert not typo.exists() and not typo.parent.exists()


def test_a_library_on_a_read_only_disk_can_be_searched(tmp_path: Path) -> None:
    """A real read-only file system (a tmpfs remounted ro; needs root) or, for other users, a read-only folder."""
    import os
    import shutil
    import stat
    import subprocess

    src = tmp_path / "made" / "lib.db"
    run("--db", str(src), "import", str(sample_path()), "--no-embed")
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = False
    if os.geteuid() == 0:
        mounted = subprocess.run(["mount", "-t", "tmpfs", "none", str(disk)], capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("root, but cannot mount a file system here to make one read-only")
    shutil.copy(src, disk / "lib.db")
    db = disk / "lib.db"
    try:
        if mounted:
            subprocess.run(["mount", "-o", "remount,ro", str(disk)], check=True)
        else:
            os.chmod(db, stat.S_IRUSR)
            os.chmod(disk, stat.S_IRUSR | stat.S_IXUSR)
        with pytest.raises(OSError):
            (disk / "probe").write_text("x")
        hits = json.loads(run("--db", str(db), "search", "hallucination", "--json", "--limit", "3"))
        assert len(hits) == 3
        assert json.loads(run("--db", str(db), "stats", "--json"))["readonly"] is True
        md = run("--db", str(db), "author", "Yang Liu")
        assert md.startswith("# ")
    finally:
        if mounted:
            subprocess.run(["umount", str(disk)], check=False)
        else:
            os.chmod(disk, stat.S_IRWXU)


def test_read_commands_open_the_library_read_only(env: dict[str, str]) -> None:
    run("--db", env["db"], "import", str(sample_path()), "--no-embed")
    from paperscope.library import Library

    with Library.open(env["db"], env["config"], readonly=True) as lib:
        with pytest.raises(Exception, match="readonly|read-only"):
            lib.store.set_state("x", 1)
        assert lib.store.count() > 3000


def test_readers_do_not_wait_for_a_writer(env: dict[str, str]) -> None:
    run("--db", env["db"], "import", str(sample_path()), "--no-embed")
    writer = SQLiteStore(env["db"])
    writer.conn.execute("BEGIN IMMEDIATE")  # a writer holds the write lock (an import in progress)
    try:
        before = Path(env["db"]).read_bytes()
        hits = json.loads(run("--db", env["db"], "search", "hallucination", "--json", "--limit", "2"))
        assert len(hits) == 2
        assert Path(env["db"]).read_bytes() == before  # a read command wrote nothing
    finally:
        writer.conn.execute("ROLLBACK")
        writer.close()


def test_closed_pipe_ends_quietly(env: dict[str, str]) -> None:
    import subprocess
    import sys

    run("--db", env["db"], "import", str(sample_path()), "--no-embed")
    proc = subprocess.run(f'"{sys.executable}" -m paperscope --db "{env["db"]}" search learning --limit 2000 | head -1',
                          shell=True, capture_output=True, text=True, timeout=120)
    assert proc.stdout.count("\n") == 1 and "Error" not in proc.stderr and "Broken pipe" not in proc.stderr


def test_limits_and_json_everywhere(env: dict[str, str]) -> None:
    res = CliRunner().invoke(main, ["--db", env["db"], "search", "x", "--limit", "-5"])
    assert res.exit_code == 2 and "must be at least 1" in res.output
    run("--db", env["db"], "import", str(sample_path()), "--no-embed")
    d = json.loads(run("--db", env["db"], "--config", env["config"], "digest", "--json"))
    assert [s["title"] for s in d["sections"]] == ["Reward Model", "Hallucination"]
    shown = json.loads(run("--db", env["db"], "show", d["sections"][0]["papers"][0]["id"], "--json"))
    assert {"code_url", "citations", "novelty", "score", "bibtex", "missing"} <= set(shown)
    assert shown["missing"]["novelty"] == "embed"


def test_feed_files_follow_the_digest_slugs(tmp_path: Path) -> None:
    """"LLM Agents" and "LLM agents" are two feeds, named as digest.json names them; accents fold the same way."""
    cfg = tmp_path / "c.toml"
    cfg.write_text("[[topics]]\nname = \"LLM Agents\"\nquery = \"agent\"\n\n[[topics]]\nname = \"LLM agents\"\n"
                   "query = \"agents\"\n\n[[topics]]\nname = \"Réseaux\"\nquery = \"graph\"\n", encoding="utf-8")
    db = str(tmp_path / "l.db")
    run("--db", db, "import", str(sample_path()), "--no-embed")
    run("--db", db, "--config", str(cfg), "digest", "--out", str(tmp_path / "site"))
    data = json.loads((tmp_path / "site" / "digest.json").read_text(encoding="utf-8"))
    slugs = [s["slug"] for s in data["sections"]]
    assert slugs == ["llm-agents", "llm-agents-2", "reseaux"]
    assert sorted(p.stem for p in (tmp_path / "site" / "feeds").iterdir()) == sorted(slugs)
    ids = {p.stem: p.read_text(encoding="utf-8").split("<id>", 1)[1].split("<", 1)[0]
           for p in (tmp_path / "site" / "feeds").iterdir()}
    assert ids["reseaux"].endswith(":reseaux") and ids["llm-agents-2"].endswith(":llm-agents-2")


def test_follow_and_unfollow_have_json(env: dict[str, str]) -> None:
    run("--db", env["db"], "import", str(sample_path()), "--no-embed")
    got = json.loads(run("--db", env["db"], "follow", "Jiancheng Lv", "--json"))
    assert got["followed"] and got["changed"] and got["papers"] >= 1
    assert [a["name"] for a in json.loads(run("--db", env["db"], "following", "--json"))] == [got["name"]]
    lately = json.loads(run("--db", env["db"], "following", "--days", "3650", "--json"))
    assert lately["authors"][0]["name"] == got["name"] and len(lately["papers"]) == got["papers"]
    assert all(r["author"] == got["name"] and r["label"] in ("new", "revised") for r in lately["papers"])
    text = run("--db", env["db"], "following", "--days", "3650")
    assert "Their papers in the 3650 days up to" in text and lately["papers"][0]["paper"]["id"] in text
    gone = json.loads(run("--db", env["db"], "unfollow", "Jiancheng Lv", "--json"))
    assert gone["followed"] is False
    res = CliRunner().invoke(main, ["--db", env["db"], "unfollow", "Jiancheng Lv"])
    assert res.exit_code == 1 and "not following" in res.output and "paperscope following" in res.output
