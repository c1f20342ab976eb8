"""Topic query language: parsing, FTS5 translation checked on a real SQLite FTS5 table, arXiv syntax."""

from __future__ import annotations

from collections.abc import Sequence

import json
import random
import re
import sqlite3
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from paperscope.errors import QueryError
from paperscope.query import And, Node, Not, Or, Phrase, Query, Term, date_range, parse_query, updated_range

FIXTURE = Path(__file__).parent / "fixtures" / "query" / "papers.jsonl"
ALL_TEXT = "{title abstract authors comment}"


def fts5(query: Query, categories: Sequence[str] = ()) -> str:
    """The SQLite backend's MATCH expression for a parsed query (what the store runs)."""
    from paperscope.store.api import PaperQuery
    from paperscope.store.fts5 import compile_match

    out = compile_match(PaperQuery(query, tuple(categories)))
    assert out is not None
    return out


class Library:
    """The FTS5 table the store builds, filled with real arXiv records."""

    def __init__(self, records: list[dict]) -> None:
        self.db = sqlite3.connect(":memory:")
        self.db.execute(
            "CREATE VIRTUAL TABLE papers USING fts5(title, abstract, authors, comment, categories,"
            " tokenize='porter unicode61 remove_diacritics 2')"
        )
        self.records = records
        self.ids = [r["id"] for r in records]
        self.db.executemany(
            "INSERT INTO papers(rowid, title, abstract, authors, comment, categories) VALUES (?,?,?,?,?,?)",
            [
                (n, r["title"], r["abstract"], r["authors"], r["comments"] or "", r["categories"])
                for n, r in enumerate(records)
            ],
        )

    def match(self, expr: str) -> set[str]:
        rows = self.db.execute("SELECT rowid FROM papers WHERE papers MATCH ?", (expr,)).fetchall()
        return {self.ids[n] for (n,) in rows}

    def search(self, query: str, categories: tuple[str, ...] = ()) -> set[str]:
        return self.match(fts5(parse_query(query), categories))

    def where(self, predicate) -> set[str]:
        return {r["id"] for r in self.records if predicate(r)}


@pytest.fixture(scope="module")
def lib() -> Library:
    with FIXTURE.open(encoding="utf-8") as fh:
        return Library([json.loads(line) for line in fh])


def reference(node: Node, lib: Library) -> set[str]:
    """Evaluate the AST with set algebra, asking FTS5 only about single words and phrases."""
    if isinstance(node, (Term, Phrase)):
        return lib.match(fts5(Query(node)))
    if isinstance(node, And):
        return set.intersection(*(reference(i, lib) for i in node.items))
    if isinstance(node, Or):
        return set.union(*(reference(i, lib) for i in node.items))
    return reference(node.include, lib) - reference(node.exclude, lib)


def T(text: str, field: str | None = None) -> Term:
    return Term(text, field)


# --------------------------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "tree"),
    [
        ("RLHF", T("RLHF")),
        ("reward model", And((T("reward"), T("model")))),
        ('"reward  model"', Phrase("reward model")),
        # OR binds tightest, then AND, then NOT (Scopus convention)
        ('"reward model" OR RLHF NOT survey', Not(Or((Phrase("reward model"), T("RLHF"))), T("survey"))),
        ("a b OR c", And((T("a"), Or((T("b"), T("c")))))),
        ("a NOT b c", Not(T("a"), And((T("b"), T("c"))))),
        ("a AND NOT b c", Not(T("a"), And((T("b"), T("c"))))),
        ("a NOT b OR c", Not(T("a"), Or((T("b"), T("c"))))),
        ("a NOT b NOT c", Not(T("a"), Or((T("b"), T("c"))))),
        ("(a OR b) AND c", And((Or((T("a"), T("b"))), T("c")))),
        ("a OR (b c)", Or((T("a"), And((T("b"), T("c")))))),
        # leading NOT and -word subtract from the AND-group they sit in
        ("NOT survey RLHF", Not(T("RLHF"), T("survey"))),
        ("NOT survey OR review RLHF", Not(T("RLHF"), Or((T("survey"), T("review"))))),
        ("RLHF -survey LLM", Not(And((T("RLHF"), T("LLM"))), T("survey"))),
        ('RLHF -"reward model"', Not(T("RLHF"), Phrase("reward model"))),
        ("RLHF -(survey OR review)", Not(T("RLHF"), Or((T("survey"), T("review"))))),
        ("x (NOT y) z", Not(And((T("x"), T("z"))), T("y"))),
        ("(a NOT b) NOT c", Not(T("a"), Or((T("b"), T("c"))))),
        # lower-case operators are words; mid-word hyphens are not negation
        ("fairness and not bias", And((T("fairness"), T("and"), T("not"), T("bias")))),
        ("self-supervised", T("self-supervised")),
        ("Or", T("Or")),
        ('"NOT" "AND"', And((Phrase("NOT"), Phrase("AND")))),
        # field prefixes
        ("ti:transformer", T("transformer", "ti")),
        ('ti:"large language model"', Phrase("large language model", "ti")),
        ("au:del_maestro", T("del_maestro", "au")),
        ('au:"Adrian Del Maestro"', Phrase("Adrian Del Maestro", "au")),
        ("abs:diffusion co:ICLR cat:cs.CL", And((T("diffusion", "abs"), T("ICLR", "co"), T("cs.CL", "cat")))),
        ("-ti:survey graph", Not(T("graph"), T("survey", "ti"))),
        ('"foo:bar"', Phrase("foo:bar")),  # quoted, an unknown field is just text
        # words with nothing to search for are dropped
        ("graph - & * neural", And((T("graph"), T("neural")))),
    ],
)
def test_parse_tree(text: str, tree: Node) -> None:
    assert parse_query(text).root == tree


@pytest.mark.parametrize(
    ("text", "position", "problem"),
    [
        ("", 1, "empty query"),
        ("  - * ", 1, "empty query"),
        ("(a OR b", 1, "'(' is never closed"),
        ("a (b (c)", 3, "'(' is never closed"),
        ("a OR b)", 7, "')' has no matching '('"),
        (")", 1, "')' has no matching '('"),
        ("()", 1, "empty parentheses"),
        ('a "reward model', 3, "unclosed quote"),
        ("a OR", 3, "dangling operator OR"),
        ("OR a", 1, "dangling operator OR"),
        ("a AND", 3, "dangling operator AND"),
        ("AND a", 1, "dangling operator AND"),
        ("a NOT", 3, "dangling operator NOT"),
        ("a AND NOT", 7, "dangling operator NOT"),
        ("(a NOT) b", 4, "dangling operator NOT"),
        ("a AND OR b", 7, "operator OR cannot follow AND"),
        ("NOT survey", 1, "only negative parts"),
        ("-survey -review", 1, "only negative parts"),
        ("(NOT a) NOT b", 1, "only negative parts"),
        ("a OR -b", 6, "OR cannot combine a negated part"),
        ("a OR (NOT b)", 6, "OR cannot combine a negated part"),
        ("a NOT NOT b", 7, "not by a negation"),
        ("ti: transformer", 1, "ti: must be followed by a word or a phrase"),
        ("au:", 1, "au: must be followed by a word or a phrase"),
        ('ti:""', 1, "empty phrase"),
        ("cat:cs_CL", 1, "not an arXiv category"),
    ],
)
def test_parse_errors_name_position_and_problem(text: str, position: int, problem: str) -> None:
    with pytest.raises(QueryError) as err:
        parse_query(text)
    message = str(err.value)
    assert f"position {position}:" in message
    assert problem in message
    assert "\n" not in message


@pytest.mark.parametrize(
    "text",
    [
        '"reward model" OR RLHF NOT survey',
        "NOT survey RLHF",
        "a b OR c d NOT (e OR f g) -h",
        'ti:"large language" au:del_maestro cat:cs.CL -co:withdrawn',
        "(a OR (b NOT c)) d",
    ],
)
def test_str_is_canonical_and_reparses_to_the_same_tree(text: str) -> None:
    query = parse_query(text)
    assert parse_query(str(query)) == query


def test_canonical_form_of_the_precedence_examples() -> None:
    assert str(parse_query('"reward model" OR RLHF NOT survey')) == '("reward model" OR RLHF) NOT survey'
    assert str(parse_query("NOT survey RLHF")) == "RLHF NOT survey"


def test_positive_terms_skip_negated_and_category_terms() -> None:
    query = parse_query('"reward model" OR RLHF ti:alignment cat:cs.CL -survey NOT (review OR "position paper") RLHF')
    assert query.positive_terms() == ["reward model", "RLHF", "alignment"]


# --------------------------------------------------------------------------------------- FTS5


def test_plain_term_searches_text_columns_only() -> None:
    assert fts5(parse_query("graph")) == f'{ALL_TEXT} : "graph"'


def test_fts5_translation_of_fields_and_categories() -> None:
    fts = fts5(parse_query('ti:"reward model" au:del_maestro abs:x co:y cat:cond-mat.str-el'), ["cs.CL", "hep-th"])
    assert fts == (
        '(title : "reward model" AND authors : "del_maestro" AND abstract : "x" AND comment : "y"'
        ' AND categories : "cond mat str el") AND (categories : "cs cl" OR categories : "hep th")'
    )


def test_user_text_never_becomes_fts5_syntax(lib: Library) -> None:
    nasty = 'NEAR a* ^b c:d {title}:e "f "" g" +h "col:x" NEAR(i j) AND- OR: NOT*'
    fts = fts5(parse_query(nasty.replace('"" ', "")))
    lib.match(fts)  # would raise sqlite3.OperationalError on a syntax leak
    assert '"NEAR"' in fts and '"a*"' in fts and '"{title}:e"' in fts


def test_inner_quotes_are_doubled() -> None:
    assert fts5(Query(Term('say "hi"'))) == f'{ALL_TEXT} : "say ""hi"""'


def test_porter_stemming_matches_singular_and_plural(lib: Library) -> None:
    singular_only = lib.where(
        lambda r: re.search(r"hallucination\b", _text(r), re.IGNORECASE) and "hallucinations" not in _text(r).lower()
    )
    plural_only = lib.where(
        lambda r: "hallucinations" in _text(r).lower() and not re.search(r"hallucination\b", _text(r), re.IGNORECASE)
    )
    assert singular_only and plural_only
    found = lib.search("hallucination")
    assert found == lib.search("hallucinations")
    assert singular_only | plural_only <= found


def test_diacritics_are_folded_both_ways(lib: Library) -> None:
    with_umlaut = lib.where(lambda r: "Jürgen" in r["authors"])
    without = lib.where(lambda r: re.search(r"\bJurgen\b", r["authors"]))
    assert len(with_umlaut) >= 2 and without
    assert lib.search("au:Jurgen") == lib.search("au:Jürgen") == with_umlaut | without
    assert lib.search("Jurgen") >= with_umlaut | without


def test_hyphenated_word_is_a_phrase_matching_both_spellings(lib: Library) -> None:
    spaced = lib.where(lambda r: re.search(r"self supervised", r["title"], re.IGNORECASE))
    hyphened = lib.where(lambda r: re.search(r"self-supervised", r["title"], re.IGNORECASE))
    assert spaced and hyphened
    found = lib.search("ti:self-supervised")
    assert found == lib.search('ti:"self supervised"')
    # porter: "Self-Supervision" shares the stem
    assert found == lib.where(lambda r: re.search(r"self[- ]supervis", r["title"], re.IGNORECASE))


def test_phrase_needs_adjacent_words(lib: Library) -> None:
    phrase = lib.search('"reward model"')
    words = lib.search("reward model")
    assert phrase < words
    apart = lib.where(lambda r: not re.search(r"reward[- ]model", _text(r), re.IGNORECASE))
    assert words & apart and not phrase & apart


def test_not_and_or_precedence_on_real_rows(lib: Library) -> None:
    found = lib.search('"reward model" OR RLHF NOT survey')
    expected = (lib.search('"reward model"') | lib.search("RLHF")) - lib.search("survey")
    assert found == expected
    assert found  # non-trivial on this fixture
    assert lib.search("survey") & (lib.search('"reward model"') | lib.search("RLHF"))  # NOT removed something
    assert lib.search("NOT survey RLHF") == lib.search("RLHF") - lib.search("survey")


def test_field_prefixes_search_one_column(lib: Library) -> None:
    assert lib.search("ti:survey") == lib.where(lambda r: re.search(r"\bsurvey", r["title"], re.IGNORECASE))
    assert lib.search("co:ICLR") == lib.where(lambda r: re.search(r"\biclr", r["comments"] or "", re.IGNORECASE))
    assert lib.search("ti:survey") < lib.search("survey")
    del_maestro = lib.where(lambda r: "Del Maestro" in r["authors"])
    assert len(del_maestro) == 3
    assert lib.search("au:del_maestro") == lib.search('au:"Del Maestro"') == del_maestro
    assert lib.search('abs:"Del Maestro"') == set()


@pytest.mark.parametrize("category", ["cs.LG", "cs.CL", "hep-th", "cond-mat.str-el", "math.CO"])
def test_category_prefix_matches_exact_category(lib: Library, category: str) -> None:
    expected = lib.where(lambda r: category in r["categories"].split())
    assert expected
    assert lib.search(f"cat:{category}") == expected


def test_topic_categories_are_ored_then_anded(lib: Library) -> None:
    cats = ("cs.CL", "cs.LG")
    in_cats = lib.where(lambda r: set(cats) & set(r["categories"].split()))
    base = lib.search("model")
    found = lib.search("model", cats)
    assert found == base & in_cats
    assert base - found  # the filter removed something


def test_bad_topic_category_is_rejected() -> None:
    with pytest.raises(QueryError, match="'cs CL' is not an arXiv category"):
        fts5(parse_query("x"), ["cs CL"])


def _text(r: dict) -> str:
    return " ".join([r["title"], r["abstract"], r["authors"], r["comments"] or ""])


QUERIES = [
    "graph neural",
    "graph OR language NOT model",
    '"large language model" OR LLM hallucination',
    "NOT survey RLHF",
    "RLHF -survey",
    "reward -(model OR models) learning",
    "(self-supervised OR contrastive) learning NOT ti:survey",
    "cat:cs.CV self-supervised",
    "au:Jürgen OR au:del_maestro",
    'ti:"reward model" OR ti:"reward models" OR abs:RLHF',
    "co:ICLR OR co:NeurIPS NOT cat:cs.CV",
    "learning AND NOT (graph OR language) data",
    "a NOT b c",
]


@pytest.mark.parametrize("text", QUERIES)
def test_fts5_agrees_with_set_algebra(lib: Library, text: str) -> None:
    query = parse_query(text)
    assert lib.match(fts5(query)) == reference(query.root, lib)


def test_random_queries_agree_with_set_algebra(lib: Library) -> None:
    rng = random.Random(20240315)
    words = [
        "model",
        "learning",
        "graph",
        "language",
        "survey",
        "reward",
        "RLHF",
        "hallucination",
        "data",
        '"large language"',
        "self-supervised",
        "ti:learning",
        "abs:model",
        "cat:cs.CL",
        "cat:cs.CV",
        "au:Jürgen",
        "co:pages",
        "neural",
        "vision",
        '"reward model"',
    ]

    def expr(depth: int) -> str:
        if depth == 0 or rng.random() < 0.3:
            return rng.choice(words)
        op = rng.choice([" ", " AND ", " OR ", " NOT ", " -"])
        left, right = expr(depth - 1), expr(depth - 1)
        if op == " -":
            return f"{left} -{right}" if not right.startswith("-") else f"{left} {right}"
        text = f"{left}{op}{right}"
        return f"({text})" if rng.random() < 0.5 else text

    checked = 0
    for _ in range(250):
        text = expr(4)
        try:
            query = parse_query(text)
        except QueryError:
            continue
        assert lib.match(fts5(query)) == reference(query.root, lib), text
        assert parse_query(str(query)) == query, text
        checked += 1
    assert checked > 150


def test_fuzzed_input_parses_or_raises_query_error(lib: Library) -> None:
    rng = random.Random(7)
    pieces = [
        "a",
        "b",
        "cs",
        "AND",
        "OR",
        "NOT",
        "(",
        ")",
        '"',
        "-",
        ":",
        "ti:",
        "cat:",
        "au:",
        "*",
        "NEAR",
        " ",
        " ",
        "é",
    ]
    ok = 0
    for _ in range(2000):
        text = "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
        try:
            query = parse_query(text)
        except QueryError as err:
            assert "position" in str(err)
            continue
        lib.match(fts5(query, ["cs.CL"]))  # valid MATCH syntax
        assert parse_query(str(query)) == query, text
        ok += 1
    assert ok > 200


# --------------------------------------------------------------------------------------- arXiv


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("transformer", "(ti:transformer OR abs:transformer)"),
        ('"reward model"', '(ti:"reward model" OR abs:"reward model")'),
        (
            '"reward model" OR RLHF NOT survey',
            '((ti:"reward model" OR abs:"reward model") OR (ti:RLHF OR abs:RLHF)) ANDNOT (ti:survey OR abs:survey)',
        ),
        ("au:del_maestro", "au:del_maestro"),
        ('au:"Adrian Del Maestro"', 'au:"Adrian Del Maestro"'),
        ("cat:cs.CL ti:graph", "cat:cs.CL AND ti:graph"),
        ("co:ICLR abs:diffusion", "co:ICLR AND abs:diffusion"),
        ("a (b OR c)", "(ti:a OR abs:a) AND ((ti:b OR abs:b) OR (ti:c OR abs:c))"),
        ("arXiv:2301.00001", '(ti:"arXiv:2301.00001" OR abs:"arXiv:2301.00001")'),
        ("and", '(ti:"and" OR abs:"and")'),  # would read as arXiv's operator otherwise
    ],
)
def test_to_arxiv(text: str, expected: str) -> None:
    assert parse_query(text).to_arxiv() == expected


def test_to_arxiv_with_topic_categories() -> None:
    assert parse_query("ti:graph").to_arxiv(["cs.CL", "cs.LG"]) == "ti:graph AND (cat:cs.CL OR cat:cs.LG)"
    assert parse_query("graph NOT survey").to_arxiv(["cs.LG"]) == (
        "((ti:graph OR abs:graph) ANDNOT (ti:survey OR abs:survey)) AND (cat:cs.LG)"
    )


def test_date_ranges_are_utc_minutes() -> None:
    start = datetime(2024, 3, 14, 20, 0, tzinfo=timezone(timedelta(hours=-4)))
    end = datetime(2024, 3, 15, 23, 59)
    assert date_range(start, end) == "submittedDate:[202403150000 TO 202403152359]"
    assert updated_range(start, end) == "lastUpdatedDate:[202403150000 TO 202403152359]"
    with pytest.raises(QueryError, match="starts after it ends"):
        date_range(end, start)


@pytest.mark.parametrize("text, words", [
    ("tit:graph", "unknown field tit:"),
    ("author:Hinton", "unknown field author:"),
    ("graph cat:cs.XX", "cat:cs.XX is not an arXiv category"),
    ('cat:"math.QQ"', "cat:math.QQ is not an arXiv category"),
])
def test_mistakes_that_would_match_nothing_are_named(text: str, words: str) -> None:
    with pytest.raises(QueryError, match="position") as e:
        parse_query(text)
    assert words in str(e.value)


def test_urls_and_ids_are_not_taken_for_fields() -> None:
    assert parse_query("https://github.com/x").root == T("https://github.com/x")
    assert parse_query("doi:10.1000/xyz arXiv:2501.00001").root is not None
    assert parse_query("cat:cs.cl").root == T("cs.cl", "cat")  # categories are matched without case


@pytest.mark.parametrize("depth", [33, 198, 5000])
def test_parentheses_nested_too_deep_are_a_query_error_not_a_traceback(depth: int) -> None:
    with pytest.raises(QueryError, match="nested more than 32 deep"):
        parse_query("(" * depth + "word" + ")" * depth)


def test_parentheses_nested_to_the_limit_still_parse() -> None:
    assert str(parse_query("(" * 32 + "word" + ")" * 32)) == "word"
