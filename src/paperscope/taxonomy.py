"""arXiv's category taxonomy (archives and subject classes), to name a mistyped category instead of matching nothing.

Facts from arXiv's published category list; old archives of legacy ids (e.g. `solv-int`) are kept as they are.
"""

from __future__ import annotations

_CLASSES: dict[str, tuple[str, ...]] = {
    "cs": ("AI", "AR", "CC", "CE", "CG", "CL", "CR", "CV", "CY", "DB", "DC", "DL", "DM", "DS", "ET", "FL", "GL",
           "GR", "GT", "HC", "IR", "IT", "LG", "LO", "MA", "MM", "MS", "NA", "NE", "NI", "OH", "OS", "PF", "PL",
           "RO", "SC", "SD", "SE", "SI", "SY"),
    "econ": ("EM", "GN", "TH"),
    "eess": ("AS", "IV", "SP", "SY"),
    "math": ("AC", "AG", "AP", "AT", "CA", "CO", "CT", "CV", "DG", "DS", "FA", "GM", "GN", "GR", "GT", "HO", "IT",
             "KT", "LO", "MG", "MP", "NA", "NT", "OA", "OC", "PR", "QA", "RA", "RT", "SG", "SP", "ST"),
    "astro-ph": ("CO", "EP", "GA", "HE", "IM", "SR"),
    "cond-mat": ("dis-nn", "mes-hall", "mtrl-sci", "other", "quant-gas", "soft", "stat-mech", "str-el", "supr-con"),
    "nlin": ("AO", "CD", "CG", "PS", "SI"),
    "physics": ("acc-ph", "ao-ph", "app-ph", "atm-clus", "atom-ph", "bio-ph", "chem-ph", "class-ph", "comp-ph",
                "data-an", "ed-ph", "flu-dyn", "gen-ph", "geo-ph", "hist-ph", "ins-det", "med-ph", "optics",
                "plasm-ph", "pop-ph", "soc-ph", "space-ph"),
    "q-bio": ("BM", "CB", "GN", "MN", "NC", "OT", "PE", "QM", "SC", "TO"),
    "q-fin": ("CP", "EC", "GN", "MF", "PM", "PR", "RM", "ST", "TR"),
    "stat": ("AP", "CO", "ME", "ML", "OT", "TH"),
}
_PLAIN = ("gr-qc", "hep-ex", "hep-lat", "hep-ph", "hep-th", "math-ph", "nucl-ex", "nucl-th", "quant-ph",
          # archives of legacy identifiers
          "acc-phys", "adap-org", "alg-geom", "ao-sci", "atom-ph", "bayes-an", "chao-dyn", "chem-ph", "cmp-lg",
          "comp-gas", "dg-ga", "funct-an", "mtrl-th", "patt-sol", "plasm-ph", "q-alg", "solv-int", "supr-con")

ARCHIVES: frozenset[str] = frozenset({*_CLASSES, *_PLAIN})
CATEGORIES: frozenset[str] = frozenset({f"{a}.{c}" for a, cs in _CLASSES.items() for c in cs} | set(_PLAIN)
                                       | {"math.MP", "q-alg.QA"})
_LOWER = {c.lower(): c for c in CATEGORIES} | {a.lower(): a for a in ARCHIVES}


def canonical(category: str) -> str | None:
    """The category as arXiv spells it ('cs.cl' -> 'cs.CL'; an archive alone stays an archive), or None."""
    return _LOWER.get(category.strip().lower())


def suggestion(category: str) -> str:
    """A close known category for an error message ('' when none is close)."""
    import difflib

    got = difflib.get_close_matches(category.lower(), list(_LOWER), n=1, cutoff=0.6)
    return _LOWER[got[0]] if got else ""
