"""The PostgreSQL library beyond the store contract: the same answers as the SQLite file on the bundled sample,
the command line and the web app over it, two writers at once, a killed import completed by a rerun, read-only
opens, and the URL that names it. Runs against the server of `tests/pgserver.py` (started by `.ci/run`)."""

from __future__ import annotations

import gzip
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from click.testing import CliRunner

import pgserver
from pgserver import pg_schema  # noqa: F401  (the fixture)
from paperscope.cli import main
from paperscope.errors import NotFound, StoreError
from paperscope.query import And, Not, Or, Query, Term, parse_query
from paperscope.service.pipeline import demo_config, sample_path
from paperscope.store.api import PaperQuery
from paperscope.store.postgres import PostgresStore, redacted, split_library_url

# Words, phrases, fields, categories, NOT, hyphens, slashes, plurals and digits: what topics look like.
QUERIES = ['"reward model" OR RLHF NOT survey', 'hallucination AND ("large language model" OR LLM)', "ti:diffusion",
           "au:Liu", 'abs:"state-of-the-art"', "transformers", "graph neural networks", "cat:cs.CL AND agents",
           "co:ICLR", "LLMs", '"chain-of-thought"', "benchmark NOT cat:cs.CV", "segmentation OR detection",
           "Schmidhuber", "zero-shot", "RL", "cat:cs", "federated", '"in-context learning"', 'au:"Yang Liu"',
           "multi-agent", "3D", "GPT-4", "ViT", "co:code"]


def url(schema: str) -> str:
    return f"{pgserver.DSN}{'&' if '?' in pgserver.DSN else '?'}schema={schema}"


@pytest.fixture(scope="module")
def both(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """The bundled sample imported into a SQLite file and a PostgreSQL schema by the same command."""
    pgserver.need_server()
    folder = tmp_path_factory.mktemp("both")
    schema = "t_" + uuid.uuid4().hex[:12]
    for db in (str(folder / "lib.db"), url(schema)):
        res = CliRunner().invoke(main, ["--db", db, "import", str(sample_path()), "--json"], catch_exceptions=False)
        assert res.exit_code == 0, res.output
    from paperscope.store.sqlite import SQLiteStore

    lite = SQLiteStore(folder / "lib.db", readonly=True)
    pg = PostgresStore(pgserver.DSN, schema=schema, readonly=True, cache_dir=folder / "cache")
    yield lite, pg
    lite.close()
    pg.close()
    pgserver.drop_schema(schema)


def test_topics_select_the_same_papers_as_the_sqlite_library(both: tuple[Any, Any]) -> None:
    lite, pg = both
    assert pg.count() == lite.count() == 3737
    for text in QUERIES:
        q = PaperQuery(parse_query(text))
        assert pg.count_matching(q) == lite.count_matching(q), text
        assert [p.id for p in pg.newest_matching(q, 50)] == [p.id for p in lite.newest_matching(q, 50)], text
    q = PaperQuery(parse_query("reward"), ("cs.LG",), ("model",))
    assert [p.id for p in pg.newest_matching(q, 20)] == [p.id for p in lite.newest_matching(q, 20)]


def test_relevance_ranks_close_to_bm25(both: tuple[Any, Any]) -> None:
    lite, pg = both
    same_first, shared = 0, 0
    ranked = [t for t in QUERIES if t != "cat:cs"]  # categories alone have no words to rank by
    for text in ranked:
        q = PaperQuery(parse_query(text))
        a, b = [p.id for p in lite.search(q, limit=10)], [p.id for p in pg.search(q, limit=10)]
        assert len(a) == len(b), text
        same_first += a[:1] == b[:1]
        shared += len(set(a) & set(b))
    # measured when written: the same first paper for 19 of 24 queries, 7.8 of the top 10 shared
    assert same_first >= 16 and shared / len(ranked) >= 7.0


def test_words_are_found_as_a_researcher_types_them(both: tuple[Any, Any]) -> None:
    _, pg = both
    with_accent = pg.search(PaperQuery(parse_query("au:Jürgen")), limit=5)
    assert with_accent and pg.count_matching(PaperQuery(parse_query("au:Jurgen"))) == len(
        pg.search(PaperQuery(parse_query("au:Jürgen")), limit=100))
    assert pg.count_matching(PaperQuery(parse_query("LLM"))) == pg.count_matching(PaperQuery(parse_query("LLMs")))
    # no stop words: a surname such as "He" is a word like any other
    he = pg.search(PaperQuery(parse_query("au:He")), limit=5)
    assert he and all(any("he" in re.split(r"[\W_]+", n.lower()) for n in p.author_names) for p in he)
    # a word that makes no lexeme ("--") matches nothing, as in FTS5: alone, in an AND, or as an OR's only hope
    reward = pg.count_matching(PaperQuery(parse_query("reward")))
    assert pg.search(PaperQuery(Query(Term("--")))) == [] and pg.count_matching(PaperQuery(Query(Term("--")))) == 0
    assert pg.count_matching(PaperQuery(Query(And((Term("reward"), Term("--")))))) == 0
    assert pg.count_matching(PaperQuery(Query(Or((Term("reward"), Term("--")))))) == reward
    assert pg.count_matching(PaperQuery(Query(Not(Term("reward"), Term("--"))))) == reward


def test_command_line_day_over_postgresql(pg_schema: str, tmp_path: Path) -> None:
    db = url(pg_schema)
    demo_config(tmp_path / "config.toml")

    def run(*args: str) -> str:
        res = CliRunner().invoke(main, ["--db", db, "--config", str(tmp_path / "config.toml"), *args],
                                 catch_exceptions=False)
        assert res.exit_code == 0, res.output
        return res.output

    imported = json.loads(run("import", str(sample_path()), "--json"))
    assert imported["files"][0]["new"] == 3737 and imported["embedded"] == 3737
    run("novelty")
    run("score")
    hits = json.loads(run("search", '"reward model" NOT survey', "--limit", "3", "--json"))
    assert len(hits) == 3 and all("reward model" in (h["title"] + " " + h["abstract"]).lower() for h in hits)
    pid = hits[0]["id"]
    shown = run("show", pid)
    assert "Novelty:" in shown and "AI Score" in shown
    assert pid not in [s["id"] for s in json.loads(run("similar", pid, "-k", "5", "--json"))]
    run("digest", "--out", str(tmp_path / "radar"))
    digest = json.loads((tmp_path / "radar" / "digest.json").read_text(encoding="utf-8"))
    assert [len(s["papers"]) for s in digest["sections"]] == [100, 100, 100, 50]
    run("rate", pid, "up")
    check = json.loads(run("check", "--json"))
    assert check["ok"] and check["papers"] == 3737 and check["findings"] == []
    # a second import of the same file changes nothing
    again = json.loads(run("import", str(sample_path()), "--json"))
    assert again["files"][0]["new"] == 0 and again["files"][0]["unchanged"] == 3737


def test_web_app_serves_a_postgresql_library(pg_schema: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from paperscope import Library
    from paperscope.service import meaning
    from paperscope.sources.detect import read_file
    from paperscope.web import create_app

    demo_config(tmp_path / "config.toml")
    papers = [p for _, p in zip(range(400), read_file(sample_path()))]
    with Library.open(url(pg_schema), tmp_path / "config.toml") as lib:
        lib.store.upsert_papers(papers)
        meaning.embed(lib)
        meaning.novelty(lib)
        meaning.score(lib)
        pid = papers[0].id
        author = papers[0].authors[0].name
        with TestClient(create_app(lib, token="t0ken", cache_seconds=0)) as client:
            for path, text in {"/": "Reward Model", "/topic/reward-model": "Atom feed", f"/paper/{pid}": "BibTeX",
                               f"/author/{quote(author)}": "Papers per year", "/search?q=model": "papers",
                               "/trends": "Map of the library"}.items():
                r = client.get(path)
                assert r.status_code == 200 and text in r.text, (path, r.text[:300])
            assert client.get("/api/stats").json()["papers"] == 400
            paper = client.get(f"/api/papers/{pid}").json()
            assert paper["paper"]["id"] == pid and len(paper["similar"]) == 8


def test_two_writers_at_once_lose_nothing(pg_schema: str, tmp_path: Path) -> None:
    """Two processes make a new library and import overlapping halves of the sample into it at the same time: the
    schema made once, every paper once, each in the change log once, no writer failing on the other's rows."""
    with gzip.open(sample_path(), "rt", encoding="utf-8") as f:
        lines = f.read().splitlines()
    halves = [lines[:2500], lines[1200:]]
    files = []
    for i, part in enumerate(halves):
        f = tmp_path / f"part{i}.jsonl"
        f.write_text("\n".join(part) + "\n", encoding="utf-8")
        files.append(f)
    procs = [subprocess.Popen([sys.executable, "-m", "paperscope", "--db", url(pg_schema), "import", str(f)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for f in files]
    outs = [p.communicate(timeout=240)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    with PostgresStore(pgserver.DSN, schema=pg_schema) as store:
        assert store.count() == 3737
        changed = store.changed_since(0)
        assert len(changed) == 3737 and len({r[2] for r in changed}) == 3737


def test_a_killed_import_is_completed_by_the_rerun(pg_schema: str) -> None:
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen([sys.executable, "-m", "paperscope", "--db", url(pg_schema), "import",
                             str(sample_path())], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    seen = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with PostgresStore(pgserver.DSN, schema=pg_schema, readonly=True) as store:
                seen = store.count()
        except (NotFound, StoreError):
            seen = 0
        if seen:
            break
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert seen, "the import committed no batch before the deadline"
    with PostgresStore(pgserver.DSN, schema=pg_schema, auto_repair=False) as store:
        partial = store.count()
        # whole batches only: killed after the first (usually) or while it embedded what it had written
        assert partial in (2000, 3737)
        assert store.index_problem() is None and store.database_problems() == []
    res = CliRunner().invoke(main, ["--db", url(pg_schema), "check", "--json"])
    assert res.exit_code == 0 and json.loads(res.output)["papers"] == partial
    res = CliRunner().invoke(main, ["--db", url(pg_schema), "import", str(sample_path()), "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    with PostgresStore(pgserver.DSN, schema=pg_schema) as store:
        assert store.count() == 3737
        assert len(store.changed_since(0)) == 3737
        assert store.database_problems() == [] and store.index_problem() is None
        store.integrity_check()


def test_read_only_and_missing_libraries(pg_schema: str) -> None:
    with pytest.raises(NotFound):
        PostgresStore(pgserver.DSN, schema=pg_schema, readonly=True)
    with pytest.raises(NotFound):
        PostgresStore(pgserver.DSN, schema=pg_schema, create=False)
    PostgresStore(pgserver.DSN, schema=pg_schema).close()
    with PostgresStore(pgserver.DSN, schema=pg_schema, readonly=True) as ro:
        assert ro.count() == 0
        with pytest.raises(StoreError, match="read-only"):
            ro.set_state("k", 1)
    res = CliRunner().invoke(main, ["--db", url(pg_schema + "x"), "search", "anything"])
    assert res.exit_code != 0 and "no library at" in res.output
    with pytest.raises(StoreError, match="schema name"):
        PostgresStore(pgserver.DSN, schema='x"; DROP TABLE papers; --')


def test_library_urls() -> None:
    assert split_library_url("postgresql:///lab?schema=radar") == ("postgresql:///lab", "radar")
    assert split_library_url("postgresql://u@db.lab:5433/papers?sslmode=require&schema=s1") == (
        "postgresql://u@db.lab:5433/papers?sslmode=require", "s1")
    assert split_library_url("postgres://h/db") == ("postgres://h/db", "paperscope")
    assert redacted("postgresql://ada:s3cret@db.lab:5433/papers") == "postgresql://ada:***@db.lab:5433/papers"
    assert redacted("postgresql:///papers") == "postgresql:///papers"


def test_a_bad_server_is_one_clear_line() -> None:
    res = CliRunner().invoke(main, ["--db", "postgresql://127.0.0.1:1/none?connect_timeout=2", "search", "x"])
    assert res.exit_code != 0
    line = res.output.strip().splitlines()[-1]
    assert line.startswith("Error: cannot open library postgresql://127.0.0.1:1/none") and "\n" not in line


def test_daily_run_lock_and_schedule_of_a_postgresql_library(pg_schema: str, tmp_path: Path) -> None:
    from paperscope import Library
    from paperscope.service.daily import home, lock_path

    with Library.open(url(pg_schema)) as lib:
        lock = lock_path(lib)
        # in this machine's cache folder for the library, never a relative "postgresql:" folder
        assert lock.is_absolute() and "postgresql:" not in str(lock) and lock.name.endswith(".lock")
        assert home(lib) == lock.parent
    out = CliRunner().invoke(main, ["--db", url(pg_schema), "schedule", "cron"]).output
    assert f"--db '{url(pg_schema)}' run" in out


def test_a_reader_on_another_machine_keeps_its_own_vector_index(pg_schema: str, tmp_path: Path) -> None:
    """The writer embeds on one machine; a read-only open elsewhere (another cache folder) builds the index once in
    its own cache and opens it the next time, rather than rebuilding it in a scratch folder at every command."""
    from paperscope import Library
    from paperscope.config import load_config
    from paperscope.service import meaning
    from paperscope.sources.detect import read_file

    demo_config(tmp_path / "config.toml")
    settings = load_config(tmp_path / "config.toml")
    papers = [p for _, p in zip(range(300), read_file(sample_path()))]
    with Library(settings, PostgresStore(pgserver.DSN, schema=pg_schema, cache_dir=tmp_path / "server")) as lib:
        lib.store.upsert_papers(papers)
        meaning.embed(lib)
    folders = []
    for _ in range(2):
        reader = PostgresStore(pgserver.DSN, schema=pg_schema, readonly=True, cache_dir=tmp_path / "laptop")
        with Library(settings, reader) as mine:
            assert len(meaning.similar(mine, papers[0].id, k=3).hits) == 3
            folder = reader.cache_path(f"{reader.active_model()}.ivf")
            assert folder is not None and folder.exists()
            folders.append((folder, folder.stat().st_mtime_ns))
    assert folders[0] == folders[1] and folders[0][0].parent == tmp_path / "laptop"  # opened, not built again


def test_check_finds_and_repairs_a_missing_full_text_index(pg_schema: str) -> None:
    import psycopg

    db = url(pg_schema)
    with PostgresStore(pgserver.DSN, schema=pg_schema) as store:
        from paperscope.sources.detect import read_file

        store.upsert_papers([p for _, p in zip(range(50), read_file(sample_path()))])
    with psycopg.connect(pgserver.DSN, autocommit=True) as conn:  # damage: the GIN index dropped by hand
        conn.execute(f'DROP INDEX "{pg_schema}".papers_tsv')
    res = CliRunner().invoke(main, ["--db", db, "check", "--json"])
    found = json.loads(res.output)
    assert res.exit_code == 1 and not found["ok"] and "papers_tsv is missing" in found["findings"][0]["problem"]
    res = CliRunner().invoke(main, ["--db", db, "check", "--repair", "--json"])
    fixed = json.loads(res.output)
    assert res.exit_code == 0 and fixed["ok"] and fixed["findings"][0]["repaired"]
    with PostgresStore(pgserver.DSN, schema=pg_schema, readonly=True) as store:
        assert store.index_problem() is None and store.count_matching(PaperQuery(parse_query("model"))) > 0


def test_without_psycopg_files_still_open_and_a_url_says_what_to_install(tmp_path: Path) -> None:
    code = ("import sys; sys.modules['psycopg'] = None\n"  # as if the postgres extra were not installed
            "from paperscope import Library\n"
            "from paperscope.errors import StoreError\n"
            f"Library.open({str(tmp_path / 'lib.db')!r}).close()\n"
            "try:\n    Library.open('postgresql:///nowhere')\nexcept StoreError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "pip install 'paperscope[postgres]'" in out.stdout


def test_a_read_from_another_thread_waits_for_an_open_write(pg_schema: str) -> None:
    """The web app's threads share the store's connection: a read never runs inside another thread's write
    transaction (where it would see uncommitted rows, and an error of its own would abort the write)."""
    import threading

    with PostgresStore(pgserver.DSN, schema=pg_schema) as store:
        got: list[object] = []
        reader = threading.Thread(target=lambda: got.append(store.get_state("k")))
        with store._write():
            store.conn.execute("INSERT INTO state(key, value) VALUES ('k', '1')")
            reader.start()
            reader.join(0.5)
            assert reader.is_alive() and got == []  # waiting for the write, not reading inside it
        reader.join(10)
        assert got == [1]


def test_two_libraries_in_one_database_do_not_wait_for_each_other(pg_schema: str) -> None:
    import threading

    other = pg_schema + "_b"
    try:
        with PostgresStore(pgserver.DSN, schema=pg_schema) as a, PostgresStore(pgserver.DSN, schema=other) as b:
            done = threading.Event()
            writer = threading.Thread(target=lambda: (b.set_state("k", 1), done.set()))
            with a._write():  # library A's writer lock held
                writer.start()
                assert done.wait(10), "library B's write waited for library A's writer"
            writer.join(10)
            assert b.get_state("k") == 1
    finally:
        pgserver.drop_schema(other)
