"""Similar authors: nearest in meaning by their papers, co-authorship a bonus, the person themself never listed;
the same list in `paperscope similar-authors`, the profile (similar=k) and its JSON."""

from __future__ import annotations

import json

import numpy as np
from click.testing import CliRunner

from conftest import dt, make_library, make_paper

from paperscope.errors import NotReady
from paperscope.service import meaning
from paperscope.service.people import author_profile

SPEECH = ["streaming speech recognition with transducers", "speech recognition for accented english",
          "self-supervised speech representations for recognition", "end-to-end speech recognition on device"]
PROTEINS = ["protein structure prediction with folding models", "protein design by diffusion over backbones",
            "protein language models for function prediction", "protein docking with equivariant networks"]


def build(store):  # type: ignore[no-untyped-def]
    papers = []
    for i, t in enumerate(SPEECH):  # Ada's subject; Bo writes on it too, with Ada's co-author Cy on one paper
        papers.append(make_paper(f"2501.{i:05d}", title=f"On {t}", abstract=f"We study {t}.",
                                 authors=["Ada Lovelace", "Cy Coauthor"], updated=dt(2025, 1, 1 + i)))
        papers.append(make_paper(f"2502.{i:05d}", title=f"Towards {t}", abstract=f"A new approach to {t}.",
                                 authors=["Bo Speech"] + (["Cy Coauthor"] if i == 0 else []), updated=dt(2025, 2, 1 + i)))
    for i, t in enumerate(PROTEINS):  # another subject, another author
        papers.append(make_paper(f"2503.{i:05d}", title=f"On {t}", abstract=f"We study {t}.",
                                 authors=["Di Protein"], updated=dt(2025, 3, 1 + i)))
    store.upsert_papers(papers)
    lib = make_library(store)
    meaning.embed(lib)
    return lib


def test_nearest_in_meaning_first_and_never_the_person(store) -> None:  # type: ignore[no-untyped-def]
    lib = build(store)
    got = meaning.similar_authors(lib, "Ada Lovelace", k=10)
    names = [a.name for a in got.authors]
    assert "Ada Lovelace" not in names
    assert names.index("Bo Speech") < names.index("Di Protein")
    by = {a.name: a for a in got.authors}
    assert by["Bo Speech"].similarity > by["Di Protein"].similarity
    assert by["Bo Speech"].shared_coauthors == 1 and not by["Bo Speech"].coauthor  # Cy wrote with both
    assert by["Cy Coauthor"].coauthor and by["Di Protein"].shared_coauthors == 0
    # the similarity is the cosine between the mean of each author's papers and the mean of Ada's
    space = lib.vectors()

    def centre(ids: list[str]) -> np.ndarray:
        m = space.rows(ids).mean(axis=0)
        return m / np.linalg.norm(m)

    ada = centre([f"2501.{i:05d}" for i in range(4)])
    assert abs(by["Di Protein"].similarity - float(centre([f"2503.{i:05d}" for i in range(4)]) @ ada)) < 1e-4
    assert abs(by["Bo Speech"].score - (0.8 * by["Bo Speech"].similarity + 0.2 / 3)) < 1e-3
    assert [a.name for a in meaning.similar_authors(lib, "Ada Lovelace", k=2).authors] == names[:2]


def test_profile_carries_them_when_asked(store) -> None:  # type: ignore[no-untyped-def]
    lib = build(store)
    plain = author_profile(lib, "Di Protein")
    assert plain.similar == [] and "similar_authors" not in plain.to_dict()
    asked = author_profile(lib, "Di Protein", similar=3)
    assert [a.name for a in asked.similar] == [a.name for a in meaning.similar_authors(lib, "Di Protein", k=3).authors]
    assert [a["name"] for a in asked.to_dict()["similar_authors"]] == [a.name for a in asked.similar]  # type: ignore[index, union-attr]


def test_alone_in_the_library_and_not_embedded(store) -> None:  # type: ignore[no-untyped-def]
    store.upsert_papers([make_paper("2501.00001", title="Solo work", abstract="Only me here.", authors=["Ed Alone"])])
    lib = make_library(store)
    try:
        meaning.similar_authors(lib, "Ed Alone")
    except NotReady as e:
        assert e.needs == "embed"
    else:
        raise AssertionError("no embeddings: NotReady expected")
    assert author_profile(lib, "Ed Alone", similar=5).similar == []  # the profile still renders
    meaning.embed(lib)
    assert meaning.similar_authors(lib, "Ed Alone").authors == []  # nobody else near


def test_cli_verb_prints_the_list(store, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from paperscope.cli import main

    build(store)
    res = CliRunner().invoke(main, ["--db", str(store.path), "similar-authors", "Ada Lovelace", "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    names = [a["name"] for a in json.loads(res.output)]
    assert names.index("Bo Speech") < names.index("Di Protein") and "Ada Lovelace" not in names
