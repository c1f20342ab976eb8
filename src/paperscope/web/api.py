"""The JSON API under /api: one service call per route, its result's to_dict() as the body.

Errors come back as {"error": kind, "message": ...} with 404 (unknown id), 409 (the library lacks a step;
"needs" names it), 400 (bad parameter), 401/403 (token).
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response
from starlette.requests import Request

from paperscope.service import digest, meaning, papers, people, trends
from paperscope.web.pages import parse_code, parse_day
from paperscope.web.views import Views, topic_for_slug

router = APIRouter(tags=["library"])


def _views(request: Request) -> Views:
    return request.app.state.views  # type: ignore[no-any-return]


def _guarded(request: Request) -> Response | None:
    v = _views(request)
    why = v.guard.write_refusal(request)
    return v.refuse_write(request, why) if why else None


@router.get("/stats", summary="Library size, embedding model, follows")
def stats(request: Request) -> Any:
    return papers.stats(_views(request).library).to_dict()


@router.get("/topics", summary="The configured topics")
def topics(request: Request) -> Any:
    from paperscope.render.model import slugify
    from paperscope.service.ingest import pick_topics

    return {"topics": [{"name": t.name, "slug": slugify(t.name), "query": t.query, "categories": t.categories,
                        "order": t.order, "feed": f"/feeds/{slugify(t.name)}.xml"}
                       for t in pick_topics(_views(request).library)]}


@router.get("/digest", summary="The digest: every topic's newest papers, followed authors, recommendations")
def digest_all(request: Request) -> Any:
    return digest.build_digest(_views(request).library).to_dict()


@router.get("/topics/{slug}", summary="One topic's papers, ordered and filtered")
def topic(request: Request, slug: str,
          order: Literal["date", "novelty", "score", "fit"] = "date",
          category: str | None = None, code: Literal["yes", "no", ""] = "",
          since: str | None = Query(None, description="updated on or after, YYYY-MM-DD"),
          until: str | None = Query(None, description="updated on or before, YYYY-MM-DD"),
          limit: int | None = Query(None, ge=1, le=1000)) -> Any:
    lib = _views(request).library
    return digest.topic_page(lib, topic_for_slug(lib, slug), order=order, category=category,
                             has_code=parse_code(code), since=parse_day(since, "since"),
                             until=parse_day(until, "until"), limit=limit, count=True).to_dict()


@router.get("/papers/{paper_id:path}", summary="A paper: versions, code, citations, novelty, similar, AI Score")
def paper(request: Request, paper_id: str) -> Any:
    return papers.paper_detail(_views(request).library, paper_id, similar=8).to_dict()


@router.get("/authors/{name}", summary="An author's profile: figures with sources, papers, plots' data")
def author(request: Request, name: str, order: Literal["citations", "newest", "novelty"] = "citations",
           id: str | None = Query(None, description="OpenAlex id or ORCID when the name is ambiguous"),
           similar: int = Query(8, ge=0, le=50, description="Authors nearest in meaning to list")) -> Any:
    return people.author_profile(_views(request).library, name, author_id=id, order=order,
                                 similar=similar).to_dict()


@router.get("/search", summary="Full-text (topic query syntax) or semantic search")
def search(request: Request, q: str = Query(..., min_length=1), mode: Literal["text", "semantic"] = "text",
           order: Literal["relevance", "date"] = "relevance", category: str = "",
           code: Literal["yes", "no", ""] = "", since: str | None = None, until: str | None = None,
           limit: int = Query(20, ge=1, le=200)) -> Any:
    return papers.search(_views(request).library, q, order=order, limit=limit,
                         categories=tuple(c for c in category.split() if c), semantic=mode == "semantic",
                         count=True, since=parse_day(since, "since"), until=parse_day(until, "until"),
                         has_code=parse_code(code)).to_dict()


@router.get("/recommend", summary="Recent papers like your library file or the papers you rated up, each with why")
def recommend(request: Request, days: int | None = Query(None, ge=1, le=36500),
              limit: int = Query(20, ge=1, le=200)) -> Any:
    return meaning.recommend(_views(request).library, days=days, limit=limit).to_dict()


@router.get("/trends", summary="Papers per week and rising terms per topic")
def trends_all(request: Request, weeks: int = Query(26, ge=5, le=520)) -> Any:
    lib = _views(request).library
    return trends.topic_trends(lib, lib.topics, weeks=weeks).to_dict()


@router.get("/trends/map", summary="The library laid out in 2-D from its embeddings")
def library_map(request: Request, points: int = Query(4000, ge=10, le=20000)) -> Any:
    return trends.library_map(_views(request).library, max_points=points).to_dict()


@router.get("/following", summary="Followed authors, and their new papers and revisions of the last `days`")
def following(request: Request, days: int = Query(30, ge=1, le=3650)) -> Any:
    return people.following_page(_views(request).library, days=days).to_dict()


@router.post("/papers/{paper_id:path}/rating", summary="Rate a paper: up, down, not_interested or none (token)")
async def rate(request: Request, paper_id: str,
               rating: Literal["up", "down", "not_interested", "none"] = Body(..., embed=True)) -> Any:
    refused = _guarded(request)
    if refused:
        return refused
    v = _views(request)
    out = meaning.rate(v.writer(), paper_id, rating)
    v.changed()
    return out.to_dict()


@router.put("/authors/{name}/follow", summary="Follow an author (token)")
async def follow(request: Request, name: str, id: str | None = None) -> Any:
    refused = _guarded(request)
    if refused:
        return refused
    v = _views(request)
    out = people.follow(v.writer(), name, author_id=id)
    v.changed()
    return out.to_dict()


@router.delete("/authors/{name}/follow", summary="Stop following an author (token)")
async def unfollow(request: Request, name: str) -> Any:
    refused = _guarded(request)
    if refused:
        return refused
    v = _views(request)
    out = people.unfollow(v.writer(), name)
    v.changed()
    return out.to_dict()


@router.get("/docs", include_in_schema=False)
def docs(request: Request) -> Response:
    """The API described from its OpenAPI schema, rendered here (no script, nothing from a CDN)."""
    v = _views(request)
    schema = request.app.openapi()
    routes = []
    for path, methods in schema["paths"].items():
        for method, op in methods.items():
            params = [(p["name"], p["in"], p.get("required", False), _type(p.get("schema", {})),
                       p.get("description", "")) for p in op.get("parameters", [])]
            routes.append({"method": method.upper(), "path": path, "summary": op.get("summary", ""),
                           "params": params, "body": "requestBody" in op})
    return v.page(request, "apidocs.html", title="API", routes=routes)


def _type(schema: dict[str, Any]) -> str:
    if "enum" in schema:
        return " | ".join(map(str, schema["enum"]))
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    return str(schema.get("type", ""))



