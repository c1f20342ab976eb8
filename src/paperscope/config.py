"""Settings from one TOML file plus environment variables; every setting is declared once, with its help.

Precedence: built-in default < config file < environment variable < command-line option.
"""

from __future__ import annotations

import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import platformdirs

from paperscope.errors import ConfigError
from paperscope.models import Topic

APP = "paperscope"


@dataclass(frozen=True, slots=True)
class Setting:
    name: str
    default: Any
    help: str
    env: str | None = None


SETTINGS: tuple[Setting, ...] = (
    Setting("contact", "", "Your e-mail address, sent in the User-Agent so arXiv and OpenAlex can reach you.",
            "PAPERSCOPE_CONTACT"),
    Setting("arxiv_api_url", "https://export.arxiv.org/api/query", "arXiv API endpoint."),
    Setting("arxiv_feed_url", "https://rss.arxiv.org/atom", "arXiv announcement feed base URL."),
    Setting("arxiv_oai_url", "https://oaipmh.arxiv.org/oai", "arXiv OAI-PMH endpoint."),
    Setting("arxiv_pace", 3.0, "Seconds between any two requests to arXiv. arXiv asks for at least 3, and "
            "requests to arxiv.org are never sent faster whatever this says; lower values only speed up a "
            "local mirror or test server given in the arxiv_*_url settings."),
    Setting("http_timeout", 60.0, "Seconds to wait for one HTTP answer."),
    Setting("http_retries", 4, "Retries on 429, 5xx, time-outs and dropped connections."),
    Setting("feed_categories", [], "Categories whose daily announcements `fetch` reads; default: the topics' own."),
    Setting("max_papers", 100, "Papers kept per topic in the digest when the topic does not say."),
    Setting("digest_dir", "", "Where `digest` writes its files when --out is not given."),
    Setting("openalex_url", "https://api.openalex.org", "OpenAlex API endpoint."),
    Setting("openalex_api_key", "", "OpenAlex API key.", "OPENALEX_API_KEY"),
    Setting("semanticscholar_url", "https://api.semanticscholar.org/graph/v1", "Semantic Scholar Graph API."),
    Setting("semanticscholar_api_key", "", "Semantic Scholar API key.", "S2_API_KEY"),
    Setting("enrich_max_age_days", 30, "Citation figures older than this are refreshed by `enrich`."),
    Setting("library_file", "", "Your own library (BibTeX, Zotero CSV/RDF export, or a list of arXiv ids/DOIs) "
            "for `recommend` and the digest's Recommended for you section.", "PAPERSCOPE_LIBRARY"),
    Setting("recommend_days", 14, "How far back the digest's Recommended for you section looks, in days."),
    # Delivery (`paperscope run` / `send`). Secrets never live here: the SMTP password comes from
    # $PAPERSCOPE_SMTP_PASSWORD or smtp_password_file, chat URLs from $PAPERSCOPE_CHAT_URLS or chat_config.
    Setting("smtp_host", "", "SMTP server that sends the digest by e-mail (empty: no e-mail).", "PAPERSCOPE_SMTP_HOST"),
    Setting("smtp_port", 0, "SMTP port (0: 587 for starttls, 465 for ssl, 25 for none)."),
    Setting("smtp_security", "starttls", "How to secure the SMTP connection: \"starttls\", \"ssl\" or \"none\"."),
    Setting("smtp_username", "", "SMTP login (empty: no login).", "PAPERSCOPE_SMTP_USERNAME"),
    Setting("smtp_password_file", "", "File holding the SMTP password (else $PAPERSCOPE_SMTP_PASSWORD)."),
    Setting("smtp_from", "", "The From address of digest e-mails (default: smtp_username or contact)."),
    Setting("email_max_bytes", 100_000, "Largest e-mail to send; a bigger digest is sent as a short list linking "
            "to digest_url (Gmail clips messages past about 102 kB)."),
    Setting("digest_url", "", "Where the digest is published on the web (linked from e-mails and chat)."),
    Setting("chat_config", "", "An apprise config file listing chat/push URLs (Slack, Discord, Telegram, Matrix, "
            "ntfy, ...); $PAPERSCOPE_CHAT_URLS works too."),
    Setting("tldr_url", "", "OpenAI-compatible endpoint for one-line TL;DRs, e.g. http://localhost:11434/v1 "
            "(empty: an extractive summary)."),
    Setting("tldr_model", "", "Model name sent to tldr_url."),
    Setting("tldr_api_key", "", "API key for tldr_url.", "PAPERSCOPE_TLDR_API_KEY"),
    Setting("tldr_batch", 8, "Papers summarised per request to tldr_url."),
    Setting("web_token", "", "Token `paperscope serve` asks for before any change (ratings, follows); needed to "
            "listen beyond 127.0.0.1. Empty: a fresh one is printed at each start.", "PAPERSCOPE_WEB_TOKEN"),
    Setting("web_public_reads", True, "Whether `paperscope serve` shows pages and the JSON API without the token."),
    Setting("web_cache_seconds", 2.0, "Seconds `paperscope serve` reuses a rendered page (changes through it "
            "clear them at once).", "PAPERSCOPE_WEB_CACHE_SECONDS"),
)
_BY_NAME = {s.name: s for s in SETTINGS}
# (lowest, highest) for each numeric setting: NaN, infinities and out-of-range values are refused, since
# pace = nan silently turned pacing off and http_retries = -1 sent nothing at all.
_RANGES: dict[str, tuple[float, float]] = {
    "arxiv_pace": (0.0, 600.0),
    "http_timeout": (0.1, 3600.0),
    "http_retries": (0, 20),
    "max_papers": (1, 100_000),
    "enrich_max_age_days": (0, 36_500),
    "recommend_days": (1, 3650),
}
_CATEGORY = re.compile(r"[a-z\-]+(\.[A-Za-z\-]+)?")


def default_config_path() -> Path:
    return Path(platformdirs.user_config_dir(APP)) / "config.toml"


def default_db_path() -> Path:
    return Path(platformdirs.user_data_dir(APP)) / "library.db"


@dataclass(slots=True)
class Config:
    """Everything paperscope reads from its config file, resolved."""

    path: Path | None
    values: dict[str, Any] = field(default_factory=dict)
    topics: list[Topic] = field(default_factory=list)
    recipients: list[Any] = field(default_factory=list)  # paperscope.delivery.recipients.Recipient

    def __getattr__(self, name: str) -> Any:
        if name in _BY_NAME:
            return self.values.get(name, _BY_NAME[name].default)
        raise AttributeError(name)


def _line_of(text: str, table: str | None, index: int, key: str | None) -> int | None:
    """Best-effort line number of `key` inside the index-th `[[table]]` (or the top level)."""
    current, seen = None, -1
    for no, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if s.startswith("[["):
            current = s.strip("[] ")
            if current == table:
                seen += 1
                if key is None and seen == index:
                    return no
            continue
        if s.startswith("["):
            current = s.strip("[] ")
            continue
        in_place = (table is None and current is None) or (current == table and seen == index)
        if in_place and key and re.match(rf"{re.escape(key)}\s*=", s):
            return no
    return None


def load_config(path: str | Path | None = None, *, must_exist: bool = False) -> Config:
    """Read the config: `path`, else $PAPERSCOPE_CONFIG, else the platform's config folder; absent means defaults."""
    chosen = Path(path) if path else Path(os.environ["PAPERSCOPE_CONFIG"]) if os.environ.get("PAPERSCOPE_CONFIG") \
        else default_config_path()
    values: dict[str, Any] = {}
    topics: list[Topic] = []
    recipients: list[Any] = []
    if chosen.exists():
        text = _read_text(chosen)
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"{chosen}: {e}") from e
        except RecursionError:
            raise ConfigError(f"{chosen}: arrays or tables nested too deeply") from None
        values, topics = _validate(data, text, chosen)
        recipients = _recipients(data, text, chosen, [t.name for t in topics])
    elif must_exist or path:
        raise ConfigError(f"{chosen}: no such config file (run `paperscope init` to write one)")
    for s in SETTINGS:
        if s.env and os.environ.get(s.env):
            values[s.name] = _coerce(os.environ[s.env], s, f"${s.env}")
            problem = _check_value(s.name, values[s.name])
            if problem:
                raise ConfigError(f"${s.env}: {problem}")
    return Config(chosen if chosen.exists() else None, values, topics, recipients)


def _recipients(data: dict[str, Any], text: str, path: Path, topic_names: list[str]) -> list[Any]:
    from paperscope.delivery.recipients import parse_recipients  # late: delivery is a layer above config

    def fail(msg: str, table: str | None, index: int, key: str | None) -> ConfigError:
        line = _line_of(text, table, index, key)
        return ConfigError(f"{path}:{line}: {msg}" if line else f"{path}: {msg}")

    return parse_recipients(data.get("recipients", []), topic_names, fail)


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read ({e.strerror or e})") from None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        line = data[: e.start].count(b"\n") + 1
        raise ConfigError(f"{path}:{line}: not UTF-8 text (byte 0x{data[e.start]:02x}); "
                          "save the file as UTF-8") from None


def _check_value(key: str, value: Any) -> str | None:
    """What is wrong with a setting's value beyond its type (range, NaN, list items), or None."""
    if key in _RANGES:
        lo, hi = _RANGES[key]
        if isinstance(value, float) and not math.isfinite(value):
            return f"{key} must be a finite number, got {value}"
        if not lo <= value <= hi:
            return f"{key} must be between {lo:g} and {hi:g}, got {value:g}"
    elif key == "feed_categories":
        bad = [c for c in value if not isinstance(c, str) or not _CATEGORY.fullmatch(c)]
        if bad:
            return f"feed_categories must list arXiv categories like \"cs.CL\", got {str(bad[0])[:40]!r}"
    return None


def _coerce(raw: str, s: Setting, where: str) -> Any:
    try:
        if isinstance(s.default, bool):
            return raw.lower() in ("1", "true", "yes")
        if isinstance(s.default, int):
            return int(raw)
        if isinstance(s.default, float):
            return float(raw)
        if isinstance(s.default, list):
            return [x for x in re.split(r"[,\s]+", raw) if x]
    except ValueError as e:
        raise ConfigError(f"{where}: {s.name} must be a {type(s.default).__name__}, got {raw!r}") from e
    return raw


# Settings earlier versions read that no longer do anything: accepted and ignored, so an old config still loads.
RETIRED = {"author_score_weights": "an author's AI Score now comes from their papers' actual and predicted percentiles"}


def _validate(data: dict[str, Any], text: str, path: Path) -> tuple[dict[str, Any], list[Topic]]:
    def fail(msg: str, table: str | None = None, index: int = 0, key: str | None = None) -> ConfigError:
        line = _line_of(text, table, index, key)
        return ConfigError(f"{path}:{line}: {msg}" if line else f"{path}: {msg}")

    values: dict[str, Any] = {}
    for key, value in data.items():
        if key in ("topics", "recipients") or key in RETIRED:
            continue
        s = _BY_NAME.get(key)
        if s is None:
            known = ", ".join(sorted(_BY_NAME))
            raise fail(f"unknown setting {key!r} (known: {known}, topics)", key=key)
        expected = type(s.default)
        ok = isinstance(value, expected) or (expected is float and isinstance(value, int))
        if not ok or isinstance(value, bool) != isinstance(s.default, bool):
            raise fail(f"{key} must be a {expected.__name__}, got {type(value).__name__}", key=key)
        value = float(value) if expected is float else value
        problem = _check_value(key, value)
        if problem:
            raise fail(problem, key=key)
        values[key] = value
    raw_topics = data.get("topics", [])
    if not isinstance(raw_topics, list):
        raise fail("topics must be an array of tables: write each topic under its own [[topics]]", key="topics")
    topics: list[Topic] = []
    names: set[str] = set()
    default_max = values.get("max_papers", _BY_NAME["max_papers"].default)
    for i, t in enumerate(raw_topics):
        where = f"topic #{i + 1}"
        if not isinstance(t, dict):
            raise fail(f"{where}: must be a table", "topics", i)
        for key in t:
            if key not in ("name", "query", "categories", "max_papers", "order"):
                raise fail(f"{where}: unknown field {key!r} (name, query, categories, max_papers, order)",
                           "topics", i, key)
        name, query = t.get("name"), t.get("query")
        if not isinstance(name, str) or not name.strip():
            raise fail(f"{where}: field 'name' must be a non-empty string", "topics", i, "name" if "name" in t else None)
        if name in names:
            raise fail(f"{where}: field 'name' repeats topic {name!r}", "topics", i, "name")
        names.add(name)
        if not isinstance(query, str) or not query.strip():
            raise fail(f"topic {name!r}: field 'query' must be a non-empty string", "topics", i,
                       "query" if "query" in t else None)
        cats = t.get("categories", [])
        if not isinstance(cats, list) or not all(isinstance(c, str) and re.fullmatch(r"[a-z\-]+(\.[A-Za-z\-]+)?", c)
                                                  for c in cats):
            raise fail(f"topic {name!r}: field 'categories' must be a list of arXiv categories like \"cs.CL\"",
                       "topics", i, "categories")
        mp = t.get("max_papers", default_max)
        if not isinstance(mp, int) or isinstance(mp, bool) or not 1 <= mp <= _RANGES["max_papers"][1]:
            raise fail(f"topic {name!r}: field 'max_papers' must be an integer from 1 to "
                       f"{_RANGES['max_papers'][1]:,}", "topics", i, "max_papers")
        order = t.get("order", "date")
        if order not in ("date", "novelty", "fit"):
            raise fail(f"topic {name!r}: field 'order' must be \"date\", \"novelty\" or \"fit\"", "topics", i, "order")
        from paperscope.query import parse_query  # late: query imports nothing of config
        from paperscope.errors import QueryError

        try:
            parse_query(query)
        except QueryError as e:
            raise fail(f"topic {name!r}: field 'query': {e}", "topics", i, "query") from e
        topics.append(Topic(name=name.strip(), query=query, categories=list(cats), max_papers=mp, order=order))
    return values, topics


STARTER = '''# paperscope configuration. Every setting is optional; `paperscope config` lists them all with their help.

# Your e-mail address: arXiv and OpenAlex like to know who is asking (sent in the User-Agent).
# contact = "you@example.org"

# Seconds between any two requests to arXiv. arXiv asks for at least 3.
# arxiv_pace = 3.0

# OpenAlex asks for an API key; the environment variable OPENALEX_API_KEY works too.
# openalex_api_key = ""

# Each [[topics]] table is one topic of your digest.
#   query:      words, "phrases", AND / OR / NOT and parentheses. OR binds tightest, then AND, then NOT:
#               '"reward model" OR RLHF NOT survey' means ("reward model" OR RLHF) NOT survey.
#               A word also matches its other forms (hallucination finds hallucinations).
#               Field prefixes: ti: (title), abs: (abstract), au: (author), co: (comment), cat: (category).
#   categories: optional arXiv categories the paper must be in (any of them).
#   max_papers: how many of the newest papers the digest keeps (default 100).
#   order:      "date" (newest first, default), "novelty" (most novel first) or "fit" (closest to library_file);
#               the last two need `paperscope embed` and `paperscope novelty`.

# Your own library for recommendations (BibTeX, Zotero CSV/RDF export, or a list of arXiv ids / DOIs):
# library_file = "~/papers/library.bib"

[[topics]]
name = "Reward Model"
query = '"reward model" OR RLHF NOT survey'
categories = ["cs.CL", "cs.LG"]
max_papers = 100

[[topics]]
name = "Hallucination"
query = 'hallucination AND ("large language model" OR LLM OR VLM)'

[[topics]]
name = "Diffusion Models"
query = '"diffusion model" OR "score-based"'
categories = ["cs.CV", "cs.LG"]
'''


def write_starter(path: Path | None = None, *, force: bool = False) -> Path:
    """Write the commented starter config; refuses to overwrite unless `force`."""
    target = path or default_config_path()
    if target.exists() and not force:
        raise ConfigError(f"{target}: already exists (use --force to overwrite)")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(STARTER, encoding="utf-8")
    return target
