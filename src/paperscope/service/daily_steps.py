"""The steps of the daily pipeline (`paperscope.service.daily`), one small function each over the other
services. Each takes the run's context and returns (what it did, in words; its figures as a dict)."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from paperscope import arxiv_calendar as cal
from paperscope.delivery.recipients import Recipient
from paperscope.errors import ConfigError
from paperscope.models import Topic
from paperscope.render.model import Digest

if TYPE_CHECKING:
    from paperscope.service.daily import RunContext

JSON = dict[str, object]


def _topics(ctx: RunContext) -> list[Topic]:
    topics = list(ctx.lib.settings.topics)
    if not topics:
        raise ConfigError("the config has no [[topics]] yet (run `paperscope init`, then edit it)")
    return topics


def fetch(ctx: RunContext) -> tuple[str, JSON]:
    from paperscope.service import ingest
    from paperscope.service.daily import StepPartial, Unreachable

    _topics(ctx)
    # embedding is the next step's, so it is timed and resumed on its own
    report = ingest.fetch(ctx.lib, embed=False)
    data: JSON = {**report.to_dict()}
    new = sum(t.new for t in [*report.topics, *report.authors])
    updated = sum(t.updated for t in [*report.topics, *report.authors])
    detail = f"{new} new, {updated} updated in {len(report.topics)} topics"
    if report.announcement_date:
        detail += f"; feed of {report.announcement_date}: {report.announced} announced"
    ctx.data["late"] = _late(ctx, report.announcement_date)
    if ctx.data["late"]:
        detail += " (arXiv's feed does not have today's announcement yet)"
    failures = [*report.errors, *(f"{t.topic}: {t.error}" for t in [*report.topics, *report.authors] if t.error)]
    if report.unreachable:
        raise Unreachable(failures[0] if failures else "arXiv cannot be reached")
    tried = len(report.topics) + len(report.authors) + (1 if report.errors or report.announcement_date else 0)
    if failures and len(failures) >= tried:
        raise Unreachable(f"arXiv failed every request: {failures[0]}")
    if failures:
        raise StepPartial(f"{detail}; {len(failures)} failed: {failures[0]}")
    return detail, data


def _late(ctx: RunContext, feed_date: str) -> bool:
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


def enrich(ctx: RunContext) -> tuple[str, JSON]:
    from paperscope.service import people

    d: JSON = {**people.enrich(ctx.lib).to_dict()}
    return f"citations for {d.get('found', 0)} of {d.get('asked', 0)} papers asked", d


def embed(ctx: RunContext) -> tuple[str, JSON]:
    from paperscope.service import meaning

    d: JSON = {**meaning.embed(ctx.lib).to_dict()}
    return f"{d.get('embedded', 0)} papers embedded ({d.get('model')})", d


def novelty(ctx: RunContext) -> tuple[str, JSON]:
    from paperscope.service import meaning

    d: JSON = {**meaning.novelty(ctx.lib).to_dict()}
    return f"novelty of {d.get('papers', 0)} papers", d


def score(ctx: RunContext) -> tuple[str, JSON]:
    from paperscope.service import meaning

    d: JSON = {**meaning.score(ctx.lib).to_dict()}
    return f"AI Score of {d.get('papers', 0)} papers ({d.get('method')})", d


def build(ctx: RunContext, topics: list[Topic] | None = None, library: str | None = None) -> Digest:
    """The day's digest (all topics, or a recipient's, with their own library file), empty sections saying why
    on a quiet day."""
    from paperscope.service import digest as digests

    names = [t.name for t in (topics if topics is not None else _topics(ctx))]
    d = digests.build_digest(ctx.lib, names, today=ctx.day).digest
    if library:
        _own_recommendations(ctx, d, library)
    if ctx.quiet:  # say so in every topic's section, not "no papers"
        for section in d.sections:
            if section.topic is None:
                continue
            section.note = f"arXiv announced nothing today ({ctx.quiet})." + (
                " These are the newest papers of earlier announcements." if section.papers else "")
    return d


def _own_recommendations(ctx: RunContext, d: Digest, library: str) -> None:
    """Replace "Recommended for you" with the recommendations for a recipient's own library file."""
    from paperscope.service import meaning
    from paperscope.service.digest import recommended_section

    if not ctx.lib.store.active_model():
        return
    days = int(ctx.lib.settings.recommend_days)
    rep = meaning.recommend(ctx.lib, str(Path(library).expanduser()), days=days, limit=20, today=ctx.day)
    section = recommended_section(rep, days)
    d.sections = [s for s in d.sections if s.title != "Recommended for you"] + [section]


def digest(ctx: RunContext) -> tuple[str, JSON]:
    from paperscope.service import digest as digests
    from paperscope.service.daily import LAST_DIGEST_KEY
    from paperscope.service.digest import DigestResult

    d = build(ctx)
    ctx.data["digest"] = d
    written = digests.write_digest(ctx.lib, DigestResult(d), ctx.out_dir)
    ctx.lib.store.set_state(LAST_DIGEST_KEY, {"date": ctx.day.isoformat(), "out": str(ctx.out_dir)})
    n = sum(len(s.papers) for s in d.sections)
    return (f"{n} papers in {len(d.sections)} sections, {len(written.files)} files in {ctx.out_dir}",
            {"papers": n, "sections": [{"title": s.title, "papers": len(s.papers)} for s in d.sections],
             "out": str(ctx.out_dir), "files": [str(f) for f in written.files]})


def digest_for(ctx: RunContext, recipient: Recipient | None) -> Digest:
    """The whole digest (None), or one recipient's: their topics, their follows, their library file."""
    if recipient is None:
        whole = ctx.data.get("digest")
        if not isinstance(whole, Digest):  # resumed at "deliver": the digest step ran in an earlier process
            whole = ctx.data["digest"] = build(ctx)
        return whole
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


def deliver(ctx: RunContext) -> tuple[str, JSON]:
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
