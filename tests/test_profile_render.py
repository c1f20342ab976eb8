"""Author-profile renderers (Markdown, HTML, JSON, arXiv listing) on profiles built by hand from real papers.

tests/fixtures/profile/papers.jsonl holds 12 records copied verbatim from the corpus's
arxiv_snapshot_sample.jsonl.gz (arXiv metadata, CC0): four papers by Vilém Zouhar, and eight chosen for their
titles (`[De|Re]`, `<think>`, `SAM$^{*}$`, `cp_measure`, `&`, LaTeX, an old-style id, titles folded over lines).
Titles, abstracts and comments are kept as arXiv gives them, newlines included.
"""

from __future__ import annotations

import dataclasses
import json
import math
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path

import pytest

from paperscope.render.model import one_line
from paperscope.render.profile import (
    format_value,
    listing_order,
    parse_profile_markdown,
    parse_value,
    profile_to_dict,
    render_listing,
    render_profile_html,
    render_profile_json,
    render_profile_markdown,
)
from paperscope.errors import InputError
from paperscope.models import Author, AuthorProfile, Figure, Paper, PaperCard, Version
from paperscope.scoring.metrics import card_date, category_code, category_shares, first_authors, top_coauthors

FIXTURE = Path(__file__).parent / "fixtures" / "profile" / "papers.jsonl"
TODAY = date(2026, 7, 2)
# What the store's code-link detection finds in these records (the comment of 2512.16378).
CODE = {"2512.16378": "https://github.com/sarapapi/hearing2translate"}
ZOUHAR = ["2507.09509", "2512.16378", "2601.02933", "2605.28227"]
ODD = ["2510.19555", "2509.08358", "2509.07047", "2507.01163", "2302.03287", "0704.0119", "0704.0005",
       "astro-ph/0601001"]


def _paper(r: dict) -> Paper:
    versions = [Version(int(v["version"][1:]), parsedate_to_datetime(v["created"])) for v in r["versions"]]
    listed = datetime.fromisoformat(r["update_date"]).replace(tzinfo=UTC)
    cats = r["categories"].split()
    return Paper(
        id=r["id"],
        title=r["title"],
        abstract=r["abstract"],
        updated=versions[-1].created if versions else listed,
        version=versions[-1].version if versions else 1,
        authors=[Author(" ".join(x for x in (p[1], p[0], p[2]) if x)) for p in r["authors_parsed"]],
        comment=r["comments"] or "",
        primary_category=cats[0],
        categories=cats,
        published=versions[0].created if versions else listed,
        versions=versions,
        code_url=CODE.get(r["id"], ""),
    )


RECORDS = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines()]
PAPERS = {r["id"]: _paper(r) for r in RECORDS}


def card(paper: Paper, **kw: object) -> PaperCard:
    tags = kw.pop("tags", [])
    return PaperCard(paper, category_code(paper.primary_category), card_date(paper.first_submitted, TODAY),
                     first_authors(paper.author_names), list(tags), **kw)  # type: ignore[arg-type]


def zouhar() -> AuthorProfile:
    """A full profile: every figure known but the score, details filled in, one paper with code."""
    papers = [PAPERS[i] for i in ZOUHAR]
    citations = {"2507.09509": 7, "2512.16378": 1220, "2601.02933": 5, "2605.28227": 2}
    cards = [card(p, citations=citations[p.id], novelty=71.5 if p.id == "2512.16378" else None,
                  tags=["eth"] + (["fbk"] if p.id == "2512.16378" else [])) for p in papers]
    cards.sort(key=lambda c: -(c.citations or 0))  # the caller's order: by citations
    stamp = "OpenAlex (2026-11-20)"
    head = [Figure("h-index", 3, stamp, {"citations": sorted(citations.values())}),
            Figure("Papers", 4, "library", {"ids": ZOUHAR}),
            Figure("Citations", 1234, stamp),
            Figure("Novelty", 71.5, "library", {"papers": 1, "as_of": TODAY}),
            Figure("Score", None, "library")]
    return AuthorProfile(
        name="Vilém Zouhar", key="zouhar|v", generated=TODAY, h_index=head[0], papers=head[1], citations=head[2],
        novelty=head[3], score=head[4], names=["Vilém Zouhar", "Vilem Zouhar", "V. Zouhar"],
        openalex_id="https://openalex.org/A5000000001", orcid="0000-0002-1825-0097",
        figures=head + [Figure("i10-index", 1, stamp), Figure("Citations per year", 411.33, "library",
                                                              {"first_year": 2025, "window": (2025, 2026)})],
        citations_per_year={2025: 1227, 2026: 7},
        categories=category_shares(p.primary_category for p in papers),
        coauthors=top_coauthors("Vilém Zouhar", [p.author_names for p in papers], n=5),
        affiliations=[("eth", "ETH Zürich"), ("fbk", "Fondazione Bruno Kessler")],
        cards=cards,
    )


def odd_titles() -> AuthorProfile:
    """Eight real papers with hard titles; nothing known about the person: every figure is None."""
    papers = [PAPERS[i] for i in ODD]
    none = [Figure(label, None, "library") for label in ("h-index", "Papers", "Citations", "Novelty", "Score")]
    return AuthorProfile(
        name="Simone Alghisi", key="alghisi|s", generated=TODAY, h_index=none[0], papers=none[1],
        citations=none[2], novelty=none[3], score=none[4], figures=list(none),
        categories=category_shares(p.primary_category for p in papers),
        cards=[card(p) for p in papers], order="newest",
    )


def adversarial() -> AuthorProfile:
    """Real papers with hostile text swapped in: markup, escapes, a script, a javascript: code link."""
    base = zouhar()
    p1 = dataclasses.replace(PAPERS["2601.02933"], title="<script>alert(1)</script> & **bold** [x](y) trailing\\",
                             abstract="Breaks </p></details> out?\r\n\n## Not a heading\n| a | b |\n"
                                      "1. no list \\\\| &amp;",
                             comment="#1 & <b>bold</b>\nsecond line \\", code_url="javascript:alert(1)")
    p2 = dataclasses.replace(PAPERS["2605.28227"], title="\\", abstract="\\", comment="\\",
                             authors=[Author("Jürgen <Schmidhuber>"), Author("A | B; C")])
    cards = [card(p1, citations=0, score=99.99, tags=["a|b", "x_y"]), card(p2, novelty=0.0)]
    cards[1].authors_label = "- starts like a list · with a dot"
    return dataclasses.replace(
        base, name="# Ada | *Lovelace* \\", names=["# Ada | *Lovelace* \\", "A; Lovelace", "Ada\\"],
        figures=[Figure("weird | label", "text · with <tags>", "src [1]*"), Figure("nan", float("nan"), "x")],
        coauthors=[("Jürgen <Schmidhuber>", 2), ("A | B; C", 1)], affiliations=[("x_y", "Dept. of *CS* | <Lab>")],
        cards=cards,
    )


PROFILES = {"zouhar": zouhar, "odd_titles": odd_titles, "adversarial": adversarial}


# --------------------------------------------------------------------------------------------- fixture


def test_fixture_records_are_real_snapshot_lines() -> None:
    assert [r["id"] for r in RECORDS] == ZOUHAR + ODD
    for r in RECORDS:
        assert r["authors_parsed"] and r["title"] and r["abstract"] and r["categories"]
    assert any("\n" in r["abstract"] for r in RECORDS)
    assert "Vilém Zouhar" in PAPERS["2512.16378"].author_names


# --------------------------------------------------------------------------------------------- values


@pytest.mark.parametrize("value, text", [
    (None, "—"), (0, "0"), (12, "12"), (1234, "1,234"), (-5, "-5"), (71.5, "71.5"), (85.0, "85"),
    (0.37, "0.37"), (1234567.25, "1,234,567.25"), ("OpenAlex", "OpenAlex"),
])
def test_format_value_and_back(value: object, text: str) -> None:
    assert format_value(value) == text
    assert parse_value(text) == value


def test_format_value_unknowns_are_dashes() -> None:
    assert format_value(float("nan")) == "—"
    assert format_value(float("inf")) == "—"
    assert format_value(True) == "yes"
    assert parse_value("12 (est.)") == "12 (est.)"


# --------------------------------------------------------------------------------------------- Markdown


def test_header_line_is_the_five_figures() -> None:
    text = render_profile_markdown(zouhar())
    lines = text.splitlines()
    assert lines[0] == "# Vilém Zouhar"
    assert "**h-index** 3 · **Papers** 4 · **Citations** 1,234 · **Novelty** 71.5 · **Score** —" in lines
    assert "Also written as: Vilem Zouhar; V. Zouhar" in lines  # the name itself is not repeated
    assert ("OpenAlex: [A5000000001](https://openalex.org/A5000000001) · "
            "ORCID: [0000-0002-1825-0097](https://orcid.org/0000-0002-1825-0097)") in lines


def test_all_figures_none_render_dashes() -> None:
    profile = odd_titles()
    text = render_profile_markdown(profile)
    dashes = "**h-index** — · **Papers** — · **Citations** — · **Novelty** — · **Score** —"
    assert dashes in text.splitlines()
    parsed = parse_profile_markdown(text)
    assert parsed["header"] == dict.fromkeys(("h-index", "Papers", "Citations", "Novelty", "Score"))
    assert [f["value"] for f in parsed["figures"]] == [None] * 5
    assert "| h-index | — | library |" in text
    assert "Also written as" not in text and "OpenAlex:" not in text and "## Co-authors" not in text
    assert all(c["citations"] is None and c["novelty"] is None and c["score"] is None for c in parsed["cards"])


@pytest.mark.parametrize("name", PROFILES)
def test_markdown_round_trip_header_and_details(name: str) -> None:
    profile = PROFILES[name]()
    parsed = parse_profile_markdown(render_profile_markdown(profile))
    assert parsed["name"] == one_line(profile.name)
    assert parsed["names"] == [n for n in profile.names if n != profile.name]
    assert parsed["generated"] == profile.generated
    assert parsed["header"] == {
        "h-index": profile.h_index.value, "Papers": profile.papers.value, "Citations": profile.citations.value,
        "Novelty": profile.novelty.value, "Score": profile.score.value,
    }
    header = [profile.h_index, profile.papers, profile.citations, profile.novelty, profile.score]
    shown = [f for f in header if f not in profile.figures] + profile.figures  # every number gets its source
    assert [(f["label"], f["value"], f["source"]) for f in parsed["figures"]] == [
        (one_line(f.label), parse_value(format_value(f.value)), f.source) for f in shown
    ]
    assert parsed["citations_per_year"] == profile.citations_per_year
    assert [c for c, _ in parsed["categories"]] == [c for c, _ in profile.categories]
    for (_, got), (_, want) in zip(parsed["categories"], profile.categories, strict=True):
        assert got == pytest.approx(want, abs=0.0005)
    assert parsed["coauthors"] == profile.coauthors
    assert parsed["affiliations"] == profile.affiliations
    assert parsed["view"] == "cards" and parsed["order"] == profile.order


@pytest.mark.parametrize("name", PROFILES)
def test_markdown_round_trip_cards_field_by_field(name: str) -> None:
    profile = PROFILES[name]()
    parsed = parse_profile_markdown(render_profile_markdown(profile))["cards"]
    assert len(parsed) == len(profile.cards)
    for got, want in zip(parsed, profile.cards, strict=True):
        p = want.paper
        assert got["category_code"] == want.category_code
        assert got["date_label"] == want.date_label
        assert got["has_code"] == p.has_code
        assert got["code_url"] == (p.code_url if p.code_url.startswith("https://") else None)
        assert got["title"] == one_line(p.title)
        assert got["url"] == p.abs_url and (got["id"], got["version"]) == (p.id, p.version)
        assert got["authors_label"] == want.authors_label
        assert got["tags"] == want.affiliation_tags
        assert got["abstract"] == one_line(p.abstract)
        assert (got["citations"], got["novelty"], got["score"]) == (want.citations, want.novelty, want.score)


def test_cards_keep_the_callers_order_and_show_code_only_with_code() -> None:
    profile = zouhar()
    lines = render_profile_markdown(profile).splitlines()
    metas = [lines[i - 1] for i, line in enumerate(lines) if line.startswith("### [")]
    assert metas == ["CL · Dec 19, 2025 · [Code](https://github.com/sarapapi/hearing2translate)",
                     "CL · Jul 15, 2025", "CL · Jan 7", "CL · May 28"]
    assert lines[lines.index(metas[0]) + 2] == "Sara Papi, Javier Garcia Gilabert, Zachary Hopton et al. · eth, fbk"
    assert "**Citations** 1,220 · **Novelty** 71.5" in lines
    profile.cards.reverse()
    assert [c["id"] for c in parse_profile_markdown(render_profile_markdown(profile))["cards"]] == [
        "2605.28227", "2601.02933", "2507.09509", "2512.16378"]


def test_hard_titles_are_escaped_in_markdown() -> None:
    text = render_profile_markdown(odd_titles())
    assert "### [\\[De\\|Re\\]constructing VLMs' Reasoning in Counting](http://arxiv.org/abs/2510.19555v1)" in text
    assert "### [&lt;think&gt; So let's replace this phrase with insult... &lt;/think&gt; Lessons" in text
    assert "SAM$^{\\*}$: Task-Adaptive SAM" in text and "cp\\_measure: API-first" in text
    assert "Promises & Perils" in text  # a bare & is not a character reference: it stays
    # No raw `<` reaches Markdown outside the one-line HTML blocks the renderer writes itself.
    for line in text.splitlines():
        if not line.startswith(("<details><summary>Abstract</summary><p>", '<p class="abstract">')):
            assert "<" not in line
    cards = {c["id"]: c for c in parse_profile_markdown(text)["cards"]}
    assert cards["0704.0119"]["title"] == (
        "Quasi-quartet crystal electric field ground state in a tetragonal CeAg$_2$Ge$_2$ single crystal")
    assert cards["0704.0005"]["title"] == "From dyadic $\\Lambda_{\\alpha}$ to $\\Lambda_{\\alpha}$"
    assert "\n" not in cards["2510.19555"]["abstract"] and cards["2510.19555"]["abstract"].startswith("Vision-Language")
    assert cards["astro-ph/0601001"]["category_code"] == "astro-ph"


def test_adversarial_text_cannot_break_the_structure() -> None:
    text = render_profile_markdown(adversarial())
    lines = text.splitlines()
    headings = [line for line in lines if line.startswith("#")]
    assert headings[0] == "# \\# Ada \\| \\*Lovelace\\* \\\\"
    assert [h for h in headings if h.startswith("## ")] == [
        "## Figures", "## Citations per year", "## Categories", "## Co-authors", "## Affiliations",
        "## Papers (2, by citations)"]
    assert "[Code]" not in text and "javascript" not in text  # an unsafe link is shown as plain "Code"
    parsed = parse_profile_markdown(text)
    assert parsed["cards"][0]["has_code"] and parsed["cards"][0]["code_url"] is None
    assert [f["label"] for f in parsed["figures"]] == [
        "h-index", "Papers", "Citations", "Novelty", "Score", "weird | label", "nan"]
    assert parsed["figures"][5]["value"] == "text · with <tags>" and parsed["figures"][6]["value"] is None
    assert parsed["cards"][1]["authors_label"] == "- starts like a list · with a dot"


def test_parse_refuses_what_is_not_a_profile() -> None:
    with pytest.raises(InputError, match="profile markdown line 1: expected the '# <name>' heading"):
        parse_profile_markdown("Last update: 2026-07-02\n")
    with pytest.raises(InputError):
        parse_profile_markdown(render_listing(zouhar()))  # a listing alone has no header


def test_unknown_view_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown profile view 'grid'"):
        render_profile_markdown(zouhar(), view="grid")
    with pytest.raises(ValueError, match="unknown profile view"):
        render_profile_html(zouhar(), view="grid")


class Blocks(HTMLParser):
    """The outermost blocks of an HTML fragment as (tag, text) pairs, in order."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[tuple[str, str]] = []
        self.open: str | None = None
        self.depth = 0
        self.tags: set[str] = set()
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        self.tags.add(tag)
        if tag in ("br", "hr", "img"):
            return
        if self.open is None and tag in ("h1", "h2", "h3", "p", "details", "li", "tr"):
            self.open, self.depth = tag, 0
            self.blocks.append((tag, ""))
        elif tag == self.open:
            self.depth += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == self.open:
            if self.depth == 0:
                self.open = None
            else:
                self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            tag, text = self.blocks[-1]
            self.blocks[-1] = (tag, text + data)


@pytest.mark.parametrize("name", PROFILES)
def test_github_shows_the_original_text(name: str) -> None:
    """cmark-gfm (GitHub's parser) must show every title, people line and abstract exactly as given."""
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    profile = PROFILES[name]()
    md = render_profile_markdown(profile)
    # GitHub lets raw HTML through cmark and sanitises afterwards; `<details>` and `<p>` survive that.
    page = Blocks(cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE))
    assert "script" not in page.tags
    assert page.blocks[0] == ("h1", one_line(profile.name))
    titles = [text for tag, text in page.blocks if tag == "h3"]
    assert titles == [one_line(c.paper.title) for c in profile.cards]
    abstracts = [text for tag, text in page.blocks if tag == "details"]
    assert abstracts == ["Abstract" + one_line(c.paper.abstract) for c in profile.cards]
    for c in profile.cards:
        i = page.blocks.index(("h3", one_line(c.paper.title)))
        people = c.authors_label + (" · " + ", ".join(c.affiliation_tags) if c.affiliation_tags else "")
        assert page.blocks[i + 1] == ("p", people)
    listing = Blocks(cmarkgfm.github_flavored_markdown_to_html(
        render_listing(profile), options=Options.CMARK_OPT_UNSAFE))
    entries = [text for tag, text in listing.blocks if tag == "p" and text.startswith("[")]
    assert len(entries) == len(profile.cards)
    for text, c in zip(entries, listing_order(profile), strict=True):
        assert f"\nTitle: {one_line(c.paper.title)}\n" in text


# --------------------------------------------------------------------------------------------- listing


@pytest.mark.parametrize("name", PROFILES)
def test_listing_round_trip_newest_first(name: str) -> None:
    profile = PROFILES[name]()
    text = render_profile_markdown(profile, view="listing")
    parsed = parse_profile_markdown(text)
    assert parsed["view"] == "listing" and parsed["cards"] == []
    want = sorted((c.paper for c in profile.cards), key=lambda p: p.first_submitted, reverse=True)
    assert [e["id"] for e in parsed["listing"]] == [p.id for p in want]
    for n, (got, p) in enumerate(zip(parsed["listing"], want, strict=True), start=1):
        assert got["n"] == n and got["url"] == p.abs_url
        assert got["title"] == one_line(p.title)
        assert got["authors"] == ", ".join(p.author_names)
        assert got["comment"] == one_line(p.comment)
        assert got["abstract"] == one_line(p.abstract)
        assert got["created"] == p.first_submitted.date()
    assert text.endswith(render_listing(profile))


def test_listing_looks_like_arxiv() -> None:
    text = render_listing(odd_titles())
    lines = text.splitlines()
    assert lines[0] == "## arXiv listing (8, newest first)"
    i = lines.index("**\\[1\\]** [arXiv:2510.19555](http://arxiv.org/abs/2510.19555v1)\\")
    assert lines[i + 1] == "**Title:** \\[De\\|Re\\]constructing VLMs' Reasoning in Counting\\"
    assert lines[i + 2].startswith("**Authors:** Simone Alghisi, Gabriel Roccabruna, ")
    assert lines[i + 3] == "**Comments:** This work has been submitted to the IEEE for possible publication"
    assert lines[i + 5].startswith('<p class="abstract">Vision-Language Models')
    assert lines[i + 7] == "**Created:** 2025-10-23"
    assert "**Created:** 2006-01-02" in lines[-1]  # astro-ph/0601001 is the oldest
    no_comment = text.split("[arXiv:2509.08358]")[1].split("**Created:**")[0]
    assert "**Comments:**" not in no_comment


def test_listing_sorts_by_first_submission_not_by_card_order() -> None:
    profile = zouhar()
    assert [c.paper.id for c in listing_order(profile)] == ["2605.28227", "2601.02933", "2512.16378", "2507.09509"]
    profile.cards.reverse()
    assert [c.paper.id for c in listing_order(profile)] == ["2605.28227", "2601.02933", "2512.16378", "2507.09509"]


# --------------------------------------------------------------------------------------------- HTML


class Page(HTMLParser):
    """Start tags, and per card / listing entry: its classes' text and links."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.cards: list[dict] = []
        self.stack: list[tuple[str, str]] = []
        self.text: dict[str, str] = {}
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        self.tags.append(tag)
        cls = a.get("class") or ""
        if tag in ("li", "dt") and (cls == "card" or tag == "dt"):
            self.cards.append({"code": [], "h3": "", "title_href": None, "id": a.get("id")})
        if self.cards and tag in ("a", "span") and "code" in cls.split():
            self.cards[-1]["code"].append(a.get("href"))
        if self.cards and tag == "a" and self.stack and self.stack[-1][0] == "h3":
            self.cards[-1]["title_href"] = a.get("href")
        if tag not in ("meta", "br"):
            self.stack.append((tag, cls))

    def handle_endtag(self, tag: str) -> None:
        while self.stack and self.stack.pop()[0] != tag:
            pass

    def handle_data(self, data: str) -> None:
        if self.cards and any(t == "h3" for t, _ in self.stack):
            self.cards[-1]["h3"] += data
        for _, cls in self.stack:
            if cls:
                self.text[cls] = self.text.get(cls, "") + data


ALLOWED = {"html", "head", "meta", "title", "style", "body", "header", "h1", "h2", "h3", "p", "span", "b", "a",
           "time", "main", "section", "table", "thead", "tbody", "tr", "th", "td", "ol", "ul", "li", "details",
           "summary", "dl", "dt", "dd", "div"}


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("view", ["cards", "listing"])
def test_html_is_one_escaped_page(name: str, view: str) -> None:
    html = render_profile_html(PROFILES[name](), view=view)
    page = Page(html)
    assert set(page.tags) <= ALLOWED, set(page.tags) - ALLOWED
    assert page.tags.count("html") == 1 and "script" not in page.tags
    assert "http" not in html.split("<body>")[0]  # no external stylesheet or font


def test_html_script_title_stays_text() -> None:
    page = Page(render_profile_html(adversarial()))
    assert page.cards[0]["h3"] == "<script>alert(1)</script> & **bold** [x](y) trailing\\"
    assert page.cards[0]["code"] == [None]  # a badge without a javascript: link
    assert "Breaks </p></details> out? ## Not a heading | a | b | 1. no list \\\\| &amp;" in page.text["card"]
    assert "Jürgen <Schmidhuber>" in page.text["coauthors"]


def test_html_code_badge_only_for_papers_with_code() -> None:
    profile = zouhar()
    page = Page(render_profile_html(profile))
    assert [c["id"] for c in page.cards] == [f"paper-{c.paper.id}" for c in profile.cards]
    for got, want in zip(page.cards, profile.cards, strict=True):
        assert got["code"] == ([want.paper.code_url] if want.paper.has_code else [])
        assert got["title_href"] == want.paper.abs_url
        assert got["h3"] == one_line(want.paper.title)
    assert "71.5" in page.text["stats"] and "1,220" in page.text["stats"]
    assert page.text["figs"].split(" · ")[0] == "h-index 3"
    assert "Sara Papi, Javier Garcia Gilabert, Zachary Hopton et al. · eth, fbk" in page.text["authors"]


def test_html_all_none_header_and_listing_order() -> None:
    page = Page(render_profile_html(odd_titles(), view="listing"))
    assert page.text["figs"] == "h-index — · Papers — · Citations — · Novelty — · Score —"
    want = [p.id for p in sorted((PAPERS[i] for i in ODD), key=lambda p: p.first_submitted, reverse=True)]
    assert [c["id"] for c in page.cards] == [f"paper-{i}" for i in want]
    assert "Created: 2025-10-23" in page.text["field created"]
    assert "[De|Re]constructing" in page.text["title"]


# --------------------------------------------------------------------------------------------- JSON


@pytest.mark.parametrize("name", PROFILES)
def test_json_round_trip(name: str) -> None:
    profile = PROFILES[name]()
    data = profile_to_dict(profile)
    assert json.loads(json.dumps(data, allow_nan=False)) == data
    assert json.loads(render_profile_json(profile)) == data
    assert data["generated"] == profile.generated.isoformat()
    assert [f["label"] for f in data["figures"]] == [f.label for f in profile.figures]
    for got, want in zip(data["figures"], profile.figures, strict=True):
        assert set(got) == {"label", "value", "source", "text", "inputs"}
        assert isinstance(got["text"], str) and got["text"] != "None"
        value = want.value
        assert got["value"] == (None if isinstance(value, float) and math.isnan(value) else value)
        assert got["source"] == want.source
    for got, want in zip(data["cards"], profile.cards, strict=True):
        p = want.paper
        assert got["paper"]["id"] == p.id and got["paper"]["title"] == p.title
        assert got["paper"]["abstract"] == p.abstract and got["paper"]["authors"][0]["name"] == p.authors[0].name
        assert got["has_code"] == p.has_code and got["code_url"] == (p.code_url or None)
        assert (got["citations"], got["novelty"], got["score"]) == (want.citations, want.novelty, want.score)
        assert got["category_code"] == want.category_code and got["affiliation_tags"] == want.affiliation_tags


def test_json_values_of_the_full_profile() -> None:
    data = profile_to_dict(zouhar())
    assert data["header"]["h-index"]["value"] == 3 and data["header"]["Score"]["value"] is None
    assert data["header"]["Novelty"]["inputs"] == {"papers": 1, "as_of": "2026-07-02"}
    assert data["figures"][-1]["inputs"] == {"first_year": 2025, "window": [2025, 2026]}
    assert data["citations_per_year"] == [{"year": 2025, "citations": 1227}, {"year": 2026, "citations": 7}]
    assert data["categories"] == [{"category": "cs.CL", "share": 1.0}]
    assert data["coauthors"][0] == {"name": "Maike Züfle", "papers": 2}  # on 2512.16378 and 2605.28227
    assert data["affiliations"][0] == {"tag": "eth", "institution": "ETH Zürich"}
    assert data["cards"][0]["paper"]["published"] == "2025-12-19T00:00:00Z"
    assert data["openalex_id"] == "https://openalex.org/A5000000001" and data["orcid"] == "0000-0002-1825-0097"


# --------------------------------------------------------------------------------------------- templates


def test_templates_are_reusable_by_another_interface(tmp_path: Path) -> None:
    """A web page or an email extends base.html and imports the macros; its own files win by name."""
    from paperscope.render.profile_model import header_figures
    from paperscope.render.templates import environment

    (tmp_path / "page.html").write_text(
        '{% extends "base.html" %}{% from "macros.html" import figure_tiles, paper_card, listing_entry %}'
        "{% block title %}{{ who|t }}{% endblock %}"
        '{% block body %}{{ figure_tiles(tiles) }}<ol>{{ paper_card(card) }}</ol><dl>{{ listing_entry(1, card) }}</dl>'
        "{% endblock %}", encoding="utf-8")
    (tmp_path / "base.css").write_text("body{color:red}", encoding="utf-8")
    profile = zouhar()
    html = environment(tmp_path).get_template("page.html").render(
        who="<Zouhar>", tiles=header_figures(profile), card=profile.cards[0])
    page = Page(html)
    assert "<title>&lt;Zouhar&gt;</title>" in html and "<style>body{color:red}</style>" in html
    assert page.text["figs"].split(" · ")[0] == "h-index 3"
    assert page.cards[0]["code"] == [profile.cards[0].paper.code_url]
    assert page.cards[0]["h3"] == one_line(profile.cards[0].paper.title)
    assert [c["id"] for c in page.cards] == [f"paper-{profile.cards[0].paper.id}"] * 2
    # the package's own pages are unaffected by the other search path
    assert "body{color:red}" not in render_profile_html(profile)
