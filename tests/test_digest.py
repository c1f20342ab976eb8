"""Digest renderers on real arXiv records and on hand-made adversarial ones."""

from __future__ import annotations

import json
import random
import re
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from html import unescape
from pathlib import Path

import pytest

from paperscope.render import (
    Digest,
    DigestSection,
    digest_to_dict,
    paper_from_dict,
    parse_markdown,
    render_atom,
    render_html,
    render_json,
    render_markdown,
)
from paperscope.render.markdown import escape_cell, unescape_cell
from paperscope.render.model import abs_url, one_line, section_slugs, slugify, split_abs_url, unique_slugs
from paperscope.render.registry import render
from paperscope.errors import InputError
from paperscope.models import Author, Paper, Topic, Version

FIXTURE = Path(__file__).parent / "fixtures" / "digest" / "papers.jsonl"

ATOM = "{http://www.w3.org/2005/Atom}"
ARXIV = "{http://arxiv.org/schemas/atom}"


def _day(iso: str) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=UTC)


def _from_snapshot(r: dict) -> Paper:
    versions = [Version(int(v["version"][1:]), parsedate_to_datetime(v["created"])) for v in r["versions"]]
    authors = []
    for parts in r["authors_parsed"]:
        last, first, suffix = parts[:3]
        name = " ".join(x for x in (first, last, suffix) if x)
        authors.append(Author(name, [parts[3]] if len(parts) > 3 and parts[3] else []))
    cats = r["categories"].split()
    return Paper(
        id=r["id"],
        title=r["title"],
        abstract=r["abstract"],
        updated=versions[-1].created if versions else _day(r["update_date"]),
        version=versions[-1].version if versions else 1,
        authors=authors,
        comment=r["comments"] or "",
        journal_ref=r["journal-ref"] or "",
        doi=r["doi"] or "",
        primary_category=cats[0],
        categories=cats,
        published=versions[0].created if versions else None,
        versions=versions,
    )


def load_papers() -> list[Paper]:
    """Fixture records as Papers; a DailyArXiv record takes authors/categories from the snapshot line after it."""
    papers: dict[str, Paper] = {}
    with FIXTURE.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if "authors_parsed" in r:
                snap = _from_snapshot(r)
                if r["id"] in papers:  # join: keep the README's text, add the snapshot's people and categories
                    p = papers[r["id"]]
                    p.authors, p.categories, p.primary_category = snap.authors, snap.categories, snap.primary_category
                else:
                    papers[r["id"]] = snap
            else:
                papers[r["id"]] = Paper(
                    id=r["id"],
                    title=r["title"],
                    abstract=r["abstract"],
                    updated=_day(r["date"]),
                    version=r["version"],
                    comment=r["comment"],
                    published=_day(r["date_earliest"]),
                )
    return list(papers.values())


PAPERS = load_papers()


def adversarial() -> list[Paper]:
    when = datetime(2026, 8, 20, 17, 2, 5, tzinfo=UTC)
    many = [Author(f"Author {i:04d}") for i in range(3000)]
    return [
        Paper(
            "2608.00001",
            "Closing ] and ](http://evil) and [x](y) and trailing\\",
            "a|b",
            when,
            2,
            comment="| leading pipe",
            authors=[Author("Jürgen <Schmidhuber>")],
        ),
        Paper(
            "2608.00002",
            "Norms \\|x\\| and \\[ \\] and `code|x` and **bold** & <script>alert(1)</script>",
            "Breaks </p></details> out?\r\nNew\tline\x0c and \\& \\< \\\\| and &amp; literally and \U0001f916",
            when,
            1,
            comment="#1 & <b>bold</b>\nsecond line \\",
            categories=["cs.CL", "cs.LG"],
        ),
        Paper(
            "hep-th/9901001",
            "Old-style id with \\\\ double backslash and a *star",
            "",
            when,
            3,
            comment="",
            authors=many,
            primary_category="hep-th",
            categories=["hep-th"],
        ),
        Paper("2608.00004", "   Spaces   and\nnewlines   ", "   ", when, 1, comment="   \n  "),
        Paper("2608.00005", "\\", "\\", when, 1, comment="\\"),
    ]


def digest_of(*sections: DigestSection) -> Digest:
    return Digest(date(2026, 8, 21), list(sections))


def real_digest() -> Digest:
    # Not sorted by anything: renderers must keep this order.
    shuffled = PAPERS[:]
    random.Random(3).shuffle(shuffled)
    half = len(shuffled) // 2
    return digest_of(
        DigestSection("Time Series", shuffled[:half], topic=Topic("time-series", '"time series" OR forecasting')),
        DigestSection("Graph | Neural <Networks> #2", shuffled[half:], labels={shuffled[half].id: "revised"}),
        DigestSection(
            "Followed authors", [*adversarial(), shuffled[0]], labels={"2608.00001": "new", "2608.00002": "revised"}
        ),
        DigestSection("Quiet topic", [], note="arXiv announced nothing today"),
    )


def test_fixture_has_the_hard_cases() -> None:
    assert len(PAPERS) >= 30
    text = [p.title + p.abstract + p.comment for p in PAPERS]
    assert any("|" in p.title for p in PAPERS) and any("|" in p.comment for p in PAPERS)
    assert any("\\|" in p.abstract for p in PAPERS)
    assert any("<" in p.title for p in PAPERS) and any("[" in p.title for p in PAPERS)
    assert any("\n" in t for t in text) and any("&" in t for t in text) and any("`" in p.title for p in PAPERS)
    assert any(len(p.comment) > 300 for p in PAPERS)
    assert any(len(p.authors) >= 60 for p in PAPERS) and any("/" in p.id for p in PAPERS)


# ------------------------------------------------------------------------------------------- Markdown


def test_markdown_layout_is_exact() -> None:
    paper = Paper(
        "2403.01742",
        "Diffusion-TS: Interpretable Diffusion",
        "Denoising | diffusion <models>.",
        datetime(2024, 10, 21, 9, 30, tzinfo=UTC),
        3,
        comment="ICLR 2024 | code",
    )
    digest = digest_of(
        DigestSection("Time Series", [paper]), DigestSection("Quiet", [], note="arXiv announced nothing today")
    )
    assert render_markdown(digest) == (
        "# Daily Papers\n"
        "Last update: 2026-08-21\n"
        "\n"
        "## Time Series\n"
        "| **Title** | **Date** | **Abstract** | **Comment** |\n"
        "| --- | --- | --- | --- |\n"
        "| **[Diffusion-TS: Interpretable Diffusion](http://arxiv.org/abs/2403.01742v3)** | 2024-10-21 | "
        "<details><summary>Show</summary><p>Denoising \\| diffusion &lt;models&gt;.</p></details> | ICLR 2024 \\| code |\n"
        "\n"
        "## Quiet\n"
        "arXiv announced nothing today\n"
    )


def _expected_row(paper: Paper, label: str = "") -> dict:
    return {
        "title": one_line(paper.title),
        "url": f"http://arxiv.org/abs/{paper.id}v{paper.version}",
        "id": paper.id,
        "version": paper.version,
        "date": paper.updated.astimezone(UTC).date(),
        "abstract": one_line(paper.abstract),
        "comment": one_line(paper.comment),
        "label": label,
    }


def test_markdown_round_trips_every_field_in_order() -> None:
    digest = real_digest()
    parsed = parse_markdown(render_markdown(digest))
    assert parsed.title == "Daily Papers"
    assert parsed.last_update == date(2026, 8, 21)
    assert [s.title for s in parsed.sections] == [s.title for s in digest.sections]
    for got, section in zip(parsed.sections, digest.sections):
        assert got.rows == [_expected_row(p, section.labels.get(p.id, "")) for p in section.papers]
        assert got.note == section.note


def test_note_replaces_empty_table_and_precedes_a_full_one() -> None:
    paper = adversarial()[0]
    md = render_markdown(
        digest_of(DigestSection("A", [], note="nothing today"), DigestSection("B", [paper], note="# - 1. | late"))
    )
    assert "## A\nnothing today\n\n## B\n" in md
    assert md.count("| **Title** |") == 1
    parsed = parse_markdown(md)
    assert parsed.sections[0].rows == [] and parsed.sections[0].note == "nothing today"
    assert parsed.sections[1].note == "# - 1. | late" and len(parsed.sections[1].rows) == 1
    assert "\n\\# - 1. \\| late\n\n| **Title**" in md


def test_every_row_is_one_line_with_four_cells() -> None:
    md = render_markdown(real_digest())
    rows = [line for line in md.splitlines() if line.startswith("| **[")]
    assert len(rows) == sum(len(s.papers) for s in real_digest().sections) == len(PAPERS) + len(adversarial()) + 1
    for row in rows:
        unescaped_pipes = [m for m in re.finditer(r"(\\*)\|", row) if len(m.group(1)) % 2 == 0]
        assert len(unescaped_pipes) == 5, row


_TRICKY = [
    "\\",
    "|",
    "[",
    "]",
    "(",
    ")",
    "`",
    "*",
    "_",
    "~",
    "&",
    "<",
    ">",
    "#",
    "-",
    "!",
    "\n",
    " ",
    "a",
    "é",
    "&amp;",
    "&lt;",
    "&#60;",
    "&x",
    ";",
    "\\|",
    "](",
    "1.",
]


@pytest.mark.parametrize("seed", range(5))
def test_escaping_round_trips_random_text(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(400):
        text = "".join(rng.choice(_TRICKY) for _ in range(rng.randint(0, 14)))
        for specials, guard, lead in (
            ("|[]`*", True, False),
            ("|", True, False),
            ("|", False, False),
            ("#|", False, False),
            ("|", False, True),
        ):
            escaped = escape_cell(text, specials, guard_end=guard, lead=lead)
            assert "\n" not in escaped and "<" not in escaped
            assert unescape_cell(escaped, guard_end=guard) == one_line(text), (text, escaped)
        # a whole row still has four cells and parses back
        paper = Paper("2608.00009", text or "x", text, datetime(2026, 1, 1, tzinfo=UTC), 1, comment=text)
        rows = parse_markdown(
            render_markdown(digest_of(DigestSection(text, [paper], labels={paper.id: text})))
        ).sections
        assert rows[0].title == one_line(text)
        assert rows[0].rows == [_expected_row(paper, one_line(text))]


def test_github_markdown_renders_each_row_as_four_cells_and_a_working_link() -> None:
    markdown_it = pytest.importorskip("markdown_it")
    digest = real_digest()
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(render_markdown(digest))
    bodies = re.findall(r"<tbody>(.*?)</tbody>", html, re.DOTALL)
    listed = [s for s in digest.sections if s.papers]
    assert len(bodies) == len(listed)
    checked_abstracts = 0
    for body, section in zip(bodies, listed):
        rows = re.findall(r"<tr>(.*?)</tr>", body, re.DOTALL)
        assert len(rows) == len(section.papers)
        for row, paper in zip(rows, section.papers):
            cells = re.findall(r"<td>(.*?)</td>", row, re.DOTALL)
            assert len(cells) == 4, row
            link = re.match(r'<strong><a href="([^"]*)">(.*)</a></strong>', cells[0])
            assert link, cells[0]
            assert link.group(1) == paper.abs_url
            # the title reads exactly as on arXiv (no markup leaked or swallowed)
            assert unescape(re.sub(r"<[^>]+>", "", link.group(2))) == one_line(paper.title)
            assert cells[2].startswith("<details><summary>Show</summary><p>") and cells[2].endswith("</p></details>")
            assert cells[2].count("</p></details>") == 1
            # abstract and comment read as written too, unless they hold Markdown emphasis/code/link syntax
            shown = unescape(cells[2][len("<details><summary>Show</summary><p>") : -len("</p></details>")])
            if not re.search(r"[*_`\[\]]", paper.abstract):
                assert shown == one_line(paper.abstract)
                checked_abstracts += 1
            if not re.search(r"[*_`\[\]]", paper.comment):
                assert unescape(cells[3]) == one_line(paper.comment)
    assert checked_abstracts >= 25


def test_entities_only_where_markdown_would_decode_them() -> None:
    # a bare & stays bare: GitHub's autolinker would copy "&amp;" into the URL
    url = "https://openreview.net/forum?id=BhOJreYmur&noteId=ymnAhncuez"
    assert any(url in p.comment for p in PAPERS)
    assert escape_cell(f"TMLR, {url}") == f"TMLR, {url}"
    assert escape_cell("S&P500 &lt; &#60; & <b>") == "S&P500 &amp;lt; &amp;#60; & &lt;b&gt;"
    assert unescape_cell("S&P500 &amp;lt; &amp;#60; & &lt;b&gt;") == "S&P500 &lt; &#60; & <b>"


def test_parse_markdown_names_the_bad_line() -> None:
    md = render_markdown(digest_of(DigestSection("A", adversarial()[:1])))
    broken = md.replace("| 2026-08-20 |", "| yesterday |")
    with pytest.raises(InputError, match="markdown line 7: date 'yesterday'"):
        parse_markdown(broken)
    with pytest.raises(InputError, match="markdown line 7: expected 4 cells"):
        parse_markdown(md.replace("| 2026-08-20 |", "|"))


# ------------------------------------------------------------------------------------------- HTML


def _html_tree(html: str) -> ET.Element:
    # The page is written as well-formed XML too, so a strict XML parser checks every tag is closed.
    return ET.fromstring(html.split("\n", 1)[1])


def test_html_is_one_well_formed_self_contained_page() -> None:
    digest = real_digest()
    html = render_html(digest)
    assert html.startswith("<!DOCTYPE html>")
    root = _html_tree(html)
    assert root.find("./head/meta[@name='viewport']") is not None
    assert root.find("./head/style") is not None
    assert "<script" not in html.lower().replace("&lt;script", "")
    assert not root.findall(".//*[@src]") and not root.findall(".//link")
    ids = [el.get("id") for el in root.iter() if el.get("id")]
    assert len(ids) == len(set(ids)) == len(digest.sections) + sum(len(s.papers) for s in digest.sections)
    external = {a.get("href") for a in root.iter("a") if not a.get("href", "").startswith("#")}
    assert all(re.match(r"^http://arxiv\.org/(abs|pdf)/", href) for href in external)


def test_html_sections_have_anchors_and_each_paper_a_link() -> None:
    digest = real_digest()
    root = _html_tree(render_html(digest))
    sections = root.findall(".//main/section")
    assert [s.get("id") for s in sections] == unique_slugs([s.title for s in digest.sections])
    toc = [a.get("href") for a in root.findall(".//nav//a")]
    assert toc == [f"#{s.get('id')}" for s in sections]
    for element, section in zip(sections, digest.sections):
        assert "".join(element.find("h2").itertext()) == one_line(section.title)
        items = element.findall("./ol/li")
        assert len(items) == len(section.papers)
        for item, paper in zip(items, section.papers):
            link = item.find("./h3/a")
            assert link.get("href") == paper.abs_url
            assert link.text == one_line(paper.title).replace("\x0c", "")
            label = item.find("./h3/span")
            assert (label.text if label is not None else "") == section.labels.get(paper.id, "")
            details = item.find("./details/p")
            expected_abstract = one_line(paper.abstract)
            assert (details.text if details is not None else "") == expected_abstract
    quiet = sections[-1]
    assert quiet.find("./p").text == "arXiv announced nothing today"


def test_html_escapes_markup_in_text() -> None:
    html = render_html(digest_of(DigestSection("<b>x</b>", adversarial())))
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "</p></details> out?" not in html
    assert "<b>" not in html
    assert "and 2988 more" in html  # 3000 authors, 12 shown


# ------------------------------------------------------------------------------------------- Atom


def _stamp(dt: datetime) -> str:
    return dt.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_atom_feed_per_section_has_the_right_values() -> None:
    digest = real_digest()
    section = digest.sections[2]
    feed = ET.fromstring(render_atom(section, digest))
    assert feed.tag == f"{ATOM}feed"
    assert feed.findtext(f"{ATOM}id") == "urn:paperscope:topic:followed-authors"
    assert feed.findtext(f"{ATOM}title") == "Daily Papers: Followed authors"
    assert feed.findtext(f"{ATOM}updated") == "2026-08-20T17:02:05Z"
    assert feed.find(f"{ATOM}author/{ATOM}name").text == "paperscope"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == len(section.papers)
    for entry, paper in zip(entries, section.papers):
        assert entry.findtext(f"{ATOM}id") == paper.abs_url
        assert entry.findtext(f"{ATOM}title") == one_line(paper.title).replace("\x0c", "")
        assert entry.findtext(f"{ATOM}summary") == one_line(paper.abstract)
        assert entry.findtext(f"{ATOM}updated") == _stamp(paper.updated)
        assert entry.findtext(f"{ATOM}published") == _stamp(paper.published or paper.updated)
        assert [a.findtext(f"{ATOM}name") for a in entry.findall(f"{ATOM}author")] == paper.author_names
        links = {link.get("rel"): link.get("href") for link in entry.findall(f"{ATOM}link")}
        assert links["alternate"] == paper.abs_url and links["related"].startswith("http://arxiv.org/pdf/")
        terms = [(c.get("term"), c.get("scheme")) for c in entry.findall(f"{ATOM}category")]
        label = section.labels.get(paper.id)
        assert terms == [(c, "http://arxiv.org/schemas/atom") for c in paper.categories] + (
            [(label, "urn:paperscope:label")] if label else []
        )
        assert (entry.findtext(f"{ARXIV}comment") or "") == one_line(paper.comment)


def test_atom_for_real_papers_and_topic_ids() -> None:
    digest = real_digest()
    section = digest.sections[0]
    feed = ET.fromstring(render_atom(section, digest, feed_id_base="tag:example.org,2026:"))
    assert feed.findtext(f"{ATOM}id") == "tag:example.org,2026:time-series"
    assert feed.findtext(f"{ATOM}subtitle") == 'Query: "time series" OR forecasting'
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}id") for e in entries] == [p.abs_url for p in section.papers]
    assert feed.findtext(f"{ATOM}updated") == _stamp(max(p.updated for p in section.papers))
    assert any(p.published and p.published != p.updated for p in section.papers)
    for entry, paper in zip(entries, section.papers):
        assert entry.findtext(f"{ATOM}published") == _stamp(paper.published or paper.updated)
        assert entry.findtext(f"{ATOM}updated") == _stamp(paper.updated)


def test_atom_empty_section_is_still_a_valid_feed() -> None:
    digest = real_digest()
    feed = ET.fromstring(render_atom(digest.sections[-1], digest))
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated") == "2026-08-21T00:00:00Z"
    assert feed.findtext(f"{ATOM}subtitle") == "arXiv announced nothing today"


# ------------------------------------------------------------------------------------------- JSON


def test_json_has_stable_keys_iso_dates_and_round_trips_papers() -> None:
    digest = real_digest()
    text = render_json(digest)
    assert text == render_json(digest)
    data = json.loads(text)
    assert data == digest_to_dict(digest)
    assert list(data) == ["title", "generated", "sections"]
    assert data["generated"] == "2026-08-21"
    for got, section in zip(data["sections"], digest.sections):
        assert list(got) == ["title", "slug", "note", "topic", "count", "papers"]
        assert got["count"] == len(section.papers)
        assert [p["id"] for p in got["papers"]] == [p.id for p in section.papers]
        for item, paper in zip(got["papers"], section.papers):
            assert paper_from_dict(item) == paper
            assert item["url"] == paper.abs_url
            assert item["authors"] == [{"name": a.name, "affiliations": a.affiliations} for a in paper.authors]
            assert item["categories"] == paper.categories
            assert item["label"] == section.labels.get(paper.id, "")
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", item["updated"])
    assert data["sections"][0]["topic"] == {
        "name": "time-series",
        "query": '"time series" OR forecasting',
        "categories": [],
        "max_papers": 100,
    }
    first = data["sections"][0]["papers"][0]
    assert list(first)[:5] == ["id", "version", "url", "pdf_url", "title"]


def test_paper_from_dict_without_updated_names_the_paper() -> None:
    with pytest.raises(InputError, match="paper 2401.00001: field 'updated' is missing"):
        paper_from_dict({"id": "2401.00001", "title": "t", "abstract": "a", "version": 1})


def test_slugs() -> None:
    assert slugify("Graph Neural Networks") == "graph-neural-networks"
    assert slugify("Jürgen's <topic>") == "jurgen-s-topic"
    assert slugify("***") == "section"
    assert unique_slugs(["A", "a", "A-2", "b"]) == ["a", "a-2", "a-2-2", "b"]


def test_one_slug_rule_for_anchors_json_feed_ids_and_feed_files() -> None:
    """"LLM Agents" and "LLM agents" once wrote one feed file twice; "Réseaux" gave two different slugs."""
    paper = adversarial()[0]
    digest = digest_of(
        DigestSection("LLM Agents", [paper], topic=Topic("LLM Agents", "agent")),
        DigestSection("LLM agents", [paper], topic=Topic("LLM agents", "agents")),
        DigestSection("Réseaux de neurones", [paper], topic=Topic("Réseaux de neurones", "reseau")),
    )
    slugs = section_slugs(digest)
    assert slugs == ["llm-agents", "llm-agents-2", "reseaux-de-neurones"]
    assert [s["slug"] for s in digest_to_dict(digest)["sections"]] == slugs
    assert [s.get("id") for s in _html_tree(render_html(digest)).findall(".//main/section")] == slugs
    feed_ids = [ET.fromstring(render_atom(s, digest)).findtext(f"{ATOM}id") for s in digest.sections]
    assert feed_ids == [f"urn:paperscope:topic:{slug}" for slug in slugs]
    # the registry's "atom" text is every feed in order, with the same ids
    feeds = [chunk for chunk in render("digest", "atom", digest).split("<?xml") if chunk.strip()]
    assert [ET.fromstring("<?xml" + f).findtext(f"{ATOM}id") for f in feeds] == feed_ids
    # an explicit slug wins (the caller names the file and the id from one list)
    assert ET.fromstring(render_atom(digest.sections[1], digest, slug="x")).findtext(f"{ATOM}id") == (
        "urn:paperscope:topic:x")


def test_hostile_ids_keep_the_markdown_table_whole_and_round_trip() -> None:
    """Ids holding `)`, `|`, newlines or HTML once broke the table (4 of 32 rows survived)."""
    when = datetime(2026, 8, 20, tzinfo=UTC)
    bad = ["2608.00001)", "2608|00002", "2608.00003\n| x | y |", "<img src=x onerror=alert(1)>",
           "2608 00005](javascript:alert(1))", "a\x00b", "%41v2", "hep-th/9901001"]
    papers = [Paper(i, f"Title {n}", "abs", when, n + 1) for n, i in enumerate(bad)]
    md = render_markdown(digest_of(DigestSection("Ids", papers)))
    rows = [line for line in md.splitlines() if line.startswith("| **[")]
    assert len(rows) == len(bad)
    assert "<img" not in md and "javascript:" not in md.replace("javascript%3A", "")
    parsed = parse_markdown(md).sections[0].rows
    assert [(r["id"], r["version"]) for r in parsed] == [(p.id, p.version) for p in papers]
    assert abs_url(papers[-1]) == papers[-1].abs_url  # real ids are left as they are
    assert split_abs_url(abs_url(papers[0])) == ("2608.00001)", 1)
    assert split_abs_url("https://example.org/x") is None
