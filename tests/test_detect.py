"""Recognising an input file by its content (gzip-aware) and reading it with the matching reader."""

from __future__ import annotations

import gzip
import sys
import types
import zlib
from pathlib import Path

import pytest
from conftest import FIXTURES

from paperscope.errors import InputError
from paperscope.models import Paper
from paperscope.sources.detect import detect_format, read_file
from paperscope.sources.snapshot import SnapshotIssue, iter_snapshot

SNAPSHOT = FIXTURES / "snapshot" / "sample.jsonl"
OAI_PAGE = FIXTURES / "oai" / "arxivraw_page1.xml"

# Real arXiv API responses (recorded by lukasschwab/arxiv.py, see /work/shared/corpus/SOURCES.md section 2),
# copied byte for byte: the 2026 layout (namespaces on <feed>) and, cut after its header, the legacy 2016 one.
ATOM_2026_ONE_ENTRY = """\
<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/UYD++GGrMRBcNyYZKVyqJHdTM3s</id>
  <title>arXiv Query: search_query=&amp;id_list=astro-ph/0601001&amp;start=0&amp;max_results=100</title>
  <updated>2026-05-11T23:51:23Z</updated>
  <link href="https://arxiv.org/api/query?search_query=&amp;start=0&amp;max_results=100&amp;id_list=astro-ph/0601001" type="application/atom+xml"/>
  <opensearch:itemsPerPage>100</opensearch:itemsPerPage>
  <opensearch:totalResults>1</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
  <entry>
    <id>http://arxiv.org/abs/astro-ph/0601001v1</id>
    <title>Frequency of Hot Jupiters and Very Hot Jupiters from the OGLE-III Transit Surveys Toward the Galactic Bulge and Carina</title>
    <updated>2006-01-02T14:57:58Z</updated>
    <link href="https://arxiv.org/abs/astro-ph/0601001v1" rel="alternate" type="text/html"/>
    <link href="https://arxiv.org/pdf/astro-ph/0601001v1" rel="related" type="application/pdf" title="pdf"/>
    <summary>  We derive the frequencies of hot Jupiters (HJs) with 3--5 day periods and very hot Jupiters (VHJs) with 1-3 day periods by comparing the planets actually detected in the OGLE-III survey with those predicted by our models. The models are constructed following Gould &amp; Morgan (2003) by populating the line of sight with stars drawn from the Hipparcos catalog. Using these, we demonstrate that the number of stars with sensitivity to HJs and VHJs is only 4--16% of those in the OGLE-III fields satisfying the spectroscopic-followup limit of V_max&lt;17.5. Hence, the frequencies we derive are much higher than a naive estimate would indicate. We find that at 90% confidence the fraction of stars with planets in the two period ranges is (1/310)(1^{+1.39}_{-0.59}) for HJs and (1/690)(1^{+1.10}_{-0.54}) for VHJs. The HJ rate is statistically indistinguishable from that found in radial velocity (RV) studies. However, we note that magnitude-limited RV samples are heavily biased toward metal-rich (hence, planet-bearing) stars, while transit surveys are not, and therefore we expect that more sensitive transit surveys should find a deficit of HJs as compared to RV surveys. The detection of 3 transiting VHJs, all with periods less than 2 days, is marginally consistent with the complete absence of such detections in RV surveys. The planets detected are consistent with being uniformly distributed between 1.00 and 1.25 Jovian radii, but there are too few in the sample to map this distribution in detail.</summary>
    <category term="astro-ph" scheme="http://arxiv.org/schemas/atom"/>
    <published>2006-01-02T14:57:58Z</published>
    <arxiv:comment>62 pages including 16 figures and 9 tables. Submitted to Acta Astronomica. Full resolution version at http://www.astronomy.ohio-state.edu/~gould/ogle_hot_jupiters.ps.gz</arxiv:comment>
    <arxiv:primary_category term="astro-ph"/>
    <arxiv:journal_ref>ActaAstron.56:1-50,2006</arxiv:journal_ref>
    <author>
      <name>Andrew Gould</name>
      <arxiv:affiliation>Ohio State</arxiv:affiliation>
    </author>
    <author>
      <name>Susan Dorsher</name>
      <arxiv:affiliation>Ohio State</arxiv:affiliation>
    </author>
    <author>
      <name>B. Scott Gaudi</name>
      <arxiv:affiliation>CfA</arxiv:affiliation>
    </author>
    <author>
      <name>Andrzej Udalski</name>
      <arxiv:affiliation>Warsaw University Observatory</arxiv:affiliation>
    </author>
  </entry>
</feed>
"""
ATOM_2026_EMPTY = """\
<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/oqaUC9OB2SccftmJHZqrxySXrao</id>
  <title>arXiv Query: search_query=&amp;id_list=0000.0000&amp;start=0&amp;max_results=100</title>
  <updated>2026-04-12T22:09:26Z</updated>
  <link href="https://arxiv.org/api/query?search_query=&amp;start=0&amp;max_results=100&amp;id_list=0000.0000" type="application/atom+xml"/>
  <opensearch:itemsPerPage>100</opensearch:itemsPerPage>
  <opensearch:totalResults>0</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
</feed>
"""
ATOM_2016_HEAD = """\
<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <link href="http://arxiv.org/api/query?search_query%3Dau%3Adel_maestro%26id_list%3D%26start%3D0%26max_results%3D10" rel="self" type="application/atom+xml"/>
  <title type="html">ArXiv Query: search_query=au:del_maestro&amp;id_list=&amp;start=0&amp;max_results=10</title>
  <id>http://arxiv.org/api/ctp4pS6S0+O1vHtro0R+jCHLHu8</id>
  <updated>2016-10-09T00:00:00-04:00</updated>
  <opensearch:totalResults xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">31</opensearch:totalResults>
  <opensearch:startIndex xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">0</opensearch:startIndex>
  <opensearch:itemsPerPage xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/">10</opensearch:itemsPerPage>
  </feed>
"""


def gz(src: Path | bytes, dest: Path) -> Path:
    data = src.read_bytes() if isinstance(src, Path) else src
    dest.write_bytes(gzip.compress(data, mtime=0))
    return dest


@pytest.mark.parametrize("text", [ATOM_2026_ONE_ENTRY, ATOM_2026_EMPTY, ATOM_2016_HEAD], ids=["2026", "empty", "2016"])
def test_atom_feeds_are_recognised(tmp_path: Path, text: str) -> None:
    path = tmp_path / "feed.xml"
    path.write_text(text, encoding="utf-8")
    assert detect_format(path) == "atom"
    assert detect_format(gz(path, tmp_path / "feed.bin")) == "atom"


def test_snapshot_and_oai_are_recognised_plain_and_gzipped(tmp_path: Path) -> None:
    assert detect_format(SNAPSHOT) == "snapshot"
    assert detect_format(FIXTURES / "snapshot" / "sample.jsonl.gz") == "snapshot"
    assert detect_format(OAI_PAGE) == "oai"
    # The name says nothing: gzip is found by its magic bytes, the format by what follows.
    assert detect_format(gz(OAI_PAGE, tmp_path / "page.jsonl")) == "oai"
    assert detect_format(gz(SNAPSHOT, tmp_path / "lines.xml")) == "snapshot"


def test_byte_order_mark_and_leading_blank_lines_are_skipped(tmp_path: Path) -> None:
    path = tmp_path / "x"
    path.write_bytes(b"\xef\xbb\xbf\n\n" + SNAPSHOT.read_bytes())
    assert detect_format(path) == "snapshot"
    path.write_bytes(b"\xef\xbb\xbf" + OAI_PAGE.read_bytes())
    assert detect_format(path) == "oai"


def test_a_first_line_longer_than_the_peek_is_still_a_snapshot(tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    path.write_bytes(b'{"id": "0704.0001", "abstract": "' + b"x" * 100_000 + b'"}\n')
    assert detect_format(path) == "snapshot"


@pytest.mark.parametrize("content, words", [
    (b"", "file is empty"),
    (b"id,title\n0704.0001,A paper\n", "it starts with 'id,title"),
    (b'{"title": "no id here"}\n', 'without an "id" (keys: title)'),
    (b"[1, 2, 3]\n", "not a snapshot, Atom feed or OAI-PMH"),
    (b'<?xml version="1.0"?>\n<rss version="2.0"><channel/></rss>', "root is <rss>"),
    (b'<feed xmlns="http://example.org/not-atom"></feed>', "root is <feed>"),
    (b"{not json", "line 1 is not a JSON object"),
])
def test_unrecognised_files_raise_input_error_naming_file_and_content(tmp_path: Path, content: bytes,
                                                                       words: str) -> None:
    path = tmp_path / "mystery.dat"
    path.write_bytes(content)
    with pytest.raises(InputError) as info:
        detect_format(path)
    assert str(path) in str(info.value) and words in str(info.value)


def test_missing_file_raises_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="absent.xml"):
        detect_format(tmp_path / "absent.xml")


def test_read_file_dispatches_snapshot_and_oai(tmp_path: Path) -> None:
    assert list(read_file(SNAPSHOT)) == list(iter_snapshot(SNAPSHOT))
    papers = list(read_file(gz(OAI_PAGE, tmp_path / "page.gz")))
    assert [p.id for p in papers] == ["0704.0001", "0704.0002", "0704.0003"]


def test_read_file_reports_unreadable_oai_records_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "page.xml"
    path.write_bytes(OAI_PAGE.read_bytes().replace(b"<title>Sparsity-certifying Graph Decompositions</title>", b""))
    issues: list[SnapshotIssue] = []
    assert [p.id for p in read_file(path, issues.append)] == ["0704.0001", "0704.0003"]
    assert [str(i) for i in issues] == [f"{path}: oai:arXiv.org:0704.0002: title: missing"]


def test_read_file_turns_an_oai_error_document_into_input_error() -> None:
    with pytest.raises(InputError, match="badArgument"):
        list(read_file(FIXTURES / "oai" / "error_badargument.xml"))


def test_read_file_hands_atom_bytes_to_the_atom_reader(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[bytes] = []
    fake = types.ModuleType("paperscope.sources.atom")

    def read_feed_file(data: bytes, name: str) -> types.SimpleNamespace:
        seen.append(data)
        return types.SimpleNamespace(entries=["paper"], skipped=[], stopped="")

    fake.read_feed_file = read_feed_file  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "paperscope.sources.atom", fake)
    path = gz(ATOM_2026_ONE_ENTRY.encode(), tmp_path / "feed.xml.gz")
    assert list(read_file(path)) == ["paper"]
    assert seen == [ATOM_2026_ONE_ENTRY.encode()]


def test_read_file_with_the_real_atom_reader(tmp_path: Path) -> None:
    pytest.importorskip("paperscope.sources.atom")
    path = tmp_path / "feed.xml"
    path.write_text(ATOM_2026_ONE_ENTRY, encoding="utf-8")
    papers = list(read_file(path))
    assert len(papers) == 1 and isinstance(papers[0], Paper)
    assert papers[0].id == "astro-ph/0601001"


# ------------------------------------------------------------------------------------------ damaged files (#11)

ATOM_25 = FIXTURES / "atom" / "api_25_real_records_newest_first.xml"


def _cut(data: bytes, fraction: float) -> bytes:
    return data[: int(len(data) * fraction)]


def test_a_gzip_snapshot_cut_at_40_percent_gives_every_record_before_the_cut(tmp_path: Path) -> None:
    """Issue #11: a gzip cut at 40 % said 'cannot read past line 0' and imported nothing."""
    lines = SNAPSHOT.read_bytes().splitlines(keepends=True)
    big = b"".join(lines * 300)  # ~3,000 records, many 4 MiB blocks' worth of work for the decompressor
    whole = gzip.compress(big, compresslevel=6)
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(_cut(whole, 0.4))
    issues: list[SnapshotIssue] = []
    papers = list(read_file(path, on_error=issues.append))
    # What zlib can recover from the same bytes, counted in complete lines:
    readable = zlib.decompressobj(31).decompress(_cut(whole, 0.4))
    complete = readable.count(b"\n")
    assert len(papers) == complete and complete > 500
    assert [p.id for p in papers] == [p.id for p in iter_snapshot(SNAPSHOT)] * (complete // 10) + \
        [p.id for p in iter_snapshot(SNAPSHOT)][: complete % 10]
    stop = issues[-1]
    assert "cut short" in stop.message and stop.line == complete + 1 and f"after line {complete + 1}" in stop.message


def test_a_cut_gzip_without_on_error_raises_after_handing_over_what_it_read(tmp_path: Path) -> None:
    path = tmp_path / "cut.jsonl.gz"
    cut = _cut(gzip.compress(SNAPSHOT.read_bytes()), 0.5)
    path.write_bytes(cut)
    got: list[Paper] = []
    with pytest.raises(InputError, match=r"cut.jsonl.gz:\d+: the gzip data ends early"):
        for p in read_file(path):
            got.append(p)
    assert len(got) == zlib.decompressobj(31).decompress(cut).count(b"\n") > 0


def test_concatenated_gzip_members_are_read_as_one_file(tmp_path: Path) -> None:
    data = SNAPSHOT.read_bytes()
    path = tmp_path / "two.jsonl.gz"
    path.write_bytes(gzip.compress(data) + gzip.compress(data))
    assert len(list(read_file(path))) == 20


@pytest.mark.parametrize("compress", [False, True])
def test_a_cut_atom_file_gives_every_entry_before_the_cut(tmp_path: Path, compress: bool) -> None:
    """Issue #11: a truncated Atom file imported nothing."""
    data = _cut(ATOM_25.read_bytes(), 0.6)
    path = tmp_path / "cut.xml"
    path.write_bytes(gzip.compress(data)[:-12] if compress else data)
    issues: list[SnapshotIssue] = []
    papers = list(read_file(path, on_error=issues.append))
    whole = [p.id for p in read_file(ATOM_25)]
    entries_ended = data.count(b"</entry>") if not compress else None
    assert len(papers) >= 10 and [p.id for p in papers] == whole[: len(papers)]
    if entries_ended is not None:
        assert len(papers) == entries_ended
    assert "breaks off at line" in issues[-1].message and f"{len(papers)} entries" in issues[-1].message


def test_a_cut_oai_file_gives_every_record_before_the_cut(tmp_path: Path) -> None:
    data = OAI_PAGE.read_bytes()
    cut = data[: data.index(b"<record>", data.index(b"</record>")) + 40]  # into the second record
    path = tmp_path / "cut_oai.xml"
    path.write_bytes(cut)
    issues: list[SnapshotIssue] = []
    assert [p.id for p in read_file(path, on_error=issues.append)] == ["0704.0001"]
    assert "breaks off" in issues[-1].message and "1 records before it" in issues[-1].message


def test_an_oai_file_declaring_an_unknown_encoding_is_an_input_error(tmp_path: Path) -> None:
    path = tmp_path / "enc.xml"
    path.write_bytes(OAI_PAGE.read_bytes().replace(b'encoding="UTF-8"', b'encoding="x-no-such"', 1))
    with pytest.raises(InputError, match="enc.xml: .*encoding"):
        list(read_file(path))


def _gzip_cases() -> dict[str, bytes]:
    data = b"".join(SNAPSHOT.read_bytes().splitlines(keepends=True) * 300)
    whole = gzip.compress(data, compresslevel=6)
    damaged = bytearray(whole)
    damaged[len(whole) // 2:len(whole) // 2 + 64] = bytes(64)  # zeros in the middle of the deflate stream
    bad_check = bytearray(whole)
    bad_check[-8] ^= 0xFF  # the CRC-32 of the data, in the trailer
    return {"whole": whole, "cut": _cut(whole, 0.4), "two members": whole + gzip.compress(data),
            "junk after": whole + b"not gzip at all\n", "zero padding": whole + bytes(512), "damaged": bytes(damaged),
            "bad check": bytes(bad_check)}


@pytest.mark.parametrize("case", sorted(_gzip_cases()))
def test_isal_and_zlib_read_a_gzip_snapshot_alike(tmp_path: Path, case: str, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """The snapshot reader inflates with ISA-L where it is installed, zlib otherwise: the same papers and the same
    problems either way, whole, cut, concatenated, with junk or padding after, or damaged."""
    isal_zlib = pytest.importorskip("isal.isal_zlib")
    from paperscope.sources import snapshot

    path = tmp_path / "s.jsonl.gz"
    path.write_bytes(_gzip_cases()[case])
    got = {}
    for name, inflate in (("zlib", zlib), ("isal", isal_zlib)):
        monkeypatch.setattr(snapshot, "_inflate", inflate)
        issues: list[SnapshotIssue] = []
        ids = [p.id for p in read_file(path, on_error=issues.append)]
        got[name] = (ids, [(i.line, i.message.split(" (")[0]) for i in issues])
    assert got["isal"] == got["zlib"]
    ids, issues = got["zlib"]
    assert len(ids) > 0
    assert (issues == []) == (case in ("whole", "two members", "zero padding"))
    if case == "bad check":
        assert "the gzip data is damaged" in issues[-1][1]
