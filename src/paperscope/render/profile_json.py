"""An author profile as JSON: ISO dates, each figure with label/value/source/inputs, cards in the caller's order."""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import orjson

from paperscope.models import AuthorProfile, Figure, PaperCard
from paperscope.render.jsonout import paper_to_dict
from paperscope.render.profile_model import header_figures, shown_value

__all__ = ["profile_to_dict", "render_profile_json"]


def _jsonable(value: Any) -> Any:
    """Figure inputs and values as JSON: ISO dates, lists for tuples/sets, None for NaN, str for the rest."""
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Figure):
        return _figure(value)
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted((_jsonable(v) for v in value), key=repr)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)


def _figure(f: Figure) -> dict[str, Any]:
    # "text": the figure as a reader sees it, never a bare float or null ("64 — from 12 papers (...)", "—").
    text = f.inputs.get("text")
    return {"label": f.label, "value": _jsonable(f.value), "source": f.source,
            "text": text if isinstance(text, str) else shown_value(f), "inputs": _jsonable(f.inputs)}


def _card(card: PaperCard) -> dict[str, Any]:
    return {
        "category_code": card.category_code,
        "date_label": card.date_label,
        "authors_label": card.authors_label,
        "affiliation_tags": list(card.affiliation_tags),
        "citations": card.citations,
        "novelty": _jsonable(card.novelty),
        "score": _jsonable(card.score),
        "has_code": card.paper.has_code,
        "code_url": card.paper.code_url or None,
        "paper": paper_to_dict(card.paper),
    }


def profile_to_dict(profile: AuthorProfile) -> dict[str, Any]:
    """The profile as plain JSON-ready values: ISO dates, each figure with label/value/source/inputs, cards in order."""
    return {
        "name": profile.name,
        "key": profile.key,
        "generated": profile.generated.isoformat(),
        "names": list(profile.names),
        "openalex_id": profile.openalex_id,
        "orcid": profile.orcid,
        "followed": profile.followed,
        "order": profile.order,
        "header": {label: _figure(f) for label, f in header_figures(profile)},
        "figures": [_figure(f) for f in profile.figures],
        "citations_per_year": [{"year": y, "citations": n} for y, n in sorted(profile.citations_per_year.items())],
        "categories": [{"category": c, "share": _jsonable(s)} for c, s in profile.categories],
        "coauthors": [{"name": name, "papers": n} for name, n in profile.coauthors],
        "affiliations": [{"tag": tag, "institution": inst} for tag, inst in profile.affiliations],
        "cards": [_card(c) for c in profile.cards],
    }


def render_profile_json(profile: AuthorProfile) -> str:
    """`profile_to_dict` as indented JSON text (UTF-8, keys in a fixed order), ending with a newline."""
    return orjson.dumps(profile_to_dict(profile), option=orjson.OPT_INDENT_2).decode("utf-8") + "\n"
