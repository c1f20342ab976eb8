"""The HTML pages: each route parses its parameters, makes one service call and renders one template."""

from __future__ import annotations

from datetime import date
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.requests import Request

from paperscope.errors import InputError, NotFound, NotReady
from paperscope.service import digest, meaning, papers, people, trends
from paperscope.web.security import SESSION_COOKIE
from paperscope.web.views import Views, topic_feed, topic_for_slug

PAGE = 30  # search results a page shows, and how many more each "more" link adds
MAX_SHOWN = 300
MAX_TOPIC_SHOWN = 1000  # a topic page lists at most this many of its newest papers

router = APIRouter()

ORDERS = ("date", "novelty", "score", "fit")
AUTHOR_ORDERS = ("citations", "newest", "novelty")


def _views(request: Request) -> Views:
    return request.app.state.views  # type: ignore[no-any-return]


def parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise InputError(f"{name} must be a date like 2026-11-20, got {value!r}") from e


def parse_code(value: str | None) -> bool | None:
    return {"yes": True, "no": False}.get(value or "")


def parse_count(value: str, name: str, what: str) -> int | None:
    """A whole number from the query string ('' for none); anything else is a 400 naming the parameter."""
    if not value:
        return None
    if not value.isdigit():
        raise InputError(f"{name} must be a number of {what}, not {value!r}")
    return int(value)


def choice(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InputError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def local_next(value: str | None, default: str = "/") -> str:
    """Only a path on this server may be the place to go back to (no //host, no scheme)."""
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return default


@router.get("/", include_in_schema=False)
def home(request: Request) -> Response:
    v = _views(request)
    try:
        result = digest.build_digest(v.library)
    except NotFound as e:
        if e.kind != "topics":
            raise
        result = None
    return v.page(request, "home.html", title="paperscope", result=result,
                  embedded=bool(v.library.store.active_model()), count=v.library.store.count())


@router.get("/topic/{slug}", include_in_schema=False)
def topic(request: Request, slug: str, order: str = "date", category: str = "", code: str = "",
          since: str = "", until: str = "", n: str = "") -> Response:
    v = _views(request)
    asked_n = parse_count(n, "n", "papers")
    name = topic_for_slug(v.library, slug)
    result = digest.topic_page(v.library, name, order=choice(order, ORDERS, "order"),
                               category=category or None, has_code=parse_code(code),
                               since=parse_day(since, "since"), until=parse_day(until, "until"), count=True,
                               limit=min(asked_n, MAX_TOPIC_SHOWN) if asked_n else None)
    f = {"order": order, "category": category, "code": code, "since": since, "until": until}
    shown, step = len(result.papers), result.topic.max_papers
    more = None
    if result.total is not None and result.total > shown and shown < MAX_TOPIC_SHOWN:
        asked = {k: x for k, x in f.items() if x}
        more = f"/topic/{slug}?" + urlencode({**asked, "n": min(shown + step, MAX_TOPIC_SHOWN)})
    return v.page(request, "topic.html", title=result.topic.name, result=result, slug=slug, f=f, more=more)


@router.get("/paper/{paper_id:path}", include_in_schema=False)
def paper(request: Request, paper_id: str) -> Response:
    v = _views(request)
    d = papers.paper_detail(v.library, paper_id, similar=8)
    return v.page(request, "paper.html", title=d.paper.title, d=d)


@router.get("/author/{name}", include_in_schema=False)
def author(request: Request, name: str, order: str = "citations", view: str = "cards", id: str = "") -> Response:
    v = _views(request)
    result = people.author_profile(v.library, name, author_id=id or None,
                                   order=choice(order, AUTHOR_ORDERS, "order"), similar=8)
    return v.page(request, "author.html", title=result.profile.name, p=result.profile, name=name,
                  view=choice(view, ("cards", "listing"), "view"), order=order, similar=result.similar,
                  embedded=bool(v.library.store.active_model()))


@router.get("/search", include_in_schema=False)
def search(request: Request, q: str = "", mode: str = "text", category: str = "", code: str = "",
           since: str = "", until: str = "", order: str = "relevance", n: str = "") -> Response:
    v = _views(request)
    f = {"q": q, "mode": mode, "category": category, "code": code, "since": since, "until": until, "order": order}
    result, hits = None, []
    shown = min(max(parse_count(n, "n", "papers") or PAGE, PAGE), MAX_SHOWN) // PAGE * PAGE
    if q.strip():
        result = papers.search(v.library, q, order=choice(order, ("relevance", "date"), "order"),
                               limit=shown, categories=tuple(c for c in category.split() if c),
                               semantic=choice(mode, ("text", "semantic"), "mode") == "semantic", count=True,
                               since=parse_day(since, "since"), until=parse_day(until, "until"),
                               has_code=parse_code(code))
        hits = result.hits
    more = None
    beyond = result is not None and (result.total > shown if result.total is not None else len(hits) >= shown)
    if beyond and shown < MAX_SHOWN:
        more = "/search?" + urlencode({**f, "n": shown + PAGE})
    return v.page(request, "search.html", title=f"Search: {q}" if q else "Search", result=result, hits=hits, f=f,
                  more=more)


@router.get("/following", include_in_schema=False)
def following_page(request: Request, days: str = "30") -> Response:
    v = _views(request)
    result = people.following_page(v.library, days=parse_count(days, "days", "days") or 30)
    return v.page(request, "following.html", title="Following", result=result)


@router.get("/recommend", include_in_schema=False)
def recommend_page(request: Request) -> Response:
    v = _views(request)
    result, problem, needs = None, "", ""
    try:
        result = meaning.recommend(v.library, limit=30)
    except NotReady as e:
        problem, needs = str(e), e.needs
    except InputError as e:  # no library file and no 👍 yet, or none of them embedded: the page says what to do
        problem = str(e)
    return v.page(request, "recommend.html", title="For you", result=result, problem=problem, needs=needs)


@router.get("/trends", include_in_schema=False)
def trends_page(request: Request) -> Response:
    v = _views(request)
    result = trends.topic_trends(v.library, v.library.topics)
    return v.page(request, "trends.html", title="Trends", t=result, embedded=bool(v.library.store.active_model()))


@router.get("/feeds/{slug}.xml", include_in_schema=False)
def feed(request: Request, slug: str) -> Response:
    v = _views(request)
    page = digest.topic_page(v.library, topic_for_slug(v.library, slug))
    return Response(topic_feed(v.library, page), media_type="application/atom+xml; charset=utf-8")


# ------------------------------------------------------------------------------------------------ changes
@router.post("/paper/{paper_id:path}/rate", include_in_schema=False)
async def rate(request: Request, paper_id: str) -> Response:
    v = _views(request)
    form = await request.form()
    why = v.guard.write_refusal(request, str(form.get("csrf", "")))
    if why:
        return v.refuse_write(request, why)
    out = meaning.rate(v.writer(), paper_id, str(form.get("rating", "")))
    v.changed()
    if v.wants_json(request):
        return JSONResponse(out.to_dict())
    return RedirectResponse(local_next(str(form.get("next", "")), "/paper/" + paper_id), status_code=303)


@router.post("/author/{name}/follow", include_in_schema=False)
async def follow(request: Request, name: str) -> Response:
    v = _views(request)
    form = await request.form()
    why = v.guard.write_refusal(request, str(form.get("csrf", "")))
    if why:
        return v.refuse_write(request, why)
    if form.get("action") == "unfollow":
        out = people.unfollow(v.writer(), name)
    else:
        out = people.follow(v.writer(), name, author_id=str(form.get("id") or "") or None)
    v.changed()
    if v.wants_json(request):
        return JSONResponse(out.to_dict())
    return RedirectResponse(local_next(str(form.get("next", "")), "/author/" + name), status_code=303)


# ------------------------------------------------------------------------------------------------ login
@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/", token: str = "") -> Response:
    v = _views(request)
    if token:  # the link `paperscope serve` prints
        return _logged_in(v, token, next) or v.page(request, "login.html", status=403, title="Log in",
                                                    next=local_next(next), failed=True)
    return v.page(request, "login.html", title="Log in", next=local_next(next), failed=False)


@router.post("/login", include_in_schema=False)
async def login(request: Request) -> Response:
    v = _views(request)
    form = await request.form()
    nxt = local_next(str(form.get("next", "")))
    return _logged_in(v, str(form.get("token", "")), nxt) or v.page(
        request, "login.html", status=403, title="Log in", next=nxt, failed=True)


@router.post("/logout", include_in_schema=False)
async def logout(request: Request) -> Response:
    r = RedirectResponse("/", status_code=303)
    r.delete_cookie(SESSION_COOKIE, path="/")
    return r


def _logged_in(v: Views, token: str, nxt: str) -> Response | None:
    if not v.guard.token_ok(token):
        return None
    r = RedirectResponse(local_next(nxt), status_code=303)
    r.set_cookie(SESSION_COOKIE, v.guard.session_value or "", httponly=True, samesite="strict", path="/",
                 max_age=30 * 86400)
    return r
