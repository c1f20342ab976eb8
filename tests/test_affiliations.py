"""Institution tags. Names and raw affiliation strings are copied from the recorded OpenAlex responses
in /work/shared/corpus/openalex/ (peneira_2024_works_search_page1.json,
openalexpro_2025_works_filter_cites_cursor.json) unless marked otherwise."""

from __future__ import annotations

import pytest

from paperscope.scoring.affiliations import INSTITUTIONS, affiliation_tag, normalise_institution


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        # OpenAlex display names
        ("University of California, Berkeley", "berkeley"),
        ("University of California, Los Angeles", "ucla"),
        ("University of California, San Diego", "ucsd"),
        ("University of Illinois Urbana-Champaign", "uiuc"),
        ("Imperial College London", "imperial"),
        ("French Institute for Research in Computer Science and Automation", "inria"),
        ("French National Centre for Scientific Research", "cnrs"),
        ("Harvard University", "harvard"),
        ("New York University", "nyu"),
        ("University of Oxford", "oxford"),
        ("Vector Institute", "vector"),
        ("RWTH Aachen University", "rwth"),
        ("University of Southern California", "usc"),
        ("University of Paris-Saclay", "upsaclay"),
        # The brief's examples
        ("Peking University", "pku"),
        ("Carnegie Mellon University", "cmu"),
        ("Mila - Quebec AI Institute", "mila"),
        ("Mila", "mila"),
        ("Tsinghua University", "thu"),
        ("Massachusetts Institute of Technology", "mit"),
        ("Stanford University", "stanford"),
        ("Google DeepMind", "deepmind"),
        ("Facebook AI Research", "fair"),
        ("Meta AI", "meta"),
        ("Microsoft Research", "msr"),
        ("Microsoft Research Asia", "msra"),
        ("ETH Zürich", "ethz"),
        ("ETH Zurich", "ethz"),
        ("École Polytechnique Fédérale de Lausanne", "epfl"),
        ("University of Cambridge", "cambridge"),
        ("The University of Tokyo", "utokyo"),  # arXiv 0704.0025
    ],
)
def test_known_institutions(name: str, tag: str) -> None:
    assert affiliation_tag(name) == tag


@pytest.mark.parametrize(
    ("raw", "tag"),
    [
        ("Department of Biomedical Informatics, Harvard Medical School, Harvard University, Boston, MA, United States", "harvard"),
        ("Center for Opioid Epidemiology and Policy, Department of Population Health, New York University Grossman School of Medicine, New York, 10016, USA", "nyu"),
        ("Department of Computer Science, School of Engineering, University of California San Diego, San Diego, CA, USA", "ucsd"),
        ("University of Illinois at Urbana-Champaign, Urbana, IL, USA", "uiuc"),
        ("Institute for Molecular Cardiovascular Research (IMCAR), RWTH Aachen University, Germany;", "rwth"),
        # Several institutions: the first one named wins.
        ("LISN, CNRS/INRIA, Université Paris-Saclay, 91190 Gif-sur-Yvette, France;", "cnrs"),
        ("Joint Doctoral Program-Public Health, San Diego State University and University of California San Diego, San Diego, CA, USA", "ucsd"),
    ],
)
def test_institutions_inside_raw_affiliation_strings(raw: str, tag: str) -> None:
    assert affiliation_tag(raw) == tag


@pytest.mark.parametrize(
    ("name", "tag"),
    [
        ("University of Foo Bar", "ufb"),
        ("Centers for Disease Control and Prevention", "cdcp"),
        ("University of Illinois Chicago", "uic"),  # from "School of Public Health, University of Illinois Chicago, ..."
        ("Université d'Abomey-Calavi", "uac"),
        ("Amasya Üniversitesi", "au"),
        ("Bloomberg (United States)", "bloomberg"),  # one significant word: the word itself
        ("Tilburg University", "tu"),
        ("Lawrence Berkeley National Laboratory", "lbnl"),  # not UC Berkeley
    ],
)
def test_initials_when_the_table_does_not_know(name: str, tag: str) -> None:
    assert affiliation_tag(name) == tag


def test_acronyms_match_only_in_capitals() -> None:
    # German "mit" is not MIT; a lowercase "fair" is not Meta's lab.
    assert affiliation_tag("Institut für Informatik mit Schwerpunkt Robotik") == "iisr"
    assert affiliation_tag("Center for Fair Machine Learning") == "cfml"
    assert affiliation_tag("CSAIL, MIT") == "mit"


def test_acronym_and_ror_take_precedence() -> None:
    assert affiliation_tag("Carnegie Mellon University", acronym="CMU") == "cmu"
    assert affiliation_tag("Some Lab", acronym="S.L.") == "sl"
    assert affiliation_tag("Harvard Medical School", ror="https://ror.org/03vek6s52") == "harvard"
    # OpenAlex once doubled the ROR prefix (Gauhati University in the peneira response).
    assert affiliation_tag("Gauhati University", ror="https://ror.org/https://ror.org/01ppj9r51") == "gu"
    assert affiliation_tag("University of Oxford", ror="052gg0110") == "oxford"


def test_empty_name() -> None:
    assert affiliation_tag("") == ""
    assert affiliation_tag("of the") == ""


def test_table_is_large_and_tags_are_unique() -> None:
    tags = [tag for tag, _, _ in INSTITUTIONS]
    assert len(tags) >= 60
    assert len(set(tags)) == len(tags)
    assert all(tag == tag.lower() and " " not in tag for tag in tags)


def test_normalise_institution() -> None:
    assert normalise_institution("The University of Tokyo") == "university of tokyo"
    assert normalise_institution("Queen Mary & Westfield College") == "queen mary and westfield college"
    assert normalise_institution("ETH Zürich") == "eth zurich"
