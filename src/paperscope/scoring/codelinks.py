"""Find links to code (and project pages) in an arXiv abstract and comment.

Pure functions, no network. arXiv text breaks URLs in many ways: line breaks and spaces inside
them ("https://github.com/ foo/bar", "https: //github. com/x"), LaTeX wrappers (\\url{...},
\\href{...}{...}, "github$.$com"), trailing sentence punctuation. `_repair` undoes these before
the URLs are read; `_kind` then decides, from the host and the words just before the URL, whether
a link is code, a Hugging Face artefact, a project page, or nothing we care about.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

__all__ = ["CODE_KINDS", "KINDS", "CodeLink", "find_code_links", "has_code", "primary_code_url"]

KINDS = frozenset({
    "github", "gitlab", "huggingface-model", "huggingface-dataset", "huggingface-space",
    "codeberg", "bitbucket", "other-code", "project-page",
})
# Kinds that mean "the source is there". Hugging Face models and datasets are artefacts, not
# code, and a project page only links onwards.
CODE_KINDS = frozenset({"github", "gitlab", "codeberg", "bitbucket", "other-code"})


@dataclass(frozen=True, slots=True)
class CodeLink:
    """A cleaned-up URL found in the text and what it points at (one of KINDS).

    `claimed_code` is True when the words just before the URL say code is there ("Code:",
    "our implementation is available at"), whatever the host.
    """

    url: str
    kind: str
    claimed_code: bool = False

    @property
    def is_code(self) -> bool:
        """Source code is there: a code host, or a URL the authors introduce as code."""
        return self.kind in CODE_KINDS or (self.claimed_code and self.kind != "project-page")


# --- repairing the text ------------------------------------------------------------------------

_CONT_STOP = {
    "and", "or", "the", "a", "an", "to", "for", "of", "in", "on", "at", "with", "by", "from",
    "code", "codes", "is", "are", "will", "be", "as", "our", "we", "this", "that", "which",
    "project", "page", "data", "dataset", "datasets", "models", "model", "respectively",
    "accepted", "pages", "figures", "github", "demo", "website", "available", "also", "more",
    "all", "its", "their", "under", "via", "here", "paper", "submitted",
}
_TLDS = r"(?:com|io|co|org|net|ai|edu|science|dev|app|page|me|info|cn|de|fr|uk|jp|kr|ch)"


_HREF_RE = re.compile(r"\\href\s*\{([^{}]*)\}\s*\{(?:[^{}]|\{[^{}]*\})*\}")
_URL_CMD_RE = re.compile(r"\\(?:url|path|texttt|nolinkurl)\s*\{([^{}]*)\}")
_SPLIT_SCHEME_RE = re.compile(r"\b(https?)\s*:\s*/\s*/\s*", re.IGNORECASE)
# Lookahead first: it fails at once wherever no "http" starts, so the text is scanned fast.
_GLUED_URL_RE = re.compile(r"(?=https?://)(?<=\S)")
_HTTP_RUN_RE = re.compile(r"https?://\S+")
_NEXT_TOKEN_RE = re.compile(r"\s+(\S+)")
_PATH_CHAR_RE = re.compile(r"[/_\-0-9A-Z]")
_CLAUSE_SPLIT_RE = re.compile(r"https?://\S+|(?<=[a-z0-9)\]])[.;!?](?:\s|$)")
_AFTER_SPLIT_RE = re.compile(r"([.;!?](?:\s|$)|https?://|\b(?:github|gitlab)\.com/)")
_SCHEME_RE = re.compile(r"https?://", re.IGNORECASE)


def _unlatex(t: str) -> str:
    t = _HREF_RE.sub(r" \1 ", t)
    t = _URL_CMD_RE.sub(r" \1 ", t)
    t = t.replace("$.$", ".").replace("{.}", ".").replace("\\_", "_").replace("\\#", "#")
    t = t.replace("\\%", "%").replace("\\&", "&").replace("\\~{}", "~").replace("$\\sim$", "~")
    t = t.replace("\\textasciitilde{}", "~").replace("\\slash", "/")
    return t


# Python's regex engine tries a case-blind alternation at every position of a text, which made the three scans
# below most of the cost of a text with a URL (~90 us an abstract). They start only where a fixed mark does, so
# the marks are found with str.find and each scan is tried at those places alone: the same matches, in the same
# order, since a pattern matched at a position sees the text before it (look-behinds and \b) as a search would.
# Lower-casing keeps each ASCII letter in place unless the text holds a letter a case-blind pattern equates with
# an ASCII one but lower() does not map to it (dotless i, dotted I, long s), or one whose lower case is longer:
# such texts take the plain scans.
_CASE_ODD = ("\u0130", "\u0131", "\u017f")


def _plain_case(text: str, low: str) -> bool:
    return len(low) == len(text) and not any(c in text for c in _CASE_ODD)


def _places(low: str, marks: tuple[str, ...]) -> list[int]:
    """Every position where one of the marks starts in `low`, in order."""
    found: set[int] = set()
    for mark in marks:
        i = low.find(mark)
        while i >= 0:
            found.add(i)
            i = low.find(mark, i + 1)
    return sorted(found)


def _matches_at(pattern: re.Pattern[str], text: str, places: list[int]) -> list[re.Match[str]]:
    """`pattern.finditer(text)` when every match can only start at one of `places`."""
    out: list[re.Match[str]] = []
    end = 0
    for i in places:
        if i < end:
            continue
        m = pattern.match(text, i)
        if m is not None:
            out.append(m)
            end = m.end()
    return out


def _split_schemes_joined(t: str) -> str:
    """`_SPLIT_SCHEME_RE.sub(r"\\1://", t)`: it changes a text only where a scheme is written with spaces."""
    low = t.lower()
    if not _plain_case(t, low):
        return _SPLIT_SCHEME_RE.sub(r"\1://", t)
    for m in _matches_at(_SPLIT_SCHEME_RE, t, _places(low, ("http",))):
        if m.group() != m.group(1) + "://":
            return _SPLIT_SCHEME_RE.sub(r"\1://", t)
    return t


def _unglue_urls(t: str) -> str:
    """`_GLUED_URL_RE.sub(" ", t)`: a space before each "http://" or "https://" that follows a non-space."""
    cuts: list[int] = []
    i = t.find("http", 1)
    while i > 0:
        if (t.startswith("://", i + 4) or t.startswith("s://", i + 4)) and not t[i - 1].isspace():
            cuts.append(i)
        i = t.find("http", i + 1)
    if not cuts:
        return t
    parts = [t[a:b] for a, b in zip([0, *cuts], [*cuts, len(t)])]
    return " ".join(parts)


def _join_breaks(t: str) -> str:
    """Glue URLs that line breaks or stray spaces cut in two."""
    t = _split_schemes_joined(t)
    # A URL glued to the word before it ("code:https://", "githubhttps://") starts afresh.
    t = _unglue_urls(t)
    out: list[str] = []
    pos = 0
    for m in _HTTP_RUN_RE.finditer(t):
        if m.start() < pos:
            continue
        url, end = m.group(), m.end()
        while True:
            nxt = _NEXT_TOKEN_RE.match(t, end)
            if not nxt or nxt.group(1).startswith("http"):
                break
            token = nxt.group(1)
            bare = token.rstrip(".,;:)]}'\"")
            if not bare or bare.lower() in _CONT_STOP:
                break
            host_open = "/" not in url.split("://", 1)[1]
            path_like = bool(_PATH_CHAR_RE.search(bare)) or bare.endswith(".git")
            if (
                # "https://github.\ncom/x", "https://foo.github. io/x"
                (host_open and url.endswith(".") and re.match(
                    _TLDS + r"\b|[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?:/|$)", bare))
                # "https://huajian- zeng.github.io", "https://github.com/KD- OCT"
                or (url.endswith("-") and re.match(r"[\w.]", bare))
                # "https://github.com/ foo/bar", "https://x.github.io/ sail-recon/"
                or (url.endswith("/") and (path_like or url.count("/") <= 3))
            ):
                url += token
                end = nxt.end()
                continue
            break
        out.append(t[pos:m.start()])
        out.append(url)
        pos = end
    out.append(t[pos:])
    return "".join(out)


def _repair(text: str) -> str:
    return _join_breaks(_unlatex(text or ""))


# --- finding and cleaning URLs -----------------------------------------------------------------

_BARE_HOSTS = (
    r"(?:www\.)?(?:github\.com|gitlab\.com|huggingface\.co|hf\.co|codeberg\.org|bitbucket\.org"
    r"|anonymous\.4open\.science|gitee\.com|[\w-]+\.github\.io)"
)
_URL_RE = re.compile(
    r"(?:https?://|\bwww\.|(?<![\w./@-])" + _BARE_HOSTS + r"/)[^\s<>\"{}|\\^`]+",
    flags=re.IGNORECASE,
)
# The same pattern without its `name.github.io` branch, which tries a word match at every position of the text:
# for a text that does not contain ".github.io" the two find exactly the same URLs, the second 2-3x faster.
_URL_RE_NO_PAGES = re.compile(
    r"(?:https?://|\bwww\.|(?<![\w./@-])" + _BARE_HOSTS.replace(r"|[\w-]+\.github\.io", "") + r"/)[^\s<>\"{}|\\^`]+",
    flags=re.IGNORECASE,
)
# Where a URL _URL_RE finds can start: a scheme, "www." or a bare host (a "name.github.io" host starts with the
# run of word characters before ".github.io").
_URL_STARTS = ("http", "www.", "github.com", "gitlab.com", "huggingface.co", "hf.co", "codeberg.org",
               "bitbucket.org", "anonymous.4open.science", "gitee.com")
# Text without any of these (after LaTeX is undone) holds no URL _URL_RE can find.
_URL_MARKS = (*_URL_STARTS, ".github.io")
_RUN_END_RE = re.compile(r"[\w-]+\Z")


def _urls_in(text: str) -> list[re.Match[str]]:
    """`_URL_RE.finditer(text)`, the pattern tried only where a URL can start."""
    low = text.lower()
    pages = ".github.io" in low
    if not _plain_case(text, low):
        return list((_URL_RE if pages else _URL_RE_NO_PAGES).finditer(text))
    places = _places(low, _URL_STARTS)
    if pages:
        runs = set(places)
        for i in _places(low, (".github.io",)):
            back = 64
            while True:
                m = _RUN_END_RE.search(text, max(0, i - back), i)
                if m is None or m.start() > max(0, i - back) or i - back <= 0:
                    break
                back *= 2  # the run may start further back
            if m is not None:
                runs.add(m.start())
        places = sorted(runs)
    return _matches_at(_URL_RE if pages else _URL_RE_NO_PAGES, text, places)


def _trim(url: str) -> str:
    url = url.split("](", 1)[0]  # Markdown "[text](url)" pasted into a comment
    url = url.rstrip(".,;:!?'\"*")
    # Drop closing brackets that close something outside the URL.
    for close, open_ in ((")", "("), ("]", "["), ("}", "{")):
        while url.endswith(close) and url.count(close) > url.count(open_):
            url = url[:-1].rstrip(".,;:!?'\"*")
    return url


def _normalise(url: str) -> str:
    url = _trim(url)
    if not _SCHEME_RE.match(url):
        url = "https://" + url
    parts = urlsplit(url)
    host = parts.netloc.lower()
    path = parts.path
    if host in ("github.com", "www.github.com", "gitlab.com", "www.gitlab.com"):
        host = host.removeprefix("www.")
        path = re.sub(r"\.git$", "", path.rstrip("/"))
    rest = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    return f"{parts.scheme.lower()}://{host}{path}{rest}"


# --- deciding what a URL is --------------------------------------------------------------------

_CODE_WORDS = re.compile(
    r"(?i)\b(?:code|codes|codebase|source|sources|implementation|implementations|repository|"
    r"repositories|repo|software|package|library|toolkit|toolbox|scripts|open[- ]?sourced?|pip|"
    r"github|gitlab)\b"
)
_PAGE_WORDS = re.compile(
    r"(?i)\b(?:project\s+(?:page|website|site|webpage)|home\s*page|web\s*site|web\s*page|page|"
    r"demos?|videos?|visuali[sz]ations?|samples?|examples?|results|audio|gallery|leaderboard)\b"
)
_PAGE_HOSTS = re.compile(
    r"(?i)(?:\.github\.io|\.gitlab\.io|^sites\.google\.com|\.pages\.dev|\.netlify\.app|"
    r"\.vercel\.app|\.readthedocs\.io)$"
)
_CODE_HOSTS = re.compile(
    r"(?i)^(?:anonymous\.4open\.science|gitee\.com|git\..+|gitlab\..+|.+\.gitlab\..+|"
    r"gitea\..+|sourceforge\.net|archive\.softwareheritage\.org|code\.google\.com)$"
)
# Publishers, archives and video sites: whatever the words around them say, not code.
_NEVER_CODE = re.compile(
    r"(?i)(?:^|\.)(?:doi\.org|arxiv\.org|openreview\.net|sciencedirect\.com|springer\.com|"
    r"ieeexplore\.ieee\.org|dl\.acm\.org|aclanthology\.org|youtube\.com|youtu\.be|"
    r"vimeo\.com|twitter\.com|x\.com|linkedin\.com|wiley\.com|nature\.com|mdpi\.com|"
    r"proceedings\.mlr\.press|neurips\.cc|papers\.nips\.cc|openaccess\.thecvf\.com|"
    r"semanticscholar\.org|researchgate\.net)$"
)
_HF_RESERVED = {
    "papers", "docs", "blog", "learn", "join", "login", "settings", "pricing", "tasks",
    "organizations", "new", "enterprise", "chat", "inference-endpoints",
}
_GITHUB_RESERVED = {"topics", "features", "marketplace", "about", "sponsors", "pricing", "explore", "login"}


def _context(text: str, start: int, end: int) -> tuple[str, str]:
    """The clause before a URL (back to the previous URL or sentence end) and a little after.

    The text after is kept only when no other URL follows closely: in "X: url1 Code: url2" the
    word "Code" belongs to url2, not url1.
    """
    before = text[max(0, start - 120):start]
    before = _CLAUSE_SPLIT_RE.split(before)[-1]
    after = text[end:end + 40]
    parts = _AFTER_SPLIT_RE.split(after, maxsplit=1)
    if len(parts) > 1 and not re.match(r"[.;!?]", parts[1]):
        return before, ""
    return before, parts[0]


def _kind(url: str, before: str, after: str) -> str | None:
    parts = urlsplit(url)
    host = parts.netloc.lower().removeprefix("www.")
    segs = [s for s in parts.path.split("/") if s]
    if host in ("github.com", "raw.githubusercontent.com", "gist.github.com"):
        return "github" if segs and segs[0].lower() not in _GITHUB_RESERVED else None
    if host == "gitlab.com":
        return "gitlab" if segs else None
    if host == "codeberg.org":
        return "codeberg" if segs else None
    if host == "bitbucket.org":
        return "bitbucket" if segs else None
    if host in ("huggingface.co", "hf.co"):
        if not segs or segs[0].lower() in _HF_RESERVED:
            return None
        if segs[0] == "datasets":
            return "huggingface-dataset" if len(segs) > 1 else None
        if segs[0] == "spaces":
            return "huggingface-space" if len(segs) > 1 else None
        return "huggingface-model"
    if host == "anonymous.4open.science":
        # /r/<name> is an anonymised repository, /w/<name> its rendered web page.
        return "project-page" if segs[:1] == ["w"] else "other-code"
    if _CODE_HOSTS.match(host):
        return "other-code"
    if _NEVER_CODE.search(host):
        return None
    # Elsewhere the words decide: the nearest claim before the URL wins.
    if _claims_code(before):
        return "other-code"
    if _PAGE_WORDS.search(before) or _PAGE_HOSTS.search(host):
        return "project-page"
    if _CODE_WORDS.search(after) and not _PAGE_WORDS.search(after):
        return "other-code"
    if _PAGE_WORDS.search(after):
        return "project-page"
    return None


def _pairs_code_and_page(before: str) -> bool:
    # "code and demos are available at", "project page and code:": both promised at one URL.
    return bool(re.search(r"(?i)\bcodes?\s+(?:and|&)\s+\w+|\b\w+\s+(?:and|&)\s+codes?\b", before))


def _links_in(text: str) -> list[CodeLink]:
    if not text:
        return []
    # The same steps as _repair, each skipped when it cannot change the text: every LaTeX form _unlatex undoes
    # has a backslash, '$' or '{', and every break _join_breaks glues follows an "http". Most abstracts and
    # comments reach here without any URL, and return at the marks check.
    t = _unlatex(text) if ("\\" in text or "$" in text or "{" in text) else text
    low = t.lower()
    if not any(mark in low for mark in _URL_MARKS):
        return []
    fixed = _join_breaks(t) if "http" in low else t
    links: list[CodeLink] = []
    for m in _urls_in(fixed):
        url = _normalise(m.group())
        if not urlsplit(url).netloc or "." not in urlsplit(url).netloc:
            continue
        before, after = _context(fixed, m.start(), m.end())
        kind = _kind(url, before, after)
        if kind:
            links.append(CodeLink(url, kind, _claims_code(before)))
    return links


def _claims_code(before: str) -> bool:
    """The nearest promise before the URL is about code, not about a page or demo."""
    code = list(_CODE_WORDS.finditer(before))
    page = list(_PAGE_WORDS.finditer(before))
    if not code:
        return False
    return not page or code[-1].start() > page[-1].start() or _pairs_code_and_page(before)


def find_code_links(abstract: str, comment: str = "") -> list[CodeLink]:
    """Every code, Hugging Face and project-page link in the abstract then the comment, once each."""
    seen: dict[str, CodeLink] = {}
    for link in _links_in(abstract) + _links_in(comment):
        key = link.url.lower().rstrip("/")
        if key not in seen:
            seen[key] = link
    return list(seen.values())


def has_code(abstract: str, comment: str = "") -> bool:
    """True when the text links to source code (a repository, or a URL introduced as code)."""
    return any(link.is_code for link in find_code_links(abstract, comment))


def _is_repo(link: CodeLink) -> bool:
    segs = [s for s in urlsplit(link.url).path.split("/") if s]
    return link.kind not in ("github", "gitlab", "codeberg", "bitbucket") or len(segs) >= 2


def primary_code_url(abstract: str, comment: str = "") -> str | None:
    """The first code link: a repository on a code host first, then a user or organisation
    page there, then any other URL the text introduces as code."""
    links = find_code_links(abstract, comment)
    hosted = [link for link in links if link.kind in CODE_KINDS]
    if hosted:
        return next((link.url for link in hosted if _is_repo(link)), hosted[0].url)
    return next((link.url for link in links if link.is_code), None)
