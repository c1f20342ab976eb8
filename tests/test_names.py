"""Name keys, parsing and identity merging, on author strings copied from the arXiv snapshot sample
(/work/shared/corpus/arxiv_snapshot_sample.jsonl.gz; the arXiv id is given with each)."""

from __future__ import annotations

import pytest

from paperscope.scoring.names import (
    Identity,
    ascii_fold,
    display_name,
    merge_identities,
    name_key,
    names_compatible,
    parse_name,
)

# --- name_key ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spelling",
    [
        'J\\"urgen Schmidhuber',
        'J{\\"u}rgen Schmidhuber',
        "Jürgen Schmidhuber",
        "Jurgen Schmidhuber",
        "Schmidhuber, Jürgen",
        "J. Schmidhuber",
        "  J.   Schmidhuber ",
        "Schmidhuber, J.",
    ],
)
def test_spellings_of_one_person_share_a_key(spelling: str) -> None:
    assert name_key(spelling) == "schmidhuber-j"


@pytest.mark.parametrize(
    ("latex", "unicode"),
    [
        ("C. Bal\\'azs", "C. Balázs"),  # 0704.0001
        ("Rastislav \\v{S}r\\'amek", "Rastislav Šrámek"),  # 0704.0062
        ("Bro\\v{n}a Brejov\\'a", "Broňa Brejová"),  # 0704.0062
        ("Tom\\'a\\v{s} Vina\\v{r}", "Tomáš Vinař"),  # 0704.0062
        ("Mikkel {\\O}bro", "Mikkel Øbro"),  # 0704.0049
        ("Tolúl\\d{o}pé Ògúnrèmí", "Tolúlọpé Ògúnrèmí"),  # 2510.02569
        ("R. Tom\\`as", "R. Tomàs"),  # 0704.0032
        ("Nguy\\~ên", "Nguyễn"),  # 2507.06261
        ("Fran\\c{c}ois Dupont", "François Dupont"),
        ("Fran\\c cois Dupont", "François Dupont"),
        ("Jos\\'{e} Garc\\'{\\i}a", "José García"),
        ("Jos{\\'e} Garc{\\'\\i}a", "José García"),
        ("Pawe{\\l} Kowalski", "Paweł Kowalski"),
        ("\\AA{}sa Bj\\\"ork", "Åsa Björk"),
        ("Bj\\o rn Olsen", "Bjørn Olsen"),
        ("Hans Stra\\ss er", "Hans Straßer"),
        ("Sathyanarayanan N. Aakur\\\\", "Sathyanarayanan N. Aakur"),  # 2512.04219, trailing \\
        ("Peter St\\ütz", "Peter Stütz"),  # 2601.05747, stray backslash
        ("Aurora RamÃ\xadrez", "Aurora Ramírez"),  # 2405.13786, UTF-8 read as Latin-1
        ("J.P.Hague", "J. P. Hague"),  # 0704.0030
    ],
)
def test_display_name_turns_latex_and_mojibake_into_unicode(latex: str, unicode: str) -> None:
    assert display_name(latex) == unicode


def test_latex_and_unicode_spellings_give_the_same_key() -> None:
    assert name_key("Tom\\'a\\v{s} Vina\\v{r}") == name_key("Tomáš Vinař") == "vinar-t"
    assert name_key("Mikkel {\\O}bro") == name_key("Mikkel Obro") == "obro-m"
    assert name_key("Hans Stra\\ss er") == "strasser-h"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Neal J. Evans II", ("Neal J.", "Evans", "II")),  # 0704.0009
        ("Hal Daumé III", ("Hal", "Daumé", "III")),  # 2508.09245
        ("Jonathan A. Karr Jr.", ("Jonathan A.", "Karr", "Jr.")),  # 2507.22935
        ("Jonathan A. Karr, Jr.", ("Jonathan A.", "Karr", "Jr.")),
        ("Karr, Jr., Jonathan A.", ("Jonathan A.", "Karr", "Jr.")),
        ("Paulo L. J. Drews-Jr", ("Paulo L. J.", "Drews", "Jr.")),  # 2508.12343
        ("Floris van der Tak", ("Floris", "van der Tak", "")),  # 0704.0155
        ("van der Tak, Floris", ("Floris", "van der Tak", "")),
        ("Robert P. C. de Marrais", ("Robert P. C.", "de Marrais", "")),  # 0704.0026
        ("Francesca Da Ros", ("Francesca", "Da Ros", "")),  # 2507.03637
        ("Korentin Le Floch", ("Korentin", "Le Floch", "")),  # 2509.06830
        ("Le Song", ("Le", "Song", "")),  # a capitalised particle never starts the last name
        ("Adolfo De Unánue T.", ("Adolfo T.", "De Unánue", "")),  # 2604.06251, trailing initial
        ("N.d'Ambrumenil", ("N.", "d'Ambrumenil", "")),  # 0704.0030
        ("The BABAR Collaboration", ("", "The BABAR Collaboration", "")),  # 0704.0020
        ("Tony", ("", "Tony", "")),  # 2507.06261, a single name
    ],
)
def test_parse_name(name: str, expected: tuple[str, str, str]) -> None:
    assert parse_name(name) == expected


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("Floris van der Tak", "F. Van Der Tak"),
        ("Jean-Pierre Fuchs", "J.-P. Fuchs"),
        ("J.-N. Fuchs", "Jean-Noel Fuchs"),  # 0704.0027
        ("Chao-Hsi Chang", "C. Chang"),  # 0704.0016
        ("Neal J. Evans II", "N. J. Evans"),
        ("Jonathan A. Karr Jr.", "Jonathan Karr"),
        ("José F. Rodrigues-Jr", "Jose Rodrigues"),
        ("A. Esteban-Pretel", "A. Esteban-Pretel"),  # 0704.0032
    ],
)
def test_variants_share_a_key(a: str, b: str) -> None:
    assert name_key(a) == name_key(b)


def test_key_shape() -> None:
    assert name_key("Floris van der Tak") == "vandertak-f"
    assert name_key("A. Dall'Aglio") == "dallaglio-a"  # 0704.0187
    assert name_key("Tony") == "tony"
    assert ascii_fold("Øbro Łukasz Straße") == "obro lukasz strasse"


# --- names_compatible --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b", "same"),
    [
        ("J. Schmidhuber", "Jürgen Schmidhuber", True),
        ("Jürgen Schmidhuber", "Jan Schmidhuber", False),
        ("Juergen Schmidhuber", "Jürgen Schmidhuber", True),  # German transliteration
        ("Xue-Qian Li", "Xueqian Li", True),  # 0704.0016
        ("Xue-Qian Li", "X.-Q. Li", True),
        ("J.-N. Fuchs", "Jean-Pierre Fuchs", False),
        ("John A. Smith", "John B. Smith", False),
        ("John Smith", "John B. Smith", True),
        ("Tong Li", "Xue-Qian Li", False),  # 0704.0016: two authors of one paper
        ("Jürgen Schmidhuber", "Jürgen Schmidt", False),
        ("Schmidhuber", "Jürgen Schmidhuber", True),  # no first name: no evidence against
    ],
)
def test_names_compatible(a: str, b: str, same: bool) -> None:
    assert names_compatible(a, b) is same
    assert names_compatible(b, a) is same


# --- author lists: the one parser paperscope uses (sources.snapshot.split_authors) ---------------------


def split_authors(s: str) -> list[tuple[str, list[str]]]:
    from paperscope.sources.snapshot import split_authors as split

    return [(a.name, a.affiliations) for a in split(s)]


def test_split_parenthesised_affiliations() -> None:
    s = (  # 0704.0044
        "A. A. Schekochihin (Oxford), S. C. Cowley (Culham), W. Dorland\n  (Maryland), G. W. Hammett "
        "(Princeton), G. G. Howes (Iowa), E. Quataert\n  (Berkeley), T. Tatsuno (Maryland)"
    )
    got = split_authors(s)
    assert got[0] == ("A. A. Schekochihin", ["Oxford"])
    assert got[2] == ("W. Dorland", ["Maryland"])
    assert got[-1] == ("T. Tatsuno", ["Maryland"])
    assert len(got) == 7
    assert split_authors("A (MIT), B (CMU)") == [("A", ["MIT"]), ("B", ["CMU"])]


def _by_paper(identities: list[Identity]) -> dict[str, Identity]:
    return {p: i for i in identities for p in i.paper_ids}


def test_shared_ids_make_one_person_and_ids_are_normalised() -> None:
    records = [
        ("Jürgen Schmidhuber", "https://openalex.org/A5000000001", None, "p1"),
        ("J. Schmidhuber", "A5000000001", "0000-0002-1825-0097", "p2"),
        ("Juergen Schmidhuber", None, "https://orcid.org/0000-0002-1825-0097", "p3"),
    ]
    [person] = merge_identities(records)
    assert person.paper_ids == ["p1", "p2", "p3"]
    assert person.openalex_id == "A5000000001"
    assert person.orcid == "0000-0002-1825-0097"
    assert person.key == "schmidhuber-j"


def test_different_ids_are_never_merged() -> None:
    records = [
        ("John Smith", "A1", None, "q1"),
        ("John Smith", "A2", None, "q2"),
        ("J. Smith", "A1", "0000-0001-0000-0001", "q3"),
        ("J. Smith", "A3", "0000-0001-0000-0001", "q4"),  # same ORCID, other OpenAlex id
    ]
    people = merge_identities(records)
    by = _by_paper(people)
    assert by["q1"] is not by["q2"]
    assert by["q1"] is by["q3"]
    # ORCID is matched first, so q4 joins q3 only if that keeps one OpenAlex id: it does not.
    assert by["q4"] is not by["q3"]
    for person in people:
        oa = {r[1] for r in records if r[3] in person.paper_ids and r[1]}
        assert len(oa) <= 1


def test_records_without_ids_join_the_single_compatible_person() -> None:
    records = [
        ("Jürgen Schmidhuber", "A1", None, "p1"),
        ('J\\"urgen Schmidhuber', None, None, "p2"),
        ("J. Schmidhuber", None, None, "p3"),
        ("Jan Schmidhuber", None, None, "p4"),
        ("Jan Schmidhuber", None, None, "p5"),
    ]
    by = _by_paper(merge_identities(records))
    assert by["p2"] is by["p1"]
    assert by["p3"] is by["p1"]  # only one id-bearing person fits "J."
    assert by["p4"] is by["p5"]
    assert by["p4"] is not by["p1"]  # Jan is not Jürgen
    assert by["p4"].openalex_id is None


def test_ambiguous_records_stay_apart_from_every_id_bearing_person() -> None:
    records = [
        ("John Smith", "A2", None, "q1"),
        ("Jane Smith", "A3", None, "q2"),
        ("J. Smith", None, None, "q3"),
        ("John Smith", None, None, "q4"),
    ]
    by = _by_paper(merge_identities(records))
    assert by["q3"] is not by["q1"] and by["q3"] is not by["q2"]
    assert by["q4"] is by["q1"]


def test_id_less_records_group_by_key_but_not_across_given_names() -> None:
    records = [
        ("Yang Liu", None, None, "r1"),
        ("Yang Liu", None, None, "r2"),
        ("Yi Liu", None, None, "r3"),
        ("Y. Liu", None, None, "r4"),  # fits both: stays on its own
    ]
    people = merge_identities(records)
    by = _by_paper(people)
    assert by["r1"] is by["r2"]
    assert by["r1"] is not by["r3"]
    assert by["r4"] is not by["r1"] and by["r4"] is not by["r3"]
    assert {p.key for p in people} == {"liu-y"}
    assert by["r1"].name == "Yang Liu" and by["r1"].names == ["Yang Liu"]


# --- the plain-name shortcut ---------------------------------------------------------------------


def _sample_names() -> list[str]:
    from importlib.resources import files

    from paperscope.sources.snapshot import iter_snapshot

    path = files("paperscope") / "data" / "sample.jsonl.gz"
    return list(dict.fromkeys(a.name for p in iter_snapshot(str(path)) for a in p.authors))


def test_plain_names_parse_and_key_as_the_general_path_does_on_the_real_sample() -> None:
    from paperscope.scoring import names as n

    real = _sample_names()
    plain = [x for x in real if n._plain_parts(x) is not None]
    assert len(real) > 15_000 and len(plain) > 0.85 * len(real)  # the shortcut is the common case
    assert [n.parse_name(x) for x in plain] == [n._parse_name(x) for x in plain]
    assert [n.author_index_keys(x) for x in real] == [n._author_index_keys(x) for x in real]


_WORDS = ["van", "Van", "de", "Le", "le", "al", "y", "st", "Jr", "JR", "jr", "Sr", "SR", "II", "iii", "Iv",
          "Team", "group", "AUTHORS", "Teamwork", "Song", "He", "Kaiming", "S", "x", "Li", "Ng", "Du", "Da", "Xu",
          "E.", "J.", "Ch.", "st.", "Jr.", "x."]


@pytest.mark.parametrize("seed", range(4))
def test_generated_names_take_the_shortcut_only_where_it_agrees(seed: int) -> None:
    """Two or three ASCII words drawn from particles, suffixes, group words, initials and names, in every case,
    with letters added: the shortcut's parse and keys equal the general path's for each."""
    import random

    from paperscope.scoring import names as n

    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
    taken = 0
    for _ in range(3_000):
        parts = [rng.choice(_WORDS) if rng.random() < 0.7 else "".join(rng.choices(letters, k=rng.randint(1, 6)))
                 for _ in range(rng.choice((2, 3)))]
        name = " ".join(p.swapcase() if rng.random() < 0.2 else p for p in parts)
        taken += n._plain_parts(name) is not None
        assert n.parse_name(name) == n._parse_name(name), name
        assert n.author_index_keys(name) == n._author_index_keys(name), name
    assert 0.1 * 3_000 < taken < 0.9 * 3_000  # both paths are exercised
