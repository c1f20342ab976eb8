"""Output safety (issue #10): hostile text in every field and in ids, through every renderer.

Each payload goes into every text field of a paper (title, abstract, comment, author names, affiliations,
categories, journal ref, DOI, code link, ...) and into its id, then into a digest and an author profile, rendered
to Markdown (then to HTML by markdown-it-py and by cmark-gfm with raw HTML let through, as GitHub renders before
it sanitises), HTML, Atom and JSON. Checked: nothing that can execute survives (no script, no event handler, no
link other than http(s), no element the renderer did not write), the Markdown tables keep one row per paper and
four cells per row, every format parses back to the same values, and headless Chromium loads each HTML page
without running a payload (no dialog, `window.__pwned` unset, no console error, no request).
"""

from __future__ import annotations

import dataclasses
import json
import re
import shutil
from datetime import UTC, date, datetime

import pytest
from lxml import etree
from lxml import html as lxml_html

from paperscope.models import Author, AuthorProfile, Figure, Paper, PaperCard, Topic
from paperscope.render import Digest, DigestSection, parse_markdown, render_atom, section_slugs
from paperscope.render.jsonout import paper_from_dict
from paperscope.render.model import abs_url, clean_text, safe_url
from paperscope.render.profile import parse_profile_markdown, profile_to_dict
from paperscope.render.registry import render
from paperscope.render.templates import environment

PWN = "window.__pwned=1;alert(1)"
PAYLOADS = [
    f"<script>{PWN}</script>",
    f"<img src=x onerror=\"{PWN}\">",
    f"<svg onload={PWN}>",
    f"<details open ontoggle=\"{PWN}\">x</details>",
    f"<iframe srcdoc=\"<script>parent.__pwned=1</script>\"></iframe>",
    f"<a href=\"javascript:{PWN}\">click</a>",
    f"javascript:{PWN}",
    f" JaVaScRiPt:{PWN}",
    f"[click](javascript:{PWN})",
    f"![x](javascript:{PWN})",
    f"<javascript:{PWN}>",
    f"\" onmouseover=\"{PWN}\" x=\"",
    f"' onfocus='{PWN}' autofocus '",
    "&lt;script&gt;window.__pwned=1&lt;/script&gt;",
    "| a | b |\n| --- | --- |\n| c | d |",
    "a)b](c)d",
    "line one\n\nline two\r\n# heading\n- item\n1. item",
    "```\ncode block\n``` and `inline|code`",
    "]]> <![CDATA[ x ]]> <!-- comment --> -->",
    "$\\frac{a}{b}$ \\\\ \\|x\\| \\[ \\] \\",
    "}} @misc{evil, title={x\\",
    "NUL\x00here \x1b[31m bell\x07 \x0c\x0b",
    "<style>body{background:url(javascript:alert(1))}</style>",
    "https://example.org/a)b(c <x> \"q\" 'q' `b` |p|",
    "A" * 20_000 + f"<script>{PWN}</script>",
]
WHEN = datetime(2026, 8, 20, 17, 2, 5, tzinfo=UTC)
# Elements the renderers write themselves (and cmark/markdown-it make of Markdown): anything else came from a payload.
ALLOWED_TAGS = {
    "html", "head", "meta", "title", "style", "body", "header", "nav", "main", "section", "h1", "h2", "h3", "p",
    "span", "b", "a", "time", "ol", "ul", "li", "details", "summary", "table", "thead", "tbody", "tr", "th", "td",
    "dl", "dt", "dd", "div", "strong", "em", "code", "br", "del", "wbr",
}


def hostile_paper(n: int, payload: str, *, hostile_id: bool = True) -> Paper:
    """A paper with `payload` in every field; its id holds the payload too (still unique by its prefix)."""
    return Paper(
        id=f"2608.{n:05d}{payload}" if hostile_id else f"2608.{n:05d}",
        title=f"T{n} {payload}",
        abstract=f"Abstract {payload} end",
        updated=WHEN,
        version=2,
        authors=[Author(f"Ada {payload}", [f"Inst {payload}"]), Author(payload or "x")],
        comment=f"comment {payload}",
        journal_ref=payload,
        doi=payload,
        license=payload,
        report_no=payload,
        submitter=payload,
        primary_category=payload,
        categories=[payload, "cs.CL"],
        published=WHEN,
        code_url=payload,
    )


def hostile_digest() -> Digest:
    papers = [hostile_paper(n, p) for n, p in enumerate(PAYLOADS)]
    sections = [
        DigestSection(f"S {p}", [paper], topic=Topic(p or "t", p), labels={paper.id: p}, note=p if n % 2 else "")
        for n, (p, paper) in enumerate(zip(PAYLOADS, papers, strict=True))
    ]
    sections.append(DigestSection("All", papers, labels={p.id: PAYLOADS[i] for i, p in enumerate(papers)}))
    sections.append(DigestSection("Empty", [], note=PAYLOADS[0]))
    return Digest(date(2026, 8, 21), sections, title=f"Daily {PAYLOADS[1]}")


def hostile_profile() -> AuthorProfile:
    cards = [
        PaperCard(dataclasses.replace(hostile_paper(n, p), code_url=p if n % 2 else "https://github.com/a/b"),
                  category_code=p, date_label=p, authors_label=f"A, B, C et al. {p}", affiliation_tags=[p, "eth"],
                  citations=n, novelty=50.5, score=None)
        for n, p in enumerate(PAYLOADS)
    ]
    figs = [Figure(label, p, p) for label, p in zip(("h-index", "Papers", "Citations", "Novelty", "Score"),
                                                   PAYLOADS, strict=False)]
    return AuthorProfile(
        name=f"Ada {PAYLOADS[0]}", key="ada", generated=date(2026, 7, 2), h_index=figs[0], papers=figs[1],
        citations=figs[2], novelty=figs[3], score=figs[4], names=list(PAYLOADS[:6]),
        openalex_id=f"https://openalex.org/A1{PAYLOADS[5]}", orcid=PAYLOADS[6],
        figures=figs + [Figure(p, p, p) for p in PAYLOADS], citations_per_year={2025: 3, 2026: 1},
        categories=[(p, 0.5) for p in PAYLOADS[:4]], coauthors=[(p, 2) for p in PAYLOADS],
        affiliations=[(p, p) for p in PAYLOADS], cards=cards, order=PAYLOADS[2],
    )


DIGEST = hostile_digest()
PROFILE = hostile_profile()
N_ROWS = sum(len(s.papers) for s in DIGEST.sections)


# --------------------------------------------------------------------------------------------- checks


def assert_inert(html: str, where: str) -> lxml_html.HtmlElement:
    """No element, attribute or link in `html` that a payload could have made."""
    root = lxml_html.document_fromstring(html)
    for el in root.iter():
        if not isinstance(el.tag, str):  # comments, processing instructions
            raise AssertionError(f"{where}: a comment or PI reached the page: {etree.tostring(el)[:80]!r}")
        assert el.tag in ALLOWED_TAGS, f"{where}: <{el.tag}> from a payload"
        for name, value in el.attrib.items():
            assert not name.lower().startswith("on"), f"{where}: event handler {name}={value[:60]!r}"
            assert name in {"href", "id", "class", "title", "datetime", "lang", "charset", "name", "content",
                            "style", "align", "open"}, f"{where}: attribute {name} on <{el.tag}>"
        if el.tag == "style":
            assert "javascript" not in (el.text or "").lower(), where
        if "style" in el.attrib:
            assert re.fullmatch(r"width:\d+(\.\d)?%|text-align: ?(left|right|center);?", el.attrib["style"]), f"{where}: style {el.attrib['style']!r}"
        href = el.attrib.get("href")
        if href is not None:
            assert re.match(r"^(https?://|#)", href), f"{where}: link {href[:80]!r}"
    return root


def unescaped_pipes(row: str) -> int:
    return sum(1 for m in re.finditer(r"(\\*)\|", row) if len(m.group(1)) % 2 == 0)


def markdown_to_html(md: str) -> dict[str, str]:
    """The Markdown as GitHub would show it before sanitising (raw HTML on), by two parsers."""
    markdown_it = pytest.importorskip("markdown_it")
    cmarkgfm = pytest.importorskip("cmarkgfm")
    from cmarkgfm.cmark import Options

    return {
        "markdown-it": markdown_it.MarkdownIt("commonmark", {"html": True}).enable("table").render(md),
        "cmark-gfm": cmarkgfm.github_flavored_markdown_to_html(md, options=Options.CMARK_OPT_UNSAFE),
    }


# --------------------------------------------------------------------------------------------- digest


def test_markdown_table_stays_whole_and_round_trips() -> None:
    md = render("digest", "markdown", DIGEST)
    rows = [line for line in md.splitlines() if line.startswith("| **[")]
    assert len(rows) == N_ROWS
    assert all(unescaped_pipes(r) == 5 for r in rows)
    assert "\x00" not in md and "<script" not in md and "<img" not in md
    parsed = parse_markdown(md)
    assert [s.title for s in parsed.sections] == [clean_text(s.title) for s in DIGEST.sections]
    for got, section in zip(parsed.sections, DIGEST.sections, strict=True):
        assert [r["id"] for r in got.rows] == [p.id for p in section.papers]  # ids exactly, NUL and all
        for row, paper in zip(got.rows, section.papers, strict=True):
            assert row["title"] == clean_text(paper.title)
            assert row["abstract"] == clean_text(paper.abstract)
            assert row["comment"] == clean_text(paper.comment)
            assert row["label"] == clean_text(section.labels.get(paper.id, ""))
            assert row["url"] == abs_url(paper) and row["version"] == paper.version


@pytest.mark.parametrize("parser", ["markdown-it", "cmark-gfm"])
def test_markdown_as_github_renders_it_is_inert_with_whole_tables(parser: str) -> None:
    html = markdown_to_html(render("digest", "markdown", DIGEST))[parser]
    root = assert_inert(html, parser)
    tables = root.findall(".//table")
    listed = [s for s in DIGEST.sections if s.papers]
    assert len(tables) == len(listed)
    for table, section in zip(tables, listed, strict=True):
        rows = table.findall("./tbody/tr")
        assert len(rows) == len(section.papers)
        for tr, paper in zip(rows, section.papers, strict=True):
            cells = tr.findall("./td")
            assert len(cells) == 4
            links = cells[0].findall(".//a")
            # the title links to arXiv; GFM's autolinker may also link an http(s) URL written in the title
            assert links[0].get("href") == abs_url(paper)
            assert all(a.get("href").startswith(("http://", "https://")) for a in links[1:])
            assert links[0].text_content() == clean_text(paper.title)
            assert cells[1].text_content() == "2026-08-20"
            assert cells[2].find("./details/summary").text == "Show"
    # nowhere a link was made from text
    assert not [a for a in root.iter("a") if not a.get("href", "").startswith(("http://arxiv.org/abs/", "https://"))]


def test_html_digest_is_inert_and_keeps_every_paper() -> None:
    html = render("digest", "html", DIGEST)
    etree.fromstring(html.split("\n", 1)[1].encode())  # still well-formed XML
    root = assert_inert(html, "digest.html")
    items = root.findall(".//li[@class='paper']")
    assert len(items) == N_ROWS
    papers = [p for s in DIGEST.sections for p in s.papers]
    for li, paper in zip(items, papers, strict=True):
        assert li.find("./h3/a").get("href") == abs_url(paper)
        assert li.find("./h3/a").text_content() == clean_text(paper.title)
        # a code link only when it is http(s): the javascript: payloads are plain text
        code = li.findall(".//*[@class='badge code']")
        assert len(code) == 1
        if not re.match(r"^https?://", clean_text(paper.code_url), re.I):
            assert code[0].tag == "span"
    assert [s.get("id") for s in root.findall(".//main/section")] == section_slugs(DIGEST)
    # slugs name feed files: ASCII, short enough for any file system, unique
    assert all(re.fullmatch(r"[a-z0-9-]{1,90}", slug) for slug in section_slugs(DIGEST))
    assert len(set(section_slugs(DIGEST))) == len(DIGEST.sections)


def test_atom_feeds_parse_back_with_the_same_text() -> None:
    slugs = section_slugs(DIGEST)
    ns = {"a": "http://www.w3.org/2005/Atom", "x": "http://arxiv.org/schemas/atom"}
    ids = []
    for section, slug in zip(DIGEST.sections, slugs, strict=True):
        feed = etree.fromstring(render_atom(section, DIGEST).encode())
        ids.append(feed.findtext("a:id", namespaces=ns))
        assert ids[-1] == f"urn:paperscope:topic:{slug}"
        assert {el.tag for el in feed.iter() if isinstance(el.tag, str)} <= {
            f"{{{ns['a']}}}{t}" for t in ("feed", "id", "title", "subtitle", "updated", "author", "name",
                                          "generator", "entry", "published", "summary", "link", "category")
        } | {f"{{{ns['x']}}}comment", f"{{{ns['x']}}}primary_category"}
        entries = feed.findall("a:entry", ns)
        assert len(entries) == len(section.papers)
        for entry, paper in zip(entries, section.papers, strict=True):
            assert entry.findtext("a:id", namespaces=ns) == abs_url(paper)
            assert entry.findtext("a:title", namespaces=ns) == clean_text(paper.title)
            assert entry.findtext("a:summary", namespaces=ns) == clean_text(paper.abstract)
            assert entry.findtext("x:comment", namespaces=ns) == clean_text(paper.comment)
            assert [a.findtext("a:name", namespaces=ns) for a in entry.findall("a:author", ns)] == [
                clean_text(n) for n in paper.author_names]
            assert all(link.get("href").startswith("http://arxiv.org/") for link in entry.findall("a:link", ns))
    # one feed per section, each id from that section's unique slug; the registry writes the same feeds
    assert len(set(ids)) == len(ids) == len(DIGEST.sections)
    every = render("digest", "atom", DIGEST).split("<?xml")[1:]
    assert [etree.fromstring(("<?xml" + f).encode()).findtext("a:id", namespaces=ns) for f in every] == ids


def test_json_keeps_every_field_exactly() -> None:
    data = json.loads(render("digest", "json", DIGEST))
    assert data["title"] == DIGEST.title
    for got, section in zip(data["sections"], DIGEST.sections, strict=True):
        assert got["title"] == section.title and got["note"] == section.note
        assert [paper_from_dict(p) for p in got["papers"]] == section.papers  # NUL, newlines, markup: as given


# --------------------------------------------------------------------------------------------- profile


@pytest.mark.parametrize("view", ["cards", "listing"])
def test_profile_html_is_inert(view: str) -> None:
    root = assert_inert(render("profile", "html", PROFILE, view=view), f"profile {view}")
    assert len(root.findall(".//li[@class='card']" if view == "cards" else ".//dt")) == len(PROFILE.cards)
    assert root.find(".//h1").text_content() == clean_text(PROFILE.name)
    if view == "cards":
        badges = root.findall(".//*[@class='badge code']")
        assert len(badges) == len(PROFILE.cards)
        assert all(b.tag == "span" or b.get("href").startswith("https://") for b in badges)


@pytest.mark.parametrize("view", ["cards", "listing"])
def test_profile_markdown_round_trips_and_renders_inert(view: str) -> None:
    md = render("profile", "markdown", PROFILE, view=view)
    assert "<script" not in md and "\x00" not in md
    # the word may be shown, never linked: no unescaped "](javascript:" outside the one-line HTML blocks (where
    # Markdown is not read; the rendered pages below check that)
    markdown_lines = "\n".join(line for line in md.splitlines() if not line.startswith(("<details>", "<p ")))
    assert not re.search(r"(?:^|[^\\])(?:\\\\)*\]\(\s*javascript:", markdown_lines, re.I | re.M)
    parsed = parse_profile_markdown(md)
    assert parsed["name"] == clean_text(PROFILE.name)
    assert parsed["coauthors"] == [(clean_text(n), k) for n, k in PROFILE.coauthors]
    assert parsed["affiliations"] == [(clean_text(t), clean_text(i)) for t, i in PROFILE.affiliations]
    if view == "cards":
        assert [c["id"] for c in parsed["cards"]] == [c.paper.id for c in PROFILE.cards]
        for got, card in zip(parsed["cards"], PROFILE.cards, strict=True):
            assert got["title"] == clean_text(card.paper.title)
            assert got["abstract"] == clean_text(card.paper.abstract)
            assert got["tags"] == [clean_text(t) for t in card.affiliation_tags]
            assert got["code_url"] == safe_url(card.paper.code_url)  # http(s) only, percent-encoded
            assert got["code_url"] is None or re.fullmatch(r"https?://[^\s()<>|\[\]`\"']+", got["code_url"])
    else:
        assert len(parsed["listing"]) == len(PROFILE.cards)
    for parser, html in markdown_to_html(md).items():
        root = assert_inert(html, f"{parser} profile {view}")
        for table in root.findall(".//table"):
            widths = {len(tr.findall("./td")) for tr in table.findall("./tbody/tr")}
            heads = len(table.findall("./thead/tr/th"))
            assert widths <= {heads}, (parser, widths, heads)  # no row split or widened by a payload


def test_profile_json_keeps_every_field_exactly() -> None:
    data = json.loads(render("profile", "json", PROFILE))
    assert data == profile_to_dict(PROFILE)
    assert data["name"] == PROFILE.name
    assert [c["paper"]["id"] for c in data["cards"]] == [c.paper.id for c in PROFILE.cards]
    assert [c["code_url"] for c in data["cards"]] == [c.paper.code_url for c in PROFILE.cards]


# --------------------------------------------------------------------------------------------- citations


def _unescaped_braces(text: str) -> list[str]:
    return [m.group(2) for m in re.finditer(r"(\\*)([{}])", text) if len(m.group(1)) % 2 == 0]


def test_bibtex_and_ris_entries_stay_whole() -> None:
    from paperscope.render.bibtex import paper_bibtex, paper_ris

    for n, payload in enumerate(PAYLOADS):
        paper = hostile_paper(n, payload)
        bib = paper_bibtex(paper)
        lines = bib.splitlines()
        assert lines[0].startswith(("@misc{", "@article{")) and lines[-1] == "}" and "\x00" not in bib
        # every field on its own line, its braces balanced: nothing ends the entry early or opens a new one
        for line in lines[1:-1]:
            assert re.match(r"^  [A-Za-z]+ = \{.*\},?$", line), line[:80]
        depth = 0
        for brace in _unescaped_braces(bib):
            depth += 1 if brace == "{" else -1
            assert depth >= 0, payload[:40]
        assert depth == 0 and bib.count("\n@") == 0
        ris = paper_ris(paper).splitlines()
        assert ris[0] == "TY  - ELEC" and ris[-1] == "ER  - "
        assert all(re.match(r"^[A-Z][A-Z0-9]  - ", line) for line in ris), payload[:40]


# --------------------------------------------------------------------------------------------- templates


def test_every_template_autoescapes_and_drops_controls(tmp_path) -> None:
    (tmp_path / "mine.txt").write_text("{{ x }}|{{ x|t }}", encoding="utf-8")
    out = environment(tmp_path).get_template("mine.txt").render(x="<b>\x00\n</b>")
    assert out == "&lt;b&gt;\n&lt;/b&gt;|&lt;b&gt; &lt;/b&gt;"


def test_long_words_get_break_opportunities_in_html() -> None:
    # Chromium took ~20 s to lay out one hostile page of 20,000-character words in a real font; <wbr /> fixes it.
    html = render("digest", "html", DIGEST)
    assert re.search(r"(A{50}<wbr />){10}", html)
    root = lxml_html.document_fromstring(html)
    runs = [len(w) for el in root.iter() if el.tag != "style" for text in (el.text, el.tail) if text for w in text.split()]
    assert max(runs) <= 100
    titles = [el.text_content() for el in root.findall(".//li[@class='paper']/h3/a")]
    assert clean_text(hostile_paper(len(PAYLOADS) - 1, PAYLOADS[-1]).title) in titles  # the text itself is unchanged


# --------------------------------------------------------------------------------------------- Chromium


def pages() -> dict[str, str]:
    out = {
        "digest.html": render("digest", "html", DIGEST),
        "profile cards": render("profile", "html", PROFILE, view="cards"),
        "profile listing": render("profile", "html", PROFILE, view="listing"),
    }
    for parser, html in markdown_to_html(render("digest", "markdown", DIGEST)).items():
        out[f"digest.md via {parser}"] = html
    for view in ("cards", "listing"):
        for parser, html in markdown_to_html(render("profile", "markdown", PROFILE, view=view)).items():
            out[f"profile {view}.md via {parser}"] = html
    out["e-mail HTML part"] = email_html()
    return out


def email_html() -> str:
    """The HTML part of the digest e-mail, with the payloads as titles, abstracts, TL;DRs and the notice."""
    from datetime import date

    from paperscope.delivery.base import DigestMessage
    from paperscope.delivery.email import build_message

    ids = [p.id for s in DIGEST.sections for p in s.papers]
    message = DigestMessage(DIGEST, date(2026, 11, 30), to="ada@example.org", name=PAYLOADS[0],
                            tldr={i: PAYLOADS[n % len(PAYLOADS)] for n, i in enumerate(ids)}, notice=PAYLOADS[1],
                            digest_url="javascript:alert(1)")
    msg = build_message(message, "digest@example.org", max_bytes=10_000_000)
    html = next(part for part in msg.walk() if part.get_content_type() == "text/html")
    return str(html.get_content())


def test_email_html_keeps_payloads_as_text() -> None:
    html = email_html()
    root = lxml_html.document_fromstring(html)
    assert not root.xpath("//script") and not root.xpath("//@*[starts-with(name(), 'on')]")
    assert not [u for u in root.xpath("//@href | //@src") if not re.match(r"^(https?:|mailto:|#)", u)]


CHROMIUM = "/usr/bin/chromium"


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is absent (apt-get install -y chromium): the in-browser check cannot run")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


def load(browser, html: str) -> dict:
    """Load `html` in a fresh page with scripts on and the network cut; report what ran and what it asked for."""
    page = browser.new_page()
    seen: dict = {"dialogs": [], "errors": [], "requests": []}
    page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
    page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: seen["errors"].append(str(e)))
    page.route("**/*", lambda route: (seen["requests"].append(route.request.url), route.abort()))
    page.set_content(html, wait_until="load")
    # open every <details> (ontoggle) and hover/focus every element a handler could sit on
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    page.wait_for_timeout(100)
    seen["pwned"] = page.evaluate("window.__pwned === undefined ? null : window.__pwned")
    seen["js_links"] = page.evaluate(
        "[...document.querySelectorAll('[href],[src],[action],[formaction]')]"
        ".map(e => e.href || e.src || '').filter(u => !/^(https?:|about:blank#)/.test(u))")
    seen["scripts"] = page.evaluate("document.scripts.length")
    page.close()
    return seen


def test_chromium_runs_no_payload(browser) -> None:
    for name, html in pages().items():
        seen = load(browser, html)
        assert seen == {"dialogs": [], "errors": [], "requests": [], "pwned": None, "js_links": [], "scripts": 0}, name


def test_chromium_check_catches_a_live_payload(browser) -> None:
    """The check above can fail: the same payloads written unescaped do run."""
    raw = "<!DOCTYPE html><html><body>" + "".join(PAYLOADS[:6]) + "</body></html>"
    seen = load(browser, raw)
    assert seen["pwned"] == 1 and seen["dialogs"] and seen["scripts"] >= 1
