"""A big snapshot's code links are found by a second process reading the file ahead of the writer: the library
stores exactly what finding them while writing stores, also when that process dies."""

from __future__ import annotations

import gzip
import os
import signal
from pathlib import Path

import pytest

from paperscope.scoring.codelinks import primary_code_url
from paperscope.scoring.names import author_index_keys
from paperscope.service import codes_ahead, ingest
from paperscope.service.pipeline import sample_path
from paperscope.store.sqlite import SQLiteStore


def _snapshot(tmp_path: Path) -> Path:
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:3000]
    out = tmp_path / "snap.jsonl"
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return out


def _store(path: Path) -> SQLiteStore:
    return SQLiteStore(path, code_links=primary_code_url, author_keys=author_index_keys)


def _codes(store: SQLiteStore) -> dict[str, str | None]:
    return dict(store.conn.execute("SELECT arxiv_id, code_url FROM papers"))


@pytest.fixture()
def reference(tmp_path: Path) -> dict[str, str | None]:
    store = _store(tmp_path / "ref.db")
    assert not codes_ahead.worth_reading_ahead(_snapshot(tmp_path), store.code_links)  # small: no second reader
    ingest.import_file(store, _snapshot(tmp_path))
    codes = _codes(store)
    assert len(codes) == 3000 and sum(1 for c in codes.values() if c) > 100 and None not in codes.values()
    return codes


def test_links_found_ahead_are_the_links_found_while_writing(tmp_path: Path, reference, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(codes_ahead, "AHEAD_FROM", 0)
    monkeypatch.setattr(codes_ahead, "CHUNK", 100)
    asked: list[int] = []
    missing: list[int] = []
    real = codes_ahead.CodeLinksAhead.cover

    def cover(self, ids):  # type: ignore[no-untyped-def]
        real(self, ids)
        asked.append(len(ids))
        missing.append(sum(1 for i in ids if i not in self))

    monkeypatch.setattr(codes_ahead.CodeLinksAhead, "cover", cover)
    store = _store(tmp_path / "ahead.db")
    ingest.import_file(store, _snapshot(tmp_path))
    assert sum(asked) == 3000 and sum(missing) == 0  # every paper's link came from the reader ahead
    assert _codes(store) == reference


def test_a_reader_that_dies_leaves_the_writer_to_find_the_rest(tmp_path: Path, reference, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(codes_ahead, "AHEAD_FROM", 0)
    monkeypatch.setattr(codes_ahead, "CHUNK", 100)
    monkeypatch.setattr(codes_ahead, "QUEUE_CHUNKS", 2)  # it cannot have run far ahead when it dies
    real = codes_ahead.CodeLinksAhead.cover
    calls = {"n": 0}
    missing: list[int] = []

    def cover(self, ids):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:  # the reader is killed after the first chunk
            os.kill(self._proc.pid, signal.SIGKILL)
            self._proc.join(10)
        real(self, ids)
        missing.append(sum(1 for i in ids if i not in self))

    monkeypatch.setattr(codes_ahead.CodeLinksAhead, "cover", cover)
    store = _store(tmp_path / "dead.db")
    ingest.import_file(store, _snapshot(tmp_path))
    assert calls["n"] >= 2 and sum(missing) > 500  # the links it never sent were found by the writer itself
    assert _codes(store) == reference


def test_the_reader_ahead_sees_every_record_the_import_reads_with_its_texts(tmp_path: Path) -> None:
    """The reader ahead decodes only id, abstract and comment: every Paper the import builds is among its records,
    in order, with the same two texts (whitespace squashed as the Paper holds them); lines the import rejects for
    those fields are not; and the links it finds are those the store finds."""
    import json

    from paperscope.sources.snapshot import iter_code_texts, iter_snapshot
    from paperscope.store.sqlite import stored_code_url, stored_code_url_of_text

    base = json.loads(gzip.open(sample_path(), "rt", encoding="utf-8").readline())
    odd = [
        "not json at all",
        json.dumps({**base, "id": "2501.90001", "abstract": 7}),  # rejected: the abstract is not text
        json.dumps({**base, "id": "nonsense id"}),  # rejected: no arXiv id
        json.dumps({**base, "id": "2501.90002", "update_date": "1066-10-14", "versions": []}),  # a bad date only
        json.dumps({**base, "id": "2501.90003", "abstract": "Folded\n  text.  Code at https://git\u0000hub.com/a/b",
                    "comments": "  10 pages,\n\tgithub.com/c/d "}),
        json.dumps({**base, "id": "2501.90004", "comments": None, "abstract": None}),
        "[1, 2]",
    ]
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:500]
    path = tmp_path / "odd.jsonl"
    path.write_text("\n".join(lines[:250] + odd + lines[250:]), encoding="utf-8")  # no newline after the last

    papers = list(iter_snapshot(path, on_error=lambda issue: None))
    texts = list(iter_code_texts(path))
    by_id = {pid: (a, c) for pid, a, c in texts}
    ids = [pid for pid, _, _ in texts]
    assert len(papers) == 502 and [p.id for p in papers] == [i for i in ids if i != "2501.90002"]
    assert "2501.90001" not in by_id and "2501.90002" in by_id  # the bad date is only the full reader's business
    for p in papers:
        assert by_id[p.id] == (p.abstract, p.comment)
        assert stored_code_url_of_text(p.abstract, p.comment, primary_code_url) == stored_code_url(p, primary_code_url)
    assert stored_code_url_of_text(*by_id["2501.90003"], primary_code_url) == "https://github.com/a/b"
    assert by_id["2501.90004"] == ("", "")


@pytest.mark.parametrize("gap", [40, 2900])  # both copies in the reader's window; the first one long forgotten
@pytest.mark.parametrize("newer_second", [False, True])
def test_a_paper_listed_twice_gets_the_link_of_the_text_stored(tmp_path: Path, monkeypatch, gap: int,  # type: ignore[no-untyped-def]
                                                              newer_second: bool) -> None:
    """A snapshot that lists one id twice, each copy with its own text: the library keeps the text the store's
    rule keeps (the newer version, or the first of equal ones) and the link found in that text, read ahead or
    not, and the import does not wait for the reader to reach the end of the file."""
    import json

    monkeypatch.setattr(codes_ahead, "CHUNK", 100)
    monkeypatch.setattr(codes_ahead, "KEEP", 2100)  # a little over what the writer asks at once
    lines = gzip.open(sample_path(), "rt", encoding="utf-8").read().splitlines()[:3000]
    first = json.loads(lines[10])
    first["abstract"] = "We study a thing. Code: https://github.com/first/copy"
    first["comments"] = ""
    second = dict(first, abstract="We study a thing again, with no link this time.")
    if newer_second:
        second["versions"] = [*first["versions"], {"version": f"v{len(first['versions']) + 1}",
                                                   "created": "Mon, 1 Jun 2026 10:00:00 GMT"}]
    lines[10] = json.dumps(first)
    lines.insert(10 + gap, json.dumps(second))
    path = tmp_path / "twice.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    stored = {}
    for ahead in (False, True):
        monkeypatch.setattr(codes_ahead, "AHEAD_FROM", 0 if ahead else 1 << 40)
        store = _store(tmp_path / f"ahead{ahead}.db")
        ingest.import_file(store, path)
        stored[ahead] = _codes(store)
        abstract = store.conn.execute("SELECT abstract FROM papers WHERE arxiv_id = ?", (first["id"],)).fetchone()[0]
        assert abstract == (second if newer_second else first)["abstract"]
    want = "" if newer_second else "https://github.com/first/copy"
    assert stored[False][first["id"]] == want and stored[True][first["id"]] == want
    assert stored[True] == stored[False]
