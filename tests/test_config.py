"""Config: TOML topics as an array of tables, env overrides, errors that name file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from paperscope.config import SETTINGS, STARTER, load_config, write_starter
from paperscope.errors import ConfigError


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "config.toml"
    p.write_text(text, encoding="utf-8")
    return p


def test_issue_example_topic_loads(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, '''
[[topics]]
name = "Reward Model"
query = '"reward model" OR RLHF NOT survey'
categories = ["cs.CL", "cs.LG"]   # optional
max_papers = 100                   # optional, default 100

[[topics]]
name = "Graphs"
query = "graph neural network"
'''))
    assert [t.name for t in cfg.topics] == ["Reward Model", "Graphs"]
    t = cfg.topics[0]
    assert (t.query, t.categories, t.max_papers) == ('"reward model" OR RLHF NOT survey', ["cs.CL", "cs.LG"], 100)
    assert cfg.topics[1].categories == [] and cfg.topics[1].max_papers == 100


def test_starter_config_is_valid_and_not_overwritten(tmp_path: Path) -> None:
    path = write_starter(tmp_path / "sub" / "config.toml")
    cfg = load_config(path)
    assert len(cfg.topics) == 3 and cfg.topics[0].name == "Reward Model"
    with pytest.raises(ConfigError, match="already exists"):
        write_starter(path)
    assert "[[topics]]" in STARTER


@pytest.mark.parametrize(
    "text, pattern",
    [
        ('[[topics]]\nname = "A"\nquery = "x"\nmax_papers = "ten"\n', r"config.toml:4: topic 'A': field 'max_papers'"),
        ('[[topics]]\nname = "A"\nquery = "x"\n\n[[topics]]\nname = "B"\nquery = "(unbalanced"\n',
         r"config.toml:7: topic 'B': field 'query'"),
        ('[[topics]]\nname = "A"\nquery = "x"\ncategories = "cs.CL"\n', r"config.toml:4: .*'categories'"),
        ('[[topics]]\nquery = "x"\n', r"config.toml:1: topic #1: field 'name'"),
        ('[[topics]]\nname = "A"\nquery = "x"\ncolour = 1\n', r"config.toml:4: .*unknown field 'colour'"),
        ('arxiv_pace = "fast"\n', r"config.toml:1: arxiv_pace must be a float"),
        ('no_such_setting = 1\n', r"config.toml:1: unknown setting 'no_such_setting'"),
        ('[[topics]]\nname = "A"\nquery = "x"\n[[topics]]\nname = "A"\nquery = "y"\n', r"config.toml:5: .*repeats"),
        ('topics = "x"\n', r"config.toml:1: topics must be an array of tables"),
        ('[[topics]\nname=1', r"config.toml: .*line 1"),
    ],
)
def test_bad_config_names_file_line_and_field(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_config(write(tmp_path, text))


def test_environment_overrides_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'openalex_api_key = "from-file"\ncontact = "a@b.c"\n')
    monkeypatch.setenv("OPENALEX_API_KEY", "from-env")
    monkeypatch.setenv("PAPERSCOPE_CONFIG", str(path))
    cfg = load_config()
    assert cfg.openalex_api_key == "from-env" and cfg.contact == "a@b.c"
    assert cfg.arxiv_pace == 3.0  # default


def test_missing_explicit_config_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="paperscope init"):
        load_config(tmp_path / "nope.toml")


def test_every_setting_has_help() -> None:
    for s in SETTINGS:
        assert s.help.strip().endswith("."), s.name
        assert s.name.islower()


@pytest.mark.parametrize("line, pattern", [
    ("arxiv_pace = nan", "arxiv_pace must be a finite number"),       # used to turn pacing off silently
    ("arxiv_pace = inf", "arxiv_pace must be a finite number"),       # used to end in a traceback
    ("arxiv_pace = -1.0", "arxiv_pace must be between 0 and 600"),
    ("http_timeout = nan", "http_timeout must be a finite number"),
    ("http_timeout = 0", "http_timeout must be between 0.1 and 3600"),
    ("http_retries = -1", "http_retries must be between 0 and 20"),   # used to send no request at all
    ("http_retries = 1000000", "http_retries must be between 0 and 20"),
    ("max_papers = 0", "max_papers must be between 1"),
    ("recommend_days = -3", "recommend_days must be between 1"),
    ("enrich_max_age_days = 9223372036854775807", "enrich_max_age_days must be between 0"),
    ("feed_categories = [1, 2]", "feed_categories must list arXiv categories"),
    ('feed_categories = ["cs.CL", "not a category"]', "feed_categories must list"),
])
def test_numeric_settings_are_checked_for_range_and_nan(tmp_path: Path, line: str, pattern: str) -> None:
    path = write(tmp_path, f'contact = "a@b.c"\n{line}\n')
    with pytest.raises(ConfigError, match=rf"config.toml:2: {pattern}"):
        load_config(path)


def test_a_pace_under_three_seconds_is_accepted_for_a_local_server(tmp_path: Path) -> None:
    cfg = load_config(write(tmp_path, 'arxiv_api_url = "http://127.0.0.1:8080/api/query"\narxiv_pace = 0.0\n'))
    assert cfg.arxiv_pace == 0.0  # the HTTP client still paces arxiv.org at 3 s (tests/test_http.py)


def test_a_config_file_that_is_not_utf8_is_one_line_naming_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_bytes(b'contact = "a@b.c"\n# caf\xe9 in Latin-1\n')
    with pytest.raises(ConfigError, match=r"config.toml:2: not UTF-8 text \(byte 0xe9\)"):
        load_config(path)


def test_a_topic_max_papers_beyond_range_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path, '[[topics]]\nname = "A"\nquery = "x"\nmax_papers = 10000000000\n')
    with pytest.raises(ConfigError, match="config.toml:4: topic 'A': field 'max_papers'"):
        load_config(path)


def test_tables_nested_too_deeply_are_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "x = " + "[" * 5000 + "]" * 5000 + "\n")
    with pytest.raises(ConfigError, match="config.toml"):
        load_config(path)


def test_a_retired_setting_is_accepted_and_ignored(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from paperscope.config import load_config

    path = tmp_path / "old.toml"
    path.write_text("author_score_weights = { papers = 1.0 }\nrecommend_days = 7\n", encoding="utf-8")
    cfg = load_config(path)
    assert cfg.recommend_days == 7 and not hasattr(cfg, "author_score_weights")
