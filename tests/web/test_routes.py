"""Every page and API route in process (FastAPI TestClient): status, content, errors, access rules."""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from .conftest import HOSTILE_ID, TOKEN, busiest_author, open_library

BEARER = {"Authorization": f"Bearer {TOKEN}"}


def first_paper(lib: Any) -> str:
    return lib.store.conn.execute("SELECT arxiv_id FROM papers WHERE arxiv_id != ? ORDER BY pk LIMIT 1",
                                  (HOSTILE_ID,)).fetchone()[0]


def login(client: TestClient) -> str:
    r = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert r.status_code == 303 and "paperscope_session" in r.cookies
    client.cookies.set("paperscope_session", r.cookies["paperscope_session"])
    return client.app.state.guard.csrf_value  # type: ignore[attr-defined,no-any-return]


# ------------------------------------------------------------------------------------------------ pages
def test_pages_render(client: TestClient, library: Any) -> None:
    name = busiest_author(library)
    pid = first_paper(library)
    pages = {
        "/": "Reward Model",
        "/topic/reward-model": "Atom feed",
        "/topic/reward-model?order=novelty&code=no&since=2020-01-01&until=2030-01-01": "papers",
        "/topic/reward-model?order=score&category=cs.CL": "AI Score",
        f"/paper/{pid}": "BibTeX",
        f"/author/{quote(name)}": "Papers per year",
        f"/author/{quote(name)}?order=newest&view=listing": "arXiv:",
        f"/author/{quote(name)}?order=novelty": "Co-authors",
        "/search": "Search",
        "/search?q=model&category=cs.CL&code=no&order=date": "papers",
        "/search?q=reward+model&mode=semantic": "(semantic:",
        "/trends": "Map of the library",
        "/api/docs": "/api/search",
        "/login": "token",
    }
    for path, text in pages.items():
        r = client.get(path)
        assert r.status_code == 200, (path, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        assert text in r.text, (path, text)


def test_author_page_reads_the_ai_score_as_what_it_is(client: TestClient, library: Any) -> None:
    name = busiest_author(library)
    score = client.get(f"/api/authors/{quote(name)}").json()["header"]["Score"]
    n = score["inputs"]["papers"]
    assert isinstance(score["value"], int) and score["inputs"]["with_citations"] == 0  # the sample has no counts
    assert score["text"].startswith(f"AI Score {score['value']} — from {n} papers (0 with citations, {n} predicted)")
    page = client.get(f"/author/{quote(name)}").text
    assert f"AI Score {score['value']} — from {n} papers (0 with citations, {n} predicted)" in page


def test_topic_filters_and_orders_change_the_list(client: TestClient, library: Any) -> None:
    base = client.get("/api/topics/reward-model").json()["papers"]
    coded = client.get("/api/topics/reward-model?code=yes").json()
    assert base and coded["papers"] and all(p["id"] in coded["code"] for p in coded["papers"])
    assert len(coded["papers"]) < len(base)
    page = client.get("/api/topics/reward-model?order=score").json()
    by_score = [page["scores"].get(p["id"], -1) for p in page["papers"]]
    assert by_score == sorted(by_score, reverse=True) and len(set(by_score)) > 1
    dates = [p["updated"][:10] for p in base]
    cut = sorted(dates)[len(dates) // 2]
    later = client.get(f"/api/topics/reward-model?since={cut}").json()["papers"]
    assert later and all(p["updated"][:10] >= cut for p in later) and len(later) < len(base)
    # a span before the topic's newest papers: the store selects it (the page had looked only among the newest)
    oldest = min(dates)
    before = client.get(f"/api/topics/reward-model?until={oldest}").json()
    assert before["papers"] and all(p["updated"][:10] <= oldest for p in before["papers"])
    assert before["total"] >= len(before["papers"])
    html_page = client.get(f"/topic/reward-model?until={oldest}").text
    assert html_page.count('<article class="paper"') == len(before["papers"])
    assert "No papers" not in html_page


def test_feed_is_atom_of_the_topic(client: TestClient) -> None:
    r = client.get("/feeds/reward-model.xml")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/atom+xml")
    assert r.text.count("<entry>") == len(client.get("/api/topics/reward-model").json()["papers"])


def test_api_routes(client: TestClient, library: Any) -> None:
    name = busiest_author(library)
    pid = first_paper(library)
    assert client.get("/api/stats").json()["papers"] == library.store.count()
    topics = client.get("/api/topics").json()["topics"]
    assert [t["slug"] for t in topics] == ["reward-model", "hallucination", "diffusion-models", "llm-agents"]
    sections = client.get("/api/digest").json()["digest"]["sections"]
    assert [s["title"] for s in sections][:4] == [t["name"] for t in topics] and sections[0]["papers"]
    paper = client.get(f"/api/papers/{pid}").json()
    assert paper["paper"]["id"] == pid and paper["bibtex"].startswith("@") and len(paper["similar"]) == 8
    prof = client.get(f"/api/authors/{quote(name)}").json()
    assert prof["name"] == name and prof["cards"] and set(prof["header"]) >= {"h-index", "Papers"}
    found = client.get("/api/search?q=hallucination&limit=5").json()
    hits = found["hits"]
    assert 0 < len(hits) <= 5
    from paperscope.query import parse_query
    from paperscope.store.api import PaperQuery

    assert found["total"] == library.store.count_matching(PaperQuery(parse_query("hallucination"))) > 5
    assert all("allucinat" in (h["paper"]["title"] + h["paper"]["abstract"]).lower() for h in hits)
    sem = client.get("/api/search?q=reward+model&mode=semantic&limit=5").json()
    assert sem["semantic"] and len(sem["hits"]) == 5
    trends = client.get("/api/trends?weeks=12").json()
    assert len(trends["topics"]) == 4 and all(len(t["weeks"]) == 12 for t in trends["topics"])
    m = client.get("/api/trends/map?points=50").json()
    assert len(m["points"]) == 50 and all(0 <= p[1] <= 1 and 0 <= p[2] <= 1 for p in m["points"])
    nobody = client.get("/api/following").json()
    assert nobody["authors"] == [] and nobody["papers"] == [] and nobody["days"] == 30
    assert "You follow nobody yet" in client.get("/following").text
    spec = client.get("/api/openapi.json").json()
    assert {"/api/search", "/api/papers/{paper_id}", "/api/trends/map"} <= set(spec["paths"])


def test_unknown_ids_are_404(client: TestClient) -> None:
    for path in ("/paper/9999.99999", "/topic/no-such-topic", "/author/Nobody%20Atall", "/feeds/nope.xml",
                 "/no/such/page"):
        r = client.get(path)
        assert r.status_code == 404 and "text/html" in r.headers["content-type"], path
        assert "Not found" in r.text
    for path in ("/api/papers/9999.99999", "/api/topics/nope", "/api/authors/Nobody%20Atall", "/api/nothing"):
        r = client.get(path)
        assert r.status_code == 404 and r.json()["error"] == "not_found", path


def test_bad_parameters_are_400_with_the_reason(client: TestClient) -> None:
    r = client.get("/topic/reward-model?order=bogus")
    assert r.status_code == 400 and "order must be one of" in r.text
    r = client.get("/topic/reward-model?since=yesterday")
    assert r.status_code == 400 and "since must be a date" in r.text
    assert client.get("/api/search?q=x&mode=nope").status_code == 422


def test_search_says_how_many_match_and_shows_more(client: TestClient, library: Any) -> None:
    """The page showed "30 papers" for a query that matches hundreds: it says the total and links to more."""
    from paperscope.query import parse_query
    from paperscope.store.api import PaperQuery

    total = library.store.count_matching(PaperQuery(parse_query("model")))
    assert total > 60
    page = client.get("/search?q=model").text
    assert f"{total:,} papers match · the 30 most relevant shown" in page
    assert page.count('<article class="paper"') == 30
    more = re.search(r'<p class="more"><a href="([^"]+)">', page)
    assert more and "n=60" in more.group(1)
    page2 = client.get(more.group(1).replace("&amp;", "&")).text
    assert page2.count('<article class="paper"') == 60 and f"{total:,} papers match · the 60 most relevant" in page2
    first30 = re.findall(r'<article class="paper" data-id="([^"]+)"', page)
    assert re.findall(r'<article class="paper" data-id="([^"]+)"', page2)[:30] == first30
    few = client.get("/search?q=%22" + "reward%20model%22%20AND%20hallucination").text
    assert 0 < few.count('<article class="paper"') < 30
    assert "papers match" not in few and '<p class="more">' not in few  # all shown: no total, no link
    coded = library.store.count_matching(PaperQuery(parse_query("model"), has_code=True))
    filtered = client.get("/search?q=model&code=yes").text
    listed = re.findall(r'<article class="paper" data-id="([^"]+)"', filtered)
    assert listed and all(p.has_code for p in library.store.get_papers(listed))
    assert (f"{coded:,} papers match" in filtered) if coded > 30 else (f"{coded} papers" in filtered)
    assert client.get("/search?q=model&n=lots").status_code == 400


def test_author_page_lists_similar_authors(client: TestClient, library: Any) -> None:
    """An author page names the authors nearest in meaning, as `paperscope similar-authors` ranks them."""
    from paperscope.service.meaning import similar_authors

    name = busiest_author(library)
    want = [a.name for a in similar_authors(library, name, k=8).authors]
    assert len(want) == 8
    page = client.get(f"/author/{quote(name)}").text
    block = page.split('<figure class="similar-authors">')[1].split("</figure>")[0]
    assert re.findall(r'<li><a href="/author/[^"]+">([^<]+)</a>', block) == [html.escape(n) for n in want]
    api = client.get(f"/api/authors/{quote(name)}?similar=3").json()
    assert [a["name"] for a in api["similar_authors"]] == want[:3]
    assert "similar_authors" not in client.get(f"/api/authors/{quote(name)}?similar=0").json()


def test_for_you_page_learns_from_thumbs_up(client: TestClient, library: Any) -> None:
    """With no library file, the page says what to do; after a 👍 it lists papers like the rated one."""
    first = client.get("/recommend")
    assert first.status_code == 200 and "no paper rated up" in first.text and 'href="/recommend"' in first.text
    refused = client.get("/api/recommend")
    assert refused.status_code == 400 and "no paper rated up" in refused.text
    from paperscope.service.meaning import recommend
    from paperscope.service.people import author_profile

    pid = author_profile(library, busiest_author(library)).profile.cards[0].paper.id
    assert client.post(f"/api/papers/{pid}/rating", json={"rating": "up"}, headers=BEARER).status_code == 200
    page = client.get("/recommend").text
    listed = re.findall(r'<article class="paper" data-id="([^"]+)"', page)
    want = recommend(library, limit=30).recommendations
    assert listed and pid not in listed and listed == [r.paper.id for r in want]
    assert "the papers you rated up" in page
    assert page.count("like: ") == sum(1 for r in want if r.why.papers)
    api = client.get("/api/recommend?limit=30").json()
    assert [r["paper"]["id"] for r in api["recommendations"]] == listed


def test_paper_page_reads_the_ai_score_input_by_input(client: TestClient, library: Any) -> None:
    """The AI Score's inputs were a dump of the stored dicts ("{'text (words)': 13.54…"): now one row an input,
    its value and its points, which add up with the average paper's to the score."""
    from paperscope.service.papers import paper_detail

    pid = next(i for i, in library.store.conn.execute("SELECT arxiv_id FROM scores LIMIT 1"))
    d = paper_detail(library, pid)
    assert d.score is not None and d.score.base is not None and len(d.score.breakdown) >= 8
    total = d.score.base + sum(r.points or 0.0 for r in d.score.breakdown)
    assert abs(min(100.0, max(0.0, total)) - d.score.value) < 0.05
    page = client.get(f"/paper/{pid}").text
    table = page.split('<table class="inputs">')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td>([^<]*)</td><td>([^<]*)</td><td class=\"num\">([^<]*)</td></tr>", table)
    assert rows[0][0] == "an average paper" and [r[0] for r in rows[1:len(d.score.breakdown) + 1]] == \
        [html.escape(r.input) for r in d.score.breakdown]
    assert "{" not in table and "text (words)" in table


# ------------------------------------------------------------------------------------------------ not embedded
@pytest.fixture
def bare_client(bare_path: Any) -> Any:
    from paperscope.web import create_app

    lib = open_library(bare_path)
    with TestClient(create_app(lib, token=TOKEN, cache_seconds=0)) as c:
        yield c
    lib.close()


def test_a_library_not_embedded_says_what_to_run(bare_client: TestClient) -> None:
    r = bare_client.get("/search?q=model&mode=semantic")
    assert r.status_code == 409 and "no embeddings" in r.text and "paperscope embed" in r.text
    r = bare_client.get("/topic/reward-model?order=novelty")
    assert r.status_code == 200 and "ordered by date: novelty needs embeddings" in r.text
    r = bare_client.get("/trends")
    assert r.status_code == 200 and "The map needs embeddings" in r.text
    r = bare_client.get("/api/trends/map")
    assert r.status_code == 409 and r.json()["needs"] == "embed" and r.json()["command"] == "paperscope embed"
    r = bare_client.get(f"/paper/{HOSTILE_ID}")
    assert r.status_code == 200 and "no embeddings yet" in r.text
    assert bare_client.get("/").status_code == 200 and "not embedded yet" in bare_client.get("/").text
    someone = bare_client.get("/api/search?q=model&limit=1").json()["hits"][0]["paper"]["authors"][0]["name"]
    r = bare_client.get(f"/author/{quote(someone)}")
    block = r.text.split('<figure class="similar-authors">')[1].split("</figure>")[0]
    assert r.status_code == 200 and "paperscope embed" in block and "<li>" not in block


# ------------------------------------------------------------------------------------------------ safety
def test_every_response_carries_the_security_headers_and_no_inline_script(client: TestClient,
                                                                         library: Any) -> None:
    for path in ("/", f"/paper/{HOSTILE_ID}", "/search?q=attack", "/trends", "/api/stats", "/nope"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp and "default-src 'none'" in csp
        assert r.headers["x-content-type-options"] == "nosniff"
        if "html" in r.headers["content-type"]:
            scripts = re.findall(r"<script\b[^>]*>", r.text)
            assert scripts and all(" src=" in s for s in scripts), path
            assert not re.search(r"<[a-z]+[^>]*\son[a-z]+\s*=", r.text), path


def test_hostile_paper_text_is_escaped(client: TestClient) -> None:
    for path in (f"/paper/{HOSTILE_ID}", "/search?q=attack"):
        html = client.get(path).text
        assert "<script>window" not in html and "<img src=x" not in html and 'href="javascript:' not in html
        assert "&lt;script&gt;window.__pwned" in html and "&lt;img src=x onerror=" in html
    hit = client.get("/api/search?q=attack").json()["hits"][0]
    assert hit["paper"]["title"].startswith("Attack <script>")  # JSON carries the text as it is


def test_changes_need_the_token(client: TestClient, library: Any) -> None:
    url = f"/api/papers/{HOSTILE_ID}/rating"
    r = client.post(url, json={"rating": "up"})
    assert r.status_code == 403 and "token" in r.json()["message"]
    r = client.post(url, json={"rating": "up"}, headers={"Authorization": "Bearer wrong"})
    assert r.status_code == 403
    assert library.store.ratings() == {}
    r = client.post(url, json={"rating": "up"}, headers=BEARER)
    assert r.status_code == 200 and r.json()["rating"] == "up"
    assert library.store.ratings()[HOSTILE_ID] == "up"
    assert client.post(url, json={"rating": "sideways"}, headers=BEARER).status_code == 422
    assert client.post("/api/papers/9999.99999/rating", json={"rating": "up"}, headers=BEARER).status_code == 404
    r = client.post(url, json={"rating": "not_interested"}, headers=BEARER)
    assert HOSTILE_ID in library.store.not_interested()


def test_follow_through_the_api(client: TestClient, library: Any) -> None:
    name = busiest_author(library)
    url = f"/api/authors/{quote(name)}/follow"
    assert client.put(url).status_code == 403
    assert client.put(url, headers=BEARER).json()["followed"] is True
    assert [f["name"] for f in client.get("/api/following").json()["authors"]] == [name]
    # the page lists whom and their papers of the year before the library's newest paper (the hostile one)
    from paperscope.store.api import PaperQuery

    recent = library.store.search(PaperQuery(), order="date", limit=2)[1]  # the newest but the hostile one
    other = recent.author_names[0]
    assert client.put(f"/api/authors/{quote(other)}/follow", headers=BEARER).json()["followed"] is True
    page = client.get("/following?days=365").text
    assert f'href="/author/{quote(name)}"' in page and f'href="/author/{quote(other)}"' in page
    theirs = client.get("/api/following?days=365").json()["papers"]
    listed = re.findall(r'<article class="paper" data-id="([^"]+)"', page)
    assert recent.id in listed and listed == [r["paper"]["id"] for r in theirs]
    assert client.get("/following?days=lots").status_code == 400
    assert client.delete(f"/api/authors/{quote(other)}/follow", headers=BEARER).json()["followed"] is False
    assert client.delete(url).status_code == 403
    assert client.delete(url, headers=BEARER).json()["followed"] is False
    assert client.delete(url, headers=BEARER).status_code == 404  # not followed any more
    assert library.store.following() == []


def test_browser_forms_need_session_csrf_and_same_origin(client: TestClient, library: Any) -> None:
    url = f"/paper/{HOSTILE_ID}/rate"
    r = client.post(url, data={"rating": "down"}, follow_redirects=False)
    assert r.status_code == 403 and "log in" in r.text
    csrf = login(client)
    assert client.post(url, data={"rating": "down"}, follow_redirects=False).status_code == 403  # no CSRF value
    r = client.post(url, data={"rating": "down", "csrf": csrf}, headers={"Origin": "http://evil.example"},
                    follow_redirects=False)
    assert r.status_code == 403 and "another site" in r.text
    r = client.post(url, data={"rating": "down", "csrf": csrf, "next": "//evil.example/x"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/paper/{HOSTILE_ID}"
    assert library.store.ratings()[HOSTILE_ID] == "down"
    # a logged-in page carries the CSRF value; an anonymous one does not
    assert csrf in client.get(f"/paper/{HOSTILE_ID}").text
    client.cookies.clear()
    assert csrf not in client.get(f"/paper/{HOSTILE_ID}").text


def test_wrong_token_does_not_log_in(client: TestClient) -> None:
    r = client.post("/login", data={"token": "nope", "next": "/"}, follow_redirects=False)
    assert r.status_code == 403 and "paperscope_session" not in r.cookies


def test_without_a_token_nothing_can_change(library: Any) -> None:
    from paperscope.web import create_app

    c = TestClient(create_app(library, token=None, cache_seconds=0))
    r = c.post(f"/api/papers/{HOSTILE_ID}/rating", json={"rating": "up"}, headers=BEARER)
    assert r.status_code == 403 and "no token configured" in r.json()["message"]
    assert "Log in" not in c.get("/").text


def test_private_reads_need_the_token(library: Any) -> None:
    from paperscope.web import create_app

    c = TestClient(create_app(library, token=TOKEN, public_reads=False, cache_seconds=0))
    r = c.get("/", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert c.get("/api/stats").status_code == 401
    assert c.get("/api/stats", headers=BEARER).status_code == 200
    assert c.get("/static/app.css").status_code == 200 and c.get("/login").status_code == 200
    login(c)
    assert c.get("/").status_code == 200


def test_bind_beyond_localhost_needs_a_token() -> None:
    from paperscope.errors import ConfigError
    from paperscope.web.security import check_bind

    check_bind("127.0.0.1", None)
    check_bind("0.0.0.0", "t0ken")
    with pytest.raises(ConfigError, match="web_token"):
        check_bind("0.0.0.0", None)


def test_a_read_only_library_serves_and_refuses_changes(library_path: Any) -> None:
    from paperscope.web import create_app

    lib = open_library(library_path, readonly=True)
    try:
        c = TestClient(create_app(lib, token=TOKEN, cache_seconds=0))
        assert c.get("/").status_code == 200 and c.get(f"/paper/{HOSTILE_ID}").status_code == 200
        r = c.post(f"/api/papers/{HOSTILE_ID}/rating", json={"rating": "up"}, headers=BEARER)
        assert r.status_code == 400 and "read-only" in r.json()["message"]
    finally:
        lib.close()


def test_pages_are_cached_until_a_change(library: Any) -> None:
    from paperscope.web import create_app

    c = TestClient(create_app(library, token=TOKEN, cache_seconds=60))
    name = busiest_author(library)
    assert c.get("/api/following").json()["authors"] == []
    library.store.follow("some-one", "Some One", library.now())  # a change behind the server's back
    assert c.get("/api/following").json()["authors"] == []  # still the cached answer
    c.put(f"/api/authors/{quote(name)}/follow", headers=BEARER)  # a change through it clears the cache
    assert {f["name"] for f in c.get("/api/following").json()["authors"]} == {"Some One", name}


def test_topic_page_says_how_many_and_shows_more(tmp_path: Any) -> None:
    """A topic page names the papers it leaves out (its digest keeps max_papers) and lists more on request."""
    from datetime import datetime, timedelta, timezone

    from paperscope import Library
    from paperscope.models import Author, Paper, Version
    from paperscope.web import create_app

    (tmp_path / "config.toml").write_text('[[topics]]\nname = "Graphs"\nquery = "graph"\nmax_papers = 7\n',
                                          encoding="utf-8")
    t0 = datetime(2026, 1, 5, tzinfo=timezone.utc)
    papers = [Paper(id=f"2601.{i:05d}", version=1, title=f"Graph paper {i}", abstract="On graphs.",
                    updated=t0 + timedelta(days=i), published=t0 + timedelta(days=i), authors=[Author("A B")],
                    categories=["cs.LG"], primary_category="cs.LG", versions=[Version(1, t0 + timedelta(days=i))])
              for i in range(20)]
    with Library.open(tmp_path / "lib.db", tmp_path / "config.toml") as lib:
        lib.store.upsert_papers(papers)
        with TestClient(create_app(lib, token=TOKEN, cache_seconds=0)) as client:
            first = client.get("/topic/graphs").text
            assert "the 7 newest of 20 papers" in first
            ids1 = re.findall(r'<article class="paper" data-id="([^"]+)"', first)
            assert ids1 == [f"2601.{i:05d}" for i in range(19, 12, -1)]
            more = re.search(r'<p class="more"><a href="([^"]+)">', first)
            assert more and "n=14" in more.group(1)
            second = client.get(more.group(1).replace("&amp;", "&")).text
            ids2 = re.findall(r'<article class="paper" data-id="([^"]+)"', second)
            assert len(ids2) == 14 and ids2[:7] == ids1
            last = client.get("/topic/graphs?n=21").text
            assert len(re.findall(r'<article class="paper"', last)) == 20 and '<p class="more">' not in last
            assert client.get("/topic/graphs?n=many").status_code == 400
