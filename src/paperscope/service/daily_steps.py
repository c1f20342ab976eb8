"""The steps of the daily pipeline (`paperscope.service.daily`), one small function each over the other
services. Each takes the run's context and returns (what it did, in words; its figures as a dict)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

from paperscope import arxiv_calendar as cal
from paperscope.errors import ConfigError


def _topics(ctx: Any) -> list[Any]:
    topics = list(ctx.lib.settings.topics)
    if not topics:
        raise ConfigError("the config has no [[topics]] yet (run `paperscope init`, then edit it)")
    return topics


def fetch(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.fetcher import fetch as fetch_all
    from paperscope.fetcher import make_sources
    from paperscope.service.daily import StepPartial, Unreachable

    lib = ctx.lib
    sources = getattr(ctx.transports, "sources", None) or make_sources(lib.settings)
    try:
        report = fetch_all(lib.store, lib.settings, sources, _topics(ctx), now=ctx.now)
    finally:
        sources.close()
    data = report.to_dict()
    new = sum(t.new for t in [*report.topics, *report.authors])
    updated = sum(t.updated for t in [*report.topics, *report.authors])
    detail = f"{new} new, {updated} updated in {len(report.topics)} topics"
    if report.announcement_date:
        detail += f"; feed of {report.announcement_date}: {report.announced} announced"
    ctx.data["late"] = _late(ctx, report.announcement_date)
    if ctx.data["late"]:
        detail += " (arXiv's feed does not have today's announcement yet)"
    failures = [*report.errors, *(f"{t.topic}: {t.error}" for t in [*report.topics, *report.authors] if t.error)]
    tried = len(report.topics) + len(report.authors) + (1 if report.errors or report.announcement_date else 0)
    if failures and len(failures) >= tried:
        raise Unreachable(f"arXiv failed every request: {failures[0]}")
    if failures:
        raise StepPartial(f"{detail}; {len(failures)} failed: {failures[0]}")
    return detail, data


def _late(ctx: Any, feed_date: str) -> bool:
    """True when the latest slot announced but the feed still lists an earlier day (arXiv is late)."""
    slot_day = cal.last_slot(ctx.now)
    if ctx.quiet or not feed_date:
        return False
    try:
        listed = date.fromisoformat(feed_date[:10])
    except ValueError:
        return False
    # The feed lists an evening's announcement under the next day's date.
    return listed < slot_day + timedelta(days=1)


def enrich(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.service import run_enrich

    rep = run_enrich(ctx.lib.store, ctx.lib.settings)
    d = rep.to_dict()
    return f"citations for {d.get('found', 0)} of {d.get('asked', 0)} papers asked", d


def embed(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.discovery import embed_library

    d = embed_library(ctx.lib.store, model=ctx.lib.store.active_model())
    return f"{d.get('embedded', 0)} papers embedded ({d.get('model')})", d


def novelty(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.discovery import compute_library_novelty

    d = compute_library_novelty(ctx.lib.store, now=ctx.now)
    return f"novelty of {d.get('papers', d.get('computed', 0))} papers", _plain(d)


def score(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.discovery import compute_scores

    d = compute_scores(ctx.lib.store, now=ctx.now)
    return f"AI Score of {d.get('papers', d.get('scored', 0))} papers", _plain(d)


def _plain(d: Any) -> dict[str, Any]:
    return {k: v for k, v in dict(d).items() if isinstance(v, (str, int, float, bool, type(None)))}


def build(ctx: Any, topics: list[Any] | None = None, library: str | None = None) -> Any:
    """The day's digest (all topics, or a recipient's), empty sections saying why on a quiet day."""
    from paperscope.service import build_digest

    s = ctx.lib.settings
    lib_file = library if library is not None else (s.library_file or "")
    d = build_digest(ctx.lib.store, topics if topics is not None else _topics(ctx), today=ctx.day,
                     library=str(Path(lib_file).expanduser()) if lib_file else None,
                     recommend_days=s.recommend_days)
    if ctx.quiet:  # say so in every topic's section, not "no papers"
        for section in d.sections:
            if section.topic is None:
                continue
            section.note = f"arXiv announced nothing today ({ctx.quiet})." + (
                " These are the newest papers of earlier announcements." if section.papers else "")
    return d


def digest(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.service import write_digest
    from paperscope.service.daily import LAST_DIGEST_KEY

    d = build(ctx)
    ctx.data["digest"] = d
    files = write_digest(d, ctx.out_dir)
    ctx.lib.store.set_state(LAST_DIGEST_KEY, {"date": ctx.day.isoformat(), "out": str(ctx.out_dir)})
    n = sum(len(s.papers) for s in d.sections)
    return (f"{n} papers in {len(d.sections)} sections, {len(files)} files in {ctx.out_dir}",
            {"papers": n, "sections": [{"title": s.title, "papers": len(s.papers)} for s in d.sections],
             "out": str(ctx.out_dir), "files": [str(f) for f in files]})


def digest_for(ctx: Any, recipient: Any | None) -> Any:
    """The whole digest (None), or one recipient's: their topics, their follows, their library file."""
    if recipient is None:
        if ctx.data.get("digest") is None:  # resumed at "deliver": the digest step ran in an earlier process
            ctx.data["digest"] = build(ctx)
        return ctx.data["digest"]
    topics = _topics(ctx)
    if recipient.topics:
        topics = [t for t in topics if t.name in recipient.topics]
    d = build(ctx, topics, recipient.library_file or None)
    if recipient.follows:
        from paperscope.scoring.names import names_compatible

        for section in d.sections:
            if section.topic is None and section.title == "Followed authors":
                section.papers = [p for p in section.papers
                                  if any(names_compatible(f, a) for f in recipient.follows for a in p.author_names)]
    return d


def deliver(ctx: Any) -> tuple[str, dict[str, Any]]:
    from paperscope.delivery.dispatch import deliver as dispatch
    from paperscope.service.daily import StepPartial

    plan = ctx.plan
    if plan is None or plan.empty:
        return "nothing to deliver to: no [[recipients]] with smtp_host, no chat targets", {}
    if ctx.quiet:
        return f"arXiv announced nothing today ({ctx.quiet}); nothing sent", {"quiet": ctx.quiet}
    store = ctx.lib.store
    report = dispatch(plan, ctx.day, lambda r: digest_for(ctx, r), get_state=store.get_state,
                      set_state=store.set_state, notice=ctx.notice,
                      digest_url=getattr(ctx.lib.settings, "digest_url", "") or "", now=ctx.now)
    if report.failed:
        raise StepPartial(report.summary())
    return report.summary(), report.to_dict()


DEFAULT = {"fetch": fetch, "enrich": enrich, "embed": embed, "novelty": novelty, "score": score,
           "digest": digest, "deliver": deliver}
