"""The arXiv metadata snapshot reader (real lines from the public snapshot) and the benchmark generator."""

from __future__ import annotations

import gzip
import importlib.util
import shutil
from pathlib import Path

import orjson
import pytest
from conftest import FIXTURES, dt

from paperscope.errors import InputError
from paperscope.models import Author, Paper, Version
from paperscope.sources.snapshot import (
    SnapshotIssue,
    iter_snapshot,
    parse_rfc2822,
    record_to_paper,
    split_authors,
    squash,
)

SNAP = FIXTURES / "snapshot"
SAMPLE = SNAP / "sample.jsonl"
LINES = SAMPLE.read_bytes().splitlines()
BENCH = Path(__file__).parent.parent / "bench"


def record(arxiv_id: str) -> dict:
    return next(r for r in map(orjson.loads, LINES) if r["id"] == arxiv_id)


def write_lines(path: Path, rows: list[bytes | dict]) -> Path:
    path.write_bytes(b"\n".join(r if isinstance(r, bytes) else orjson.dumps(r) for r in rows) + b"\n")
    return path


# ------------------------------------------------------------------------------------------- mapping


def test_real_snapshot_line_maps_to_paper() -> None:
    p = next(iter_snapshot(SAMPLE))
    assert p == Paper(
        id="0704.0001",
        title="Calculation of prompt diphoton production cross sections at Tevatron and LHC energies",
        abstract=p.abstract,
        updated=dt(2007, 7, 24, 20, 10, 27),
        version=2,
        authors=[Author("C. Balázs"), Author("E. L. Berger"), Author("P. M. Nadolsky"), Author("C. -P. Yuan")],
        comment="37 pages, 15 figures; published version",
        journal_ref="Phys.Rev.D76:013009,2007",
        doi="10.1103/PhysRevD.76.013009",
        license="",
        report_no="ANL-HEP-PR-07-12",
        submitter="Pavel Nadolsky",
        primary_category="hep-ph",
        categories=["hep-ph"],
        published=dt(2007, 4, 2, 19, 18, 42),
        versions=[Version(1, dt(2007, 4, 2, 19, 18, 42)), Version(2, dt(2007, 7, 24, 20, 10, 27))],
    )
    assert p.abstract.startswith("A fully differential calculation in perturbative quantum chromodynamics is "
                                 "presented for the production")
    assert p.abstract.endswith("judicious selection of events.") and "\n" not in p.abstract


def test_every_field_lands_in_its_own_attribute() -> None:
    # The reader builds Paper positionally for speed; distinct values per field catch a shifted argument.
    rec = {"id": "2401.00001", "submitter": "S Ubmitter", "authors": "ignored", "title": "T  i\n tle",
           "comments": "C omment", "journal-ref": "J Ref", "doi": "10.1/d", "report-no": "R-1",
           "categories": "cs.AI cs.LG", "license": "L", "abstract": " A\nb ", "update_date": "2024-02-02",
           "versions": [{"version": "v1", "created": "Mon, 1 Jan 2024 10:00:00 GMT"},
                        {"version": "v2", "created": "Tue, 02 Jan 2024 11:00:00 GMT"}],
           "authors_parsed": [["Last", "First", "Jr", "Aff One", "Aff Two"]]}
    p = record_to_paper(rec)
    assert (p.id, p.title, p.abstract) == ("2401.00001", "T i tle", "A b")
    assert (p.comment, p.journal_ref) == ("C omment", "J Ref")
    assert (p.doi, p.license, p.report_no, p.submitter) == ("10.1/d", "L", "R-1", "S Ubmitter")
    assert (p.primary_category, p.categories, p.version) == ("cs.AI", ["cs.AI", "cs.LG"], 2)
    assert (p.published, p.updated) == (dt(2024, 1, 1, 10), dt(2024, 1, 2, 11))
    assert p.authors == [Author("First Last Jr", ["Aff One", "Aff Two"])]


def test_records_without_versions_are_dated_by_update_date() -> None:
    papers = {p.id: p for p in iter_snapshot(SAMPLE)}
    p = papers["2506.22602"]
    assert record("2506.22602")["versions"] == []
    assert (p.version, p.versions, p.published, p.updated) == (1, [], dt(2025, 7, 1), dt(2025, 7, 1))
    assert p.submitter == "" and p.doi == ""


def test_affiliations_come_from_authors_parsed_without_bare_reference_numbers() -> None:
    papers = {p.id: p for p in iter_snapshot(SAMPLE)}
    assert [(a.name, a.affiliations) for a in papers["0704.0044"].authors][:2] == [
        ("A. A. Schekochihin", ["Oxford"]), ("S. C. Cowley", ["Culham"])]
    # authors_parsed holds '1 and 2' here: a reference into the authors string's table, not a name.
    assert [a.affiliations for a in papers["0704.0025"].authors] == [[], []]
    assert papers["0704.0155"].authors[0] == Author("Floris van der Tak", ["SRON Groningen"])


def test_missing_authors_parsed_falls_back_to_splitting_authors() -> None:
    rec = record("0704.0163")
    del rec["authors_parsed"]
    p = record_to_paper(rec)
    affiliation = 'Institut f\\"ur Theoretische und Angewandte Physik, Universit\\"at Stuttgart'
    assert p.authors == [Author("Peter Brommer", [affiliation]), Author('Franz G\\"ahler', [affiliation])]


def test_versions_out_of_order_are_sorted_and_the_highest_wins() -> None:
    rec = record("0704.0003")
    rec["versions"].reverse()
    p = record_to_paper(rec)
    assert [v.version for v in p.versions] == [1, 2, 3]
    assert (p.version, p.published, p.updated) == (3, dt(2007, 4, 1, 20, 46, 54), dt(2008, 1, 13, 0, 36, 28))


# ------------------------------------------------------------------------------------- files, errors


def test_gzip_is_detected_by_content_not_name(tmp_path: Path) -> None:
    plain = list(iter_snapshot(SAMPLE))
    disguised = tmp_path / "snapshot.jsonl"
    shutil.copy(SNAP / "sample.jsonl.gz", disguised)
    misnamed = tmp_path / "snapshot.jsonl.gz"
    shutil.copy(SAMPLE, misnamed)
    assert len(plain) == 10
    assert list(iter_snapshot(SNAP / "sample.jsonl.gz")) == plain
    assert list(iter_snapshot(disguised)) == plain
    assert list(iter_snapshot(misnamed)) == plain


def test_malformed_lines_are_skipped_and_reported_with_line_and_field(tmp_path: Path) -> None:
    good = record("0704.0002")
    rows: list[bytes | dict] = [
        LINES[0],
        b'{"id": "0704.0005", "title": ',                                    # 2: cut off
        {k: v for k, v in good.items() if k != "id"},                          # 3: no id
        dict(good, title=42),                                                  # 4: wrong type
        dict(good, versions="v1"),                                             # 5: not a list
        dict(good, versions=[{"version": "v1", "created": "yesterday"}]),      # 6: bad date
        b"",                                                                   # 7: blank: ignored, not an issue
        b"[1, 2]",                                                             # 8: not an object
        dict(good, authors_parsed=[["Theran", 7, ""]]),                        # 9: wrong type inside
        dict(good, comments=["a list"]),                                       # 10
        dict(good, versions=[], update_date=None),                             # 11
        dict(good, authors_parsed="Theran, Louis"),                            # 12: not read letter by letter
        dict(good, title=" \n "),                                              # 13
        LINES[2],
    ]
    path = write_lines(tmp_path / "mixed.jsonl", rows)
    issues: list[SnapshotIssue] = []
    papers = list(iter_snapshot(path, on_error=issues.append))
    assert [p.id for p in papers] == ["0704.0001", "0704.0003"]
    got = {i.line: i.message for i in issues}
    assert sorted(got) == [2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13]
    assert got[2].startswith("not valid JSON")
    assert got[3] == "id: missing"
    assert got[4] == "title: expected a string, got int"
    assert got[5] == "versions: expected a list, got str"
    assert got[6] == "versions[0].created: not a date: 'yesterday'"
    assert got[8] == "expected a JSON object, got list"
    assert got[9].startswith("authors_parsed[0]")
    assert got[10] == "comments: expected a string, got list"
    assert got[11].startswith("update_date")
    assert got[12] == "authors_parsed: expected a list, got str"
    assert got[13] == "title: empty"
    assert str(issues[0]) == f"{path}:2: {got[2]}"


def test_without_on_error_bad_lines_are_skipped_silently(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "x.jsonl", [b"{oops", LINES[1]])
    assert [p.id for p in iter_snapshot(path)] == ["0704.0002"]


def test_last_line_without_newline_is_read(tmp_path: Path) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(LINES[0] + b"\n" + LINES[1])
    assert [p.id for p in iter_snapshot(path)] == ["0704.0001", "0704.0002"]


def test_truncated_gzip_raises_input_error_naming_the_file(tmp_path: Path) -> None:
    data = (SNAP / "sample.jsonl.gz").read_bytes()
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="cut.jsonl.gz"):
        list(iter_snapshot(path))


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="nope.jsonl"):
        list(iter_snapshot(tmp_path / "nope.jsonl"))


def test_progress_bar_reports_bytes_and_changes_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    assert list(iter_snapshot(SNAP / "sample.jsonl.gz", progress=True)) == list(iter_snapshot(SAMPLE))
    assert "sample.jsonl.gz" in capsys.readouterr().err


# --------------------------------------------------------------------------------------------- parts


@pytest.mark.parametrize("text, expected", [
    ("Mon, 2 Apr 2007 19:18:42 GMT", dt(2007, 4, 2, 19, 18, 42)),
    ("Tue, 02 Jan 2024 11:00:00 GMT", dt(2024, 1, 2, 11)),
    ("Sat, 13 Dec 2008 17:26:00 +0000", dt(2008, 12, 13, 17, 26)),
    ("13 Dec 2008 17:26:00 GMT", dt(2008, 12, 13, 17, 26)),
    ("Sat, 13 Dec 2008 12:26:00 -0500", dt(2008, 12, 13, 17, 26)),
])
def test_rfc2822_dates(text: str, expected: object) -> None:
    got = parse_rfc2822(text)
    assert got == expected and got.utcoffset() is not None and got.utcoffset().total_seconds() == 0


@pytest.mark.parametrize("text", ["", "yesterday", "Mon, 2 Foo 2007 19:18:42 GMT", "Mon, 31 Feb 2007 19:18:42 GMT"])
def test_rfc2822_rejects_non_dates(text: str) -> None:
    with pytest.raises(ValueError):
        parse_rfc2822(text)


@pytest.mark.parametrize("raw, expected", [
    ("Ileana Streinu and Louis Theran", [("Ileana Streinu", []), ("Louis Theran", [])]),
    ("Stephen C. Power (Lancaster University), Baruch Solel (Technion)",
     [("Stephen C. Power", ["Lancaster University"]), ("Baruch Solel", ["Technion"])]),
    ("V. M. Biryukov (Serpukhov, IHEP)", [("V. M. Biryukov", ["Serpukhov, IHEP"])]),
    ("Arthur Jaffe (1) and Gordon Ritter (1) ((1) Harvard University)",
     [("Arthur Jaffe", ["Harvard University"]), ("Gordon Ritter", ["Harvard University"])]),
    ("G. Dereli and B. Sungu (Yildiz Tech. Univ., Istanbul)",
     [("G. Dereli", ["Yildiz Tech. Univ., Istanbul"]), ("B. Sungu", ["Yildiz Tech. Univ., Istanbul"])]),
    ("John Smith Jr., Jane Doe, and Max\n  Mustermann", [("John Smith Jr.", []), ("Jane Doe", []),
                                                       ("Max Mustermann", [])]),
    ("B. Lanzoni (1,2), F.R. Ferraro (1) (1 Dip. Astro., Bologna; 2 INAF--Oss. Astro., Bologna)",
     [("B. Lanzoni", ["Dip. Astro., Bologna", "INAF--Oss. Astro., Bologna"]),
      ("F.R. Ferraro", ["Dip. Astro., Bologna"])]),
    ("M. Mapelli (S.I.S.S.A., Via Beirut 2 - 4, Trieste)", [("M. Mapelli", ["S.I.S.S.A., Via Beirut 2 - 4, Trieste"])]),
    ("The BABAR Collaboration, B. Aubert, et al", [("The BABAR Collaboration", []), ("B. Aubert", [])]),
    ("", []),
])
def test_split_authors(raw: str, expected: list[tuple[str, list[str]]]) -> None:
    assert [(a.name, a.affiliations) for a in split_authors(raw)] == expected


def test_squash_collapses_every_kind_of_whitespace_run() -> None:
    assert squash("  Mixed-Channels \n  Transformer\tfor\r\ntime ") == "Mixed-Channels Transformer for time"
    assert squash("wrapped\nonce") == "wrapped once"
    assert squash("") == ""


# ----------------------------------------------------------------------------------------- generator


def load_generator():
    spec = importlib.util.spec_from_file_location("make_snapshot", BENCH / "make_snapshot.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generator_resamples_real_records_deterministically(tmp_path: Path) -> None:
    gen = load_generator()
    a, b, c = tmp_path / "a.jsonl", tmp_path / "b.jsonl", tmp_path / "c.jsonl.gz"
    assert gen.main(["--n", "400", "--out", str(a), "--seed", "7", "--sample", str(SAMPLE)]) == 0
    assert gen.main(["--n", "400", "--out", str(b), "--seed", "7", "--sample", str(SAMPLE)]) == 0
    assert gen.main(["--n", "400", "--out", str(c), "--seed", "7", "--sample", str(SAMPLE)]) == 0
    assert a.read_bytes() == b.read_bytes()
    assert gzip.decompress(c.read_bytes()) == a.read_bytes()

    rows = [orjson.loads(x) for x in a.read_bytes().splitlines()]
    real = [orjson.loads(x) for x in LINES]
    assert len(rows) == 400 and all(list(r) == list(real[0])[:14] for r in rows)
    ids = [r["id"] for r in rows]
    assert len(set(ids)) == 400 and ids == sorted(ids)
    assert {r["title"] for r in rows} <= {r["title"] for r in real}
    # cs papers take a real category list; the others a subject class of arXiv's taxonomy (arXiv's mix of archives)
    from paperscope.taxonomy import CATEGORIES

    cs = [r["categories"] for r in rows if r["categories"].startswith("cs.")]
    assert set(cs) <= {r["categories"] for r in real}
    assert all(set(r["categories"].split()) <= CATEGORIES for r in rows)
    primaries = {r["categories"].split()[0].split(".")[0] for r in rows}
    assert {"cs", "math", "cond-mat", "astro-ph"} <= primaries and 0.1 < len(cs) / len(rows) < 0.5
    assert {len(r["versions"]) for r in rows} <= {1, 2, 3, 4, 5} and max(len(r["versions"]) for r in rows) > 1
    years = {int(r["versions"][0]["created"].split()[3]) for r in rows}
    assert min(years) <= 2008 and max(years) == 2026  # 2007 holds under 2 % of the papers (arXiv grew since)

    issues: list[SnapshotIssue] = []
    papers = list(iter_snapshot(c, on_error=issues.append))
    assert issues == [] and len(papers) == 400
    for p, r in zip(papers, rows, strict=True):
        assert p.id[:4] == f"{p.published.year % 100:02d}{p.published.month:02d}"  # type: ignore[union-attr]
        assert p.updated >= p.published  # type: ignore[operator]
        assert r["update_date"] >= p.updated.date().isoformat()


def test_generator_without_the_corpus_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gen = load_generator()
    missing = tmp_path / "absent.jsonl.gz"
    assert gen.main(["--n", "10", "--out", str(tmp_path / "x.jsonl"), "--sample", str(missing)]) == 2
    assert f"cannot read {missing}" in capsys.readouterr().err
    assert not (tmp_path / "x.jsonl").exists()


def test_records_out_of_range_or_with_foreign_ids_are_skipped_and_reported(tmp_path: Path) -> None:
    good = record("0704.0002")
    rows: list[bytes | dict] = [
        dict(good, versions=[{"version": "v1", "created": "Fri, 31 Dec 9999 23:00:00 -0500"}]),  # 1: OverflowError
        dict(good, versions=[{"version": "v99999999999999999999", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]),
        dict(good, id="0704.0002)|<script>"),                                 # 3: would break a Markdown table
        dict(good, id="0704.0002\nx"),                                        # 4
        dict(good, versions=[], update_date="9999-12-31"),                   # 5: year out of range
        dict(good, versions=[{"version": "v0", "created": "Mon, 2 Apr 2007 19:18:42 GMT"}]),  # 6
        LINES[0],
    ]
    path = write_lines(tmp_path / "odd.jsonl", rows)
    issues: list[SnapshotIssue] = []
    papers = list(iter_snapshot(path, on_error=issues.append))
    assert [p.id for p in papers] == ["0704.0001"]
    got = {i.line: i.message for i in issues}
    assert sorted(got) == [1, 2, 3, 4, 5, 6]
    assert got[1].startswith("versions[0].created: not a date")
    assert "not a version" in got[2] and "not a version" in got[6]
    assert got[3].startswith("id: not an arXiv id") and got[4].startswith("id: not an arXiv id")
    assert "outside" in got[5]


def test_old_and_new_style_ids_pass_the_reader_check(tmp_path: Path) -> None:
    ids = ["hep-th/9901001", "math.AG/0601001", "0704.0001", "2501.12345"]
    path = write_lines(tmp_path / "ids.jsonl", [dict(record("0704.0002"), id=i) for i in ids])
    assert [p.id for p in iter_snapshot(path)] == ids
