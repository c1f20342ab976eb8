"""Who is who: name keys, parsing of arXiv author strings, identity merging.

Pure functions, no I/O. arXiv names arrive as Unicode, as LaTeX (``J\\"urgen``, ``{\\O}bro``), as
"Last, First", with initials glued together ("J.P.Hague"), with suffixes and particles; the
functions here reduce all of these to one comparable form.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

__all__ = [
    "Identity",
    "IdentityRecord",
    "ascii_fold",
    "author_lookup_keys",
    "author_index_keys",
    "display_name",
    "latex_to_unicode",
    "merge_identities",
    "name_key",
    "names_compatible",
    "parse_name",
]

# --- LaTeX to Unicode -------------------------------------------------------------------------

# Accent commands that take one letter; the value is the Unicode combining mark.
_SYMBOL_ACCENTS = {
    '"': "\u0308", "'": "\u0301", "`": "\u0300", "^": "\u0302", "~": "\u0303", "=": "\u0304",
    ".": "\u0307",
}
_LETTER_ACCENTS = {
    "u": "\u0306", "v": "\u030c", "H": "\u030b", "c": "\u0327", "k": "\u0328", "r": "\u030a",
    "d": "\u0323", "b": "\u0331",
}
# Letters LaTeX writes as commands.
_LATEX_LETTERS = {
    "ss": "ß", "aa": "å", "AA": "Å", "ae": "æ", "AE": "Æ", "oe": "œ", "OE": "Œ", "o": "ø",
    "O": "Ø", "l": "ł", "L": "Ł", "i": "ı", "j": "ȷ", "dh": "ð", "DH": "Ð", "th": "þ",
    "TH": "Þ", "ng": "ŋ", "NG": "Ŋ",
}
_SYMBOL_RE = re.compile(
    r"\\(?P<acc>[\"'`^~=.])\s*(?:\{\s*(?P<a>\\[ij]|[^\W\d_])\s*\}|(?P<a2>\\[ij](?![A-Za-z])|[^\W\d_]))"
)
# Letter accents need braces or a space before a bare letter: "\v{s}", "\c c".
_LETTER_RE = re.compile(
    r"\\(?P<acc>[uvHckrdb])(?:\s*\{\s*(?P<a>\\[ij]|[^\W\d_])\s*\}|\s+(?P<a2>[^\W\d_]))"
)
_LETTER_CMD_RE = re.compile(r"\\(ss|aa|AA|ae|AE|oe|OE|dh|DH|th|TH|ng|NG|o|O|l|L|i|j)(?![A-Za-z])(?:\{\})?\s?")
_OTHER_CMD_RE = re.compile(r"\\(?:textsc|textit|textbf|emph|mathrm|text)\s*(?=\{)")
_MOJIBAKE_RE = re.compile("[\u00c2\u00c3\u00c5][\u0080-\u00bf\u2018-\u203a\u0152-\u0178]")


def _accent(match: re.Match[str], table: dict[str, str]) -> str:
    letter = match["a"] or match["a2"]
    base = {"\\i": "i", "\\j": "j"}.get(letter, letter)
    return unicodedata.normalize("NFC", base + table[match["acc"]])


def _unmojibake(s: str) -> str:
    # UTF-8 read as Latin-1/CP1252 ("RamÃ\xadrez"); undo it only when the round trip is clean.
    if not _MOJIBAKE_RE.search(s):
        return s
    for codec in ("cp1252", "latin-1"):
        try:
            return s.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
    return s


_LATEX_MARKS = re.compile(r"[\\{}~`'&-]")
_BACKSLASHES_RE = re.compile(r"\\\\")
_TILDE_RE = re.compile(r"(?<!\\)~")


def latex_to_unicode(s: str) -> str:
    """Turn the LaTeX that arXiv metadata uses for names and places into plain Unicode."""
    if not _LATEX_MARKS.search(s):  # most names: nothing below can change them
        return unicodedata.normalize("NFC", s)
    s = _SYMBOL_RE.sub(lambda m: _accent(m, _SYMBOL_ACCENTS), s)
    s = _LETTER_RE.sub(lambda m: _accent(m, _LETTER_ACCENTS), s)
    s = _LETTER_CMD_RE.sub(lambda m: _LATEX_LETTERS[m[1]], s)
    s = _OTHER_CMD_RE.sub("", s)
    s = s.replace("\\&", "&").replace("``", "\u201c").replace("''", "\u201d")
    s = s.replace("---", "\u2014").replace("--", "\u2013")
    # A leftover "\\" is a LaTeX line break; a lone "~" is a non-breaking space.
    s = _BACKSLASHES_RE.sub(" ", s)
    s = _TILDE_RE.sub(" ", s)
    s = s.replace("{", "").replace("}", "")
    # Whatever backslash is left belongs to a command we do not know ("St\\ütz" is a typo).
    s = s.replace("\\", "")
    return unicodedata.normalize("NFC", s)


_GLUED_INITIAL_RE = re.compile(r"(?<=\b[^\W\d_]\.)(?=[^\W\d_])")
_SPACES_RE = re.compile(r"\s+")


# Pure and called for every name of every candidate paper of an author lookup: cached per process.
@functools.lru_cache(maxsize=1 << 16)
def display_name(name: str) -> str:
    """A name fit to show: LaTeX turned into Unicode, glued initials split, spaces tidied."""
    s = latex_to_unicode(_unmojibake(name))
    # "J.P.Hague" -> "J. P. Hague", but keep "J.-P." and "Ph.D" style dots next to hyphens.
    s = _GLUED_INITIAL_RE.sub(" ", s)
    s = _SPACES_RE.sub(" ", s).strip()
    return s.strip(" ,;\\")


# --- parsing a single name ---------------------------------------------------------------------

_SUFFIXES = {"jr": "Jr.", "sr": "Sr.", "ii": "II", "iii": "III", "iv": "IV"}
# Particles that belong to the last name. Lowercase ones always do; capitalised ones only after a
# given name, so that "Le Song" keeps Song as the last name while "Korentin Le Floch" gets "Le Floch".
_PARTICLES = {
    "van", "von", "de", "der", "den", "da", "di", "del", "della", "dos", "das", "du", "la", "le",
    "ten", "ter", "bin", "al", "el", "y", "zu", "dei", "degli", "des", "het", "st", "st.",
}
_CAP_PARTICLES = {
    "van", "von", "de", "der", "den", "del", "della", "dos", "das", "du", "ten", "ter", "zu", "di",
    "da", "le", "la", "el", "al",
}
_GROUP_WORDS = re.compile(
    r"(?i)\b(collaboration|consortium|team|group|initiative|project|alliance|committee|authors)\b"
)


def _is_suffix(token: str) -> bool:
    # "SR" or "JR" in capitals are initials ("Nikitha SR"), not Senior/Junior.
    t = token.strip(".,")
    return t.lower() in _SUFFIXES and t not in ("SR", "JR")


_INITIALS_RE = re.compile(r"(?:[^\W\d_]\.?-?)+")
_DOTTED_INITIALS_RE = re.compile(r"(?:[^\W\d_]\.-?)+")
_GLUED_SUFFIX_RE = re.compile(r"(.+?)-(jr|sr)\.?", re.IGNORECASE)


def _is_initial(token: str) -> bool:
    # "J.", "J", "J.-P.", "Ch." are initials; "Jo" without a dot is a name.
    t = token.strip(",")
    return bool(_INITIALS_RE.fullmatch(t)) and (
        len(t.replace(".", "").replace("-", "")) == 1 or (t.endswith(".") and len(t) <= 4)
        or bool(_DOTTED_INITIALS_RE.fullmatch(t))
    )


def _split_first_last(s: str) -> tuple[str, str, str]:
    tokens = s.split()
    if not tokens:
        return "", "", ""
    if _GROUP_WORDS.search(s):
        return "", s, ""
    suffix = ""
    if len(tokens) > 1 and _is_suffix(tokens[-1]):
        suffix = _SUFFIXES[tokens.pop().strip(".,").lower()]
    elif m := _GLUED_SUFFIX_RE.fullmatch(tokens[-1]):
        # Brazilian "Rodrigues-Jr" glues the suffix to the last name.
        tokens[-1], suffix = m[1], _SUFFIXES[m[2].lower()]
    if len(tokens) == 1:
        return "", tokens[0], suffix
    # "Adolfo De Unánue T.", "Abhishek H S": trailing initials are not the family name.
    end = len(tokens)
    while end > 1 and _is_initial(tokens[end - 1]):
        end -= 1
    if end == 0 or all(_is_initial(t) for t in tokens[:end]):
        end = len(tokens)
    start = end - 1
    while start > 0:
        prev = tokens[start - 1]
        low = prev.lower()
        lowercase_particle = prev.islower() and low in _PARTICLES
        # A capitalised one only after a given name: "Korentin Le Floch", but "Le Song".
        capital_particle = low in _CAP_PARTICLES and start - 1 > 0
        if not (lowercase_particle or capital_particle):
            break
        start -= 1
    last = " ".join(tokens[start:end])
    first = " ".join(tokens[:start] + tokens[end:])
    return first, last, suffix


# Most author strings (90 % of the 151,881 distinct ones of the corpus sample) are a given name, perhaps a middle
# name or initial, and a family name, of plain ASCII letters: "Kaiming He", "Geoffrey E. Hinton". For those the
# general path below changes nothing in `display_name`, finds no comma, group word, suffix, trailing initial or
# particle, and folds each part to its lower case: `_plain_parts` says so in a few string operations (tests check
# it against the general path on real and generated names).
_PLAIN_NAME_RE = re.compile(r"([A-Za-z]+)(?: ([A-Za-z]+\.?))? ([A-Za-z]{2,})")
_PLAIN_STOP = frozenset(_PARTICLES | _SUFFIXES.keys() | {
    "collaboration", "consortium", "team", "group", "initiative", "project", "alliance", "committee", "authors"})


def _plain_parts(name: str) -> tuple[str, str] | None:
    """(given names, family name) of a plain two- or three-word ASCII name the general parse would split as it
    stands, or None when the general path has to decide."""
    m = _PLAIN_NAME_RE.fullmatch(name)
    if m is None:
        return None
    first, middle, last = m.groups()
    stop = _PLAIN_STOP
    if first.lower() in stop or last.lower() in stop or (middle is not None and middle.lower() in stop):
        return None
    return (first if middle is None else f"{first} {middle}"), last


@functools.lru_cache(maxsize=1 << 16)
def parse_name(name: str) -> tuple[str, str, str]:
    """Split a name into (first, last, suffix); accepts "First Last" and "Last, First" forms."""
    plain = _plain_parts(name)
    if plain is not None:
        return plain[0], plain[1], ""
    return _parse_name(name)


def _parse_name(name: str) -> tuple[str, str, str]:
    s = display_name(name)
    if "," in s:
        parts = [p.strip() for p in s.split(",") if p.strip()]
        if len(parts) == 2 and _is_suffix(parts[1]):
            first, last, _ = _split_first_last(parts[0])
            return first, last, _SUFFIXES[parts[1].strip(".").lower()]
        if len(parts) == 2:
            return parts[1], parts[0], ""
        if len(parts) == 3 and _is_suffix(parts[1]):
            return parts[2], parts[0], _SUFFIXES[parts[1].strip(".").lower()]
        if len(parts) == 3 and _is_suffix(parts[2]):
            return parts[1], parts[0], _SUFFIXES[parts[2].strip(".").lower()]
        s = " ".join(parts)
    return _split_first_last(s)


# --- keys and comparison -----------------------------------------------------------------------

_FOLD_EXTRA = str.maketrans({
    "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe",
    "Œ": "OE", "đ": "d", "Đ": "D", "ı": "i", "ȷ": "j", "ð": "d", "Ð": "D", "þ": "th",
    "Þ": "Th", "ŋ": "ng", "Ŋ": "Ng", "ħ": "h", "Ħ": "H",
})
_GERMAN = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"})


def ascii_fold(s: str) -> str:
    """Lowercase ASCII: accents dropped, special letters spelled out ('Øbro' -> 'obro')."""
    s = unicodedata.normalize("NFKD", s.translate(_FOLD_EXTRA))
    s = "".join(c for c in s if not unicodedata.combining(c))
    return s.translate(_FOLD_EXTRA).lower()


@functools.lru_cache(maxsize=1 << 16)
def _compact(s: str) -> str:
    folded = re.sub(r"[^a-z0-9]", "", ascii_fold(s))
    # Names in scripts without an ASCII folding keep their own letters.
    return folded or re.sub(r"[\W_]", "", unicodedata.normalize("NFKC", s).lower())


def name_key(name: str) -> str:
    """A key for "probably the same person": folded last name plus first initial, e.g. 'schmidhuber-j'."""
    first, last, _ = parse_name(name)
    last_k = _compact(last)
    initial = _compact(first)[:1]
    return f"{last_k}-{initial}" if initial else last_k


def _given_parts(first: str) -> list[str]:
    return [p for p in re.split(r"[\s.\-\u2010\u2011]+", first) if p]


def _part_variants(part: str) -> set[str]:
    return {_compact(part), _compact(part.translate(_GERMAN))}


# --- index keys: a superset of names_compatible that one indexed lookup can answer -------------
#
# `name_key` is the key people see (follows use it); these keys exist for the author index and are
# built from exactly what `names_compatible` compares, so that two compatible names always share one:
# each spelling of the last name (Müller is stored as both "muller" and "mueller") plus the first
# letter of the given names, or no letter when the name has none (such a name fits every initial).


def _index_initial(first: str) -> str:
    return "".join(_compact(p) for p in _given_parts(first))[:1]


# Called for every author of every imported paper (15M author strings in all of arXiv, many repeated): a large
# cache, so that a bulk import parses each distinct name about once.
@functools.lru_cache(maxsize=1 << 19)
def author_index_keys(name: str) -> tuple[str, ...]:
    """The author-index keys of one author string ('mueller-j', 'muller-j' for "J. Müller")."""
    plain = _plain_parts(name)
    if plain is not None:  # ASCII letters fold to their lower case; the initial is the given name's first letter
        return (f"{plain[1].lower()}-{plain[0][0].lower()}",)
    return _author_index_keys(name)


def _author_index_keys(name: str) -> tuple[str, ...]:
    first, last, _ = _parse_name(name)
    initial = _index_initial(first)
    return tuple(sorted(f"{v}-{initial}" if initial else v for v in _part_variants(last)))


def author_lookup_keys(name: str) -> tuple[list[str], list[str]]:
    """(exact keys, key prefixes) whose index rows hold every author string `names_compatible` with `name`.

    A name with a given name fits the same initial and names without one; a bare last name fits all.
    """
    first, last, _ = parse_name(name)
    initial = _index_initial(first)
    variants = sorted(_part_variants(last))
    if initial:
        return sorted({f"{v}-{initial}" for v in variants} | set(variants)), []
    return variants, [f"{v}-" for v in variants]


def _parts_compatible(a: str, b: str) -> bool:
    va, vb = _part_variants(a), _part_variants(b)
    if va & vb:
        return True
    fa, fb = _compact(a), _compact(b)
    # An initial matches any name with that first letter.
    return (len(fa) == 1 or len(fb) == 1) and fa[:1] == fb[:1]


def _first_compatible(a: str, b: str) -> bool:
    pa, pb = _given_parts(a), _given_parts(b)
    if not pa or not pb:
        return True
    # "Xue-Qian" and "Xueqian" are the same given name written two ways.
    if {"".join(_compact(p) for p in pa)} & {"".join(_compact(p) for p in pb)}:
        return True
    # Compare aligned parts; a missing middle name is no evidence against.
    return all(_parts_compatible(x, y) for x, y in zip(pa, pb))


class _Form:
    """What `names_compatible` compares of one name, worked out once per name string."""

    __slots__ = ("last", "joined", "parts")

    def __init__(self, name: str) -> None:
        first, last, _ = parse_name(name)
        self.last = frozenset(_part_variants(last))
        given = _given_parts(first)
        self.joined = "".join(_compact(p) for p in given) if given else None
        # per given name: (its spellings, its compact form)
        self.parts = tuple((frozenset(_part_variants(p)), _compact(p)) for p in given)


_form = functools.lru_cache(maxsize=1 << 16)(_Form)


def _forms_compatible(x: _Form, y: _Form) -> bool:
    # The same rules as _first_compatible, on precomputed parts.
    if x.last.isdisjoint(y.last):
        return False
    if not x.parts or not y.parts or x.joined == y.joined:
        return True
    for (va, fa), (vb, fb) in zip(x.parts, y.parts):
        if va.isdisjoint(vb) and not ((len(fa) == 1 or len(fb) == 1) and fa[:1] == fb[:1]):
            return False
    return True


def names_compatible(a: str, b: str) -> bool:
    """True when two name strings can be the same person: same last name, first names that agree."""
    return _forms_compatible(_form(a), _form(b))


# --- identities --------------------------------------------------------------------------------

IdentityRecord = tuple[str, "str | None", "str | None", str]


@dataclass(slots=True)
class Identity:
    """One person as far as the evidence goes: the names they wrote, their ids, their papers."""

    key: str
    name: str
    names: list[str] = field(default_factory=list)
    openalex_id: str | None = None
    orcid: str | None = None
    paper_ids: list[str] = field(default_factory=list)


def _norm_openalex(v: str | None) -> str | None:
    if not v:
        return None
    return v.strip().rstrip("/").rsplit("/", 1)[-1].upper() or None


def _norm_orcid(v: str | None) -> str | None:
    if not v:
        return None
    return v.strip().rstrip("/").rsplit("/", 1)[-1].upper() or None


class _Group:
    __slots__ = ("keys", "members", "names", "openalex", "orcid")

    def __init__(self, index: int, openalex: str | None, orcid: str | None) -> None:
        self.members = [index]
        self.openalex = openalex
        self.orcid = orcid
        # the distinct spellings of the members and their keys (filled once the id merging is done)
        self.names: dict[str, None] = {}
        self.keys: set[str] = set()

    def can_take(self, other: _Group) -> bool:
        # Two different ids of one kind are two people, whatever else they share.
        return (not self.openalex or not other.openalex or self.openalex == other.openalex) and (
            not self.orcid or not other.orcid or self.orcid == other.orcid
        )

    def take(self, other: _Group) -> None:
        self.members += other.members
        self.openalex = self.openalex or other.openalex
        self.orcid = self.orcid or other.orcid


def _group_compatible(names: Iterable[str], name: str) -> bool:
    # Every spelling must agree: "J. Schmidhuber" fits both Jürgen and Jan, so it proves nothing.
    # (Callers pass each distinct spelling once: a repeated one would give the same answer again.)
    me = _form(name)
    return all(_forms_compatible(_form(n), me) for n in names)


def merge_identities(records: Iterable[IdentityRecord]) -> list[Identity]:
    """Group (name, openalex_id, orcid, paper_id) records into people.

    Records sharing an ORCID or an OpenAlex id are one person, unless that would join two
    different ids of the same kind. A record without ids joins the one id-bearing person whose
    name is compatible; when there is none, or more than one, it is grouped with id-less records
    of the same name key whose given names agree.
    """
    recs = [(display_name(n), _norm_openalex(oa), _norm_orcid(oc), p) for n, oa, oc, p in records]
    groups: dict[int, _Group] = {}
    owner: dict[int, int] = {}  # record -> the record whose group holds it
    first_seen: dict[tuple[str, str], int] = {}
    loose: list[int] = []

    def root(i: int) -> int:
        while owner[i] != i:
            i = owner[i]
        return i

    for i, (_, oa, oc, _) in enumerate(recs):
        if not oa and not oc:
            loose.append(i)
            continue
        owner[i] = i
        groups[i] = _Group(i, oa, oc)
        # ORCID first: a person asserts it, whereas OpenAlex ids are inferred clusters.
        for kind, value in (("orcid", oc), ("openalex", oa)):
            if not value:
                continue
            j = first_seen.setdefault((kind, value), i)
            ri, rj = root(i), root(j)
            if ri != rj and groups[rj].can_take(groups[ri]):
                groups[rj].take(groups.pop(ri))
                owner[ri] = rj
    id_groups = list(groups.values())
    for g in id_groups:
        g.names = dict.fromkeys(recs[j][0] for j in g.members)
        g.keys = {name_key(n) for n in g.names}

    by_key: dict[str, list[int]] = {}
    for i in loose:
        name = recs[i][0]
        key = name_key(name)
        hits = [g for g in id_groups if key in g.keys and _group_compatible(g.names, name)]
        if len(hits) == 1:
            hits[0].members.append(i)
            hits[0].names[name] = None
            hits[0].keys.add(key)
        else:
            by_key.setdefault(key, []).append(i)

    clusters: list[list[int]] = [g.members for g in id_groups]
    for members in by_key.values():
        clusters.extend(_cluster_loose(members, [r[0] for r in recs]))
    return [_identity(c, recs) for c in clusters]


class _Clusters:
    """Full-name clusters of one key, each with its distinct spellings, and a lookup of the clusters that can
    take a name: a cluster takes a name only if its first spelling fits it, and fitting needs equal joined
    given names or compatible first given names, so the first spelling is filed under those."""

    def __init__(self) -> None:
        self.members: list[list[int]] = []
        self.spellings: list[dict[str, None]] = []
        self._by: dict[tuple[str, str], list[int]] = {}
        self._anywhere: list[int] = []  # first spelling without a usable first given name: fits anything

    def add(self, i: int, name: str) -> int:
        at = len(self.members)
        self.members.append([i])
        self.spellings.append({name: None})
        f = _form(name)
        if not f.parts or not f.parts[0][1]:
            self._anywhere.append(at)
            return at
        variants, first = f.parts[0]
        labels = {("j", f.joined or ""), ("l", first[:1])} | {("v", v) for v in variants}
        if len(first) == 1:
            labels.add(("s", first))
        for label in labels:
            self._by.setdefault(label, []).append(at)
        return at

    def candidates(self, name: str) -> list[int]:
        """Clusters that might take `name`, in cluster order (a superset: each still needs the full check)."""
        f = _form(name)
        if not f.parts or not f.parts[0][1]:
            return list(range(len(self.members)))
        variants, first = f.parts[0]
        found = set(self._anywhere)
        labels = [("j", f.joined or ""), ("s", first[:1])] + [("v", v) for v in variants]
        if len(first) == 1:
            labels.append(("l", first))
        for label in labels:
            found.update(self._by.get(label, ()))
        return sorted(found)

    def fits(self, at: int, name: str) -> bool:
        return _group_compatible(self.spellings[at], name)


def _cluster_loose(members: list[int], names: list[str]) -> list[list[int]]:
    """Split id-less records of one key into people whose given names agree.

    Works on distinct spellings: clusters only grow, so a spelling seen before lands where it did (a cluster
    that refused it still refuses it, and its own still fits it), except an initial that fitted several.
    """
    full = _Clusters()
    initials: list[int] = []
    placed: dict[str, int] = {}  # name -> its full cluster
    is_initial: dict[str, bool] = {}
    for i in members:
        name = names[i]
        ini = is_initial.get(name)
        if ini is None:
            first = parse_name(name)[0]
            ini = is_initial[name] = not first or all(_is_initial(t) for t in first.split())
        if ini:
            initials.append(i)
            continue
        at = placed.get(name)
        if at is None:
            at = next((k for k in full.candidates(name) if full.fits(k, name)), -1)
            if at < 0:
                placed[name] = full.add(i, name)
                continue
            placed[name] = at
            full.spellings[at][name] = None
        full.members[at].append(i)
    rest: list[int] = []
    settled: dict[str, int] = {}  # initial -> its cluster (-1: rest) when it fitted one cluster or none
    for i in initials:
        name = names[i]
        at = settled.get(name)
        if at is None:
            hits: list[int] = []
            for k in full.candidates(name):
                if full.fits(k, name):
                    hits.append(k)
                    if len(hits) > 1:  # fits several people: it goes to the rest, whichever they are
                        break
            at = hits[0] if len(hits) == 1 else -1
            if len(hits) <= 1:
                settled[name] = at
        if at >= 0:
            full.members[at].append(i)
            full.spellings[at][name] = None
        else:
            rest.append(i)
    return full.members + ([rest] if rest else [])


def _identity(members: list[int], recs: list[tuple[str, str | None, str | None, str]]) -> Identity:
    names = [recs[i][0] for i in members]
    counts = Counter(names)
    # The most used spelling wins; ties go to the fullest (longest) one.
    best = max(counts, key=lambda n: (counts[n], len(n)))
    papers = list(dict.fromkeys(recs[i][3] for i in members))
    return Identity(
        key=name_key(best),
        name=best,
        names=list(counts),
        openalex_id=next((recs[i][1] for i in members if recs[i][1]), None),
        orcid=next((recs[i][2] for i in members if recs[i][2]), None),
        paper_ids=papers,
    )
