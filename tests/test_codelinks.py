"""Code-link detection: unit cases from real arXiv text, and precision/recall on the hand-labelled set
in tests/fixtures/codelinks/labelled.jsonl (see the README there for how it was drawn and labelled)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from paperscope.scoring.codelinks import CODE_KINDS, KINDS, CodeLink, find_code_links, has_code, primary_code_url

FIXTURE = Path(__file__).parent / "fixtures" / "codelinks" / "labelled.jsonl"


def _url_key(url: str | None) -> str | None:
    if not url:
        return None
    return url.lower().split("://", 1)[-1].removeprefix("www.").rstrip("/").removesuffix(".git")


# --- broken and wrapped URLs, all from real abstracts and comments (arXiv id given) -----------------


@pytest.mark.parametrize(
    ("abstract", "comment", "url"),
    [
        # 2406.14231: a space after the host's slash
        ("is available at https://github.com/ aeon-toolkit/aeon. This version was", "", "https://github.com/aeon-toolkit/aeon"),
        # 2510.06009: a line break after the host's slash
        ("The code can\nbe found via the following link https://github.com/\nGepardius/Taetz_Bordelius_Continual_ImageCaptioning.",
         "", "https://github.com/Gepardius/Taetz_Bordelius_Continual_ImageCaptioning"),
        # 2606.04684: glued to the word before, space after the slash
        ("", "7 Pages, For Accessing code:https://github.com/ mobeen-pmo/Automatic-License-Plate-Recognition",
         "https://github.com/mobeen-pmo/Automatic-License-Plate-Recognition"),
        # 2510.08901: host broken after its dot; closing bracket of the sentence
        ("(code and dataset can be found at https://github. com/ronan-39/tlt/).", "", "https://github.com/ronan-39/tlt"),
        # 2507.09506: host broken by a line break
        ("Our data and code can be found in https://github.\ncom/wujunjie1998/Ref-Long.", "", "https://github.com/wujunjie1998/Ref-Long"),
        # 2509.03494: scheme, host and path all broken
        ("The source code is publicly available at https: // github. com/\nyahya-ben/ mplug2-vp-for-nriqa .", "",
         "https://github.com/yahya-ben/mplug2-vp-for-nriqa"),
        # 2510.02788: scheme broken by a line break
        ("Code and reproducible scripts are available at https:\n//github.com/tienphat140205/XTRA.", "", "https://github.com/tienphat140205/XTRA"),
        # 2512.09069 and 2602.18896: hyphen followed by a space
        ("Code is available at https://github.com/erfan-nourbakhsh/KD- OCT.", "", "https://github.com/erfan-nourbakhsh/KD-OCT"),
        ("The code is available at: https://github.com/CAIR- LAB- WFUSM/NSVQ-TransVQ.git", "", "https://github.com/CAIR-LAB-WFUSM/NSVQ-TransVQ"),
        # 2507.16472: LaTeX math dot
        ("Our code can be available on\nhttps://github$.$com/VanLinLin/DenseSR", "", "https://github.com/VanLinLin/DenseSR"),
        # 2512.02965: the scheme typed twice
        ("Code is available at https://githubhttps://github.com/YuhanChen2024/UltraFast-LiNET", "", "https://github.com/YuhanChen2024/UltraFast-LiNET"),
        # 2406.13864: no scheme
        ("ProteinWorkshop is available at: github.com/a-r-j/ProteinWorkshop.", "ICLR 2024", "https://github.com/a-r-j/ProteinWorkshop"),
        # 2404.02227 and 2408.16115: \url and \href
        ("The code is available at \\url{https://github.com/Hai-chao-Zhang/OOSTraj}.", "", "https://github.com/Hai-chao-Zhang/OOSTraj"),
        ("\\href{https://github.com/Richard-Bergna/GraphNeuralSDE}{\\texttt{github.com/Richard-Bergna/GraphNeuralSDE}}.", "",
         "https://github.com/Richard-Bergna/GraphNeuralSDE"),
        # 2509.19352: anonymised repository, broken scheme
        ("The codes and datasets are available at\nhttps: //anonymous.4open.science/r/code-3E88.", "", "https://anonymous.4open.science/r/code-3E88"),
    ],
)
def test_broken_urls_are_repaired(abstract: str, comment: str, url: str) -> None:
    assert has_code(abstract, comment)
    assert primary_code_url(abstract, comment) == url


def test_kinds_of_links() -> None:
    comment = (  # 2507.07257
        "Accepted contribution to the ICML 2025 Workshop. Code: https://github.com/CMBAgents/cmbagent; "
        "Videos:   https://www.youtube.com/@cmbagent; HuggingFace:   https://huggingface.co/spaces/astropilot-ai/cmbagent"
    )
    assert find_code_links("", comment) == [
        CodeLink("https://github.com/CMBAgents/cmbagent", "github", True),
        CodeLink("https://huggingface.co/spaces/astropilot-ai/cmbagent", "huggingface-space"),
    ]
    links = find_code_links(
        "Our dataset can be found at https://huggingface.co/datasets/IceInPot/TAMMs .",  # 2506.18862
        "Model weights are available at https://huggingface.co/aliceblondel/LEMON.",  # 2603.25802
    )
    assert [link.kind for link in links] == ["huggingface-dataset", "huggingface-model"]
    assert {link.kind for link in links} <= KINDS
    assert find_code_links("", "code at https://gitlab.com/radiology/prenatal-image-analysis/pca-3d-alignment")[0].kind == "gitlab"
    assert find_code_links("https://codeberg.org/foo/bar", "")[0].kind == "codeberg"
    assert find_code_links("https://bitbucket.org/foo/bar", "")[0].kind == "bitbucket"
    # Self-hosted GitLab (2603.26468)
    assert find_code_links("Our code ... at https://git.tu-berlin.de/rsim/hyvic .", "")[0].kind == "other-code"


def test_project_pages_are_told_from_code() -> None:
    # 2512.21252: a github.io page is a project page, not code
    assert find_code_links("", "Project Page: https://dreamontage.github.io/DreaMontage/") == [
        CodeLink("https://dreamontage.github.io/DreaMontage/", "project-page"),
    ]
    assert not has_code("", "Project Page: https://dreamontage.github.io/DreaMontage/")
    # 2603.19547: a personal site called a project page
    assert find_code_links("Project page: https://heyumeng.com/SeeClear-web/", "")[0].kind == "project-page"
    # 2510.19210: the anonymous site's /w/ pages are web pages, its /r/ pages repositories
    assert not has_code("Video demonstrations are available at https://anonymous.4open.science/w/MoE-GS-68BA/.", "")
    # 2506.24127: a page and a repository in one sentence
    text = (
        "Our project website is available at https://mgwillia.github.io/vinrb/\nand our code is available "
        "at https://github.com/mgwillia/vinr."
    )
    assert [link.kind for link in find_code_links(text, "")] == ["project-page", "github"]
    assert primary_code_url(text, "") == "https://github.com/mgwillia/vinr"


def test_code_phrasing_makes_any_host_code() -> None:
    # 2511.10660: code on a blog
    comment = "8 pages. Code and additional details are available at: https://qihang-zhang.com/Learning-Sys-Blog/2025/10/15/weighted-product-of-experts.html"
    assert has_code("", comment)
    # 2605.05664: "source code and data" at a github.io page
    assert primary_code_url("The source code and data are available at https://gapszju.github.io/S2C-3D.", "") == (
        "https://gapszju.github.io/S2C-3D"
    )
    # 2606.17433: "Dataset and Code" on a Hugging Face dataset page
    link = find_code_links("Dataset and Code: https://huggingface.co/datasets/SahasraK/LADBench", "")[0]
    assert link.kind == "huggingface-dataset" and link.claimed_code and link.is_code


def test_no_code() -> None:
    assert not has_code("The codes will be released publicly.", "")  # 2512.00293: no link
    assert primary_code_url("", "") is None
    # 2508.13791: the publisher link before "Code and data in:" is not code
    comment = (
        "Pre-print of the IMAVIS article:   https://www.sciencedirect.com/science/article/abs/pii/S0262885625001672 "
        "Code   and data in: https://git.zib.de/asengupta/sft-generalised"
    )
    assert primary_code_url("", comment) == "https://git.zib.de/asengupta/sft-generalised"
    assert not has_code("", "Official version: https://doi.org/10.1117/12.3059998")  # 2509.10804


def test_links_are_reported_once() -> None:
    abstract = "Code: https://github.com/rohnson1999/AutoVQA-G"  # 2604.17488
    comment = "Accepted at IEEE ICASSP 2026. Code available at https://github.com/rohnson1999/AutoVQA-G"
    assert len(find_code_links(abstract, comment)) == 1


# --- the labelled set --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def labelled() -> list[dict]:
    return [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_labelled_set_is_big_and_mixed(labelled: list[dict]) -> None:
    assert len(labelled) >= 220
    assert len({r["id"] for r in labelled}) == len(labelled)
    positives = sum(r["has_code"] for r in labelled)
    assert 60 <= positives <= len(labelled) - 60
    assert all(bool(r["code_url"]) == r["has_code"] for r in labelled)


def test_has_code_precision_and_recall(labelled: list[dict]) -> None:
    pred = [has_code(r["abstract"], r["comment"]) for r in labelled]
    gold = [r["has_code"] for r in labelled]
    tp = sum(p and g for p, g in zip(pred, gold))
    fp = sum(p and not g for p, g in zip(pred, gold))
    fn = sum(g and not p for p, g in zip(pred, gold))
    assert tp / (tp + fp) >= 0.9, f"precision {tp / (tp + fp):.3f}"
    assert tp / (tp + fn) >= 0.9, f"recall {tp / (tp + fn):.3f}"


def test_primary_code_url_matches_the_label(labelled: list[dict]) -> None:
    rows = [r for r in labelled if r["code_url"]]
    wrong = [
        (r["id"], r["code_url"], got)
        for r in rows
        if _url_key(got := primary_code_url(r["abstract"], r["comment"])) != _url_key(r["code_url"])
    ]
    assert len(wrong) <= len(rows) // 20, wrong  # at least 95 % right


def test_code_kinds_are_kinds() -> None:
    assert CODE_KINDS < KINDS


def test_store_prefilter_never_hides_labelled_code() -> None:
    """The store skips the detector for texts with no code host and no code words: check it loses nothing."""
    import json

    from paperscope.store.sqlite import _maybe_code

    path = Path(__file__).parent / "fixtures" / "codelinks" / "labelled.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    hidden = [r["id"] for r in rows if r["has_code"] and not (_maybe_code(r["abstract"]) or _maybe_code(r.get("comment") or ""))]
    assert hidden == []


@pytest.mark.parametrize("text, url", [
    ("Code: github$.$com/lab/tool", "https://github.com/lab/tool"),  # the host appears only once LaTeX is undone
    ("See \\url{gitlab.com/lab/tool} for code", "https://gitlab.com/lab/tool"),
    ("Our code is on GITHUB.COM/Lab/Tool.", "https://github.com/Lab/Tool"),  # any case
    ("Code and demos: lab.github.io/tool/", "https://lab.github.io/tool"),  # the name.github.io branch
    ("no link here, only words about code and software", None),
])
def test_links_found_whatever_step_is_skipped(text: str, url: str | None) -> None:
    from paperscope.scoring import codelinks

    got = codelinks.find_code_links(text)
    assert (got[0].url.rstrip("/") if got else None) == url


def _texts_for_scans() -> list[str]:
    """The labelled real abstracts and comments, then texts built at random from the pieces the scans look at:
    schemes written with spaces, glued URLs, bare hosts in any case, name.github.io hosts with long word runs, and
    the letters a case-blind pattern equates with ASCII ones (dotless i, dotted I, long s, Kelvin sign)."""
    import random

    rows = [json.loads(line) for line in FIXTURE.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts = [t for r in rows for t in (r["abstract"], r.get("comment") or "") if t]
    pieces = ["http://", "https://", "HTTPS://", "http : / / ", "https: //", "hTtP :/ /", "www.", "WWW.", "awww.",
              "github.com/", "GitHub.com/a/b", "gıthub.com/x", "bitbucKet.org/y", "foo.github.io", "x-y.GitHub.IO/p",
              "a" * 70 + ".github.io/", "_" * 130 + ".github.io", "ſ", "ı", "İ", "K", " ", "\n", "code:", "(", ")",
              ".", "a", "hf.co/x", "codeberg.org/z", "@", "/", "-", "_", "https://github.com/ foo/bar",
              "githubhttps://x.y", "xhttp://", "ahttps://b.c", "httpss://", "http", "\u00a0https://q.r"]
    rng = random.Random(7)
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 25))) for _ in range(20_000)]
    return texts


def test_scans_at_marks_find_what_the_plain_patterns_find() -> None:
    """The three scans tried only where their marks start give exactly the plain regex scans' results."""
    from paperscope.scoring import codelinks as cl

    texts = _texts_for_scans()
    found = 0
    for t in texts:
        plain = (cl._URL_RE if ".github.io" in t.lower() else cl._URL_RE_NO_PAGES).finditer(t)
        assert [m.span() for m in cl._urls_in(t)] == [m.span() for m in plain], t
        assert cl._split_schemes_joined(t) == cl._SPLIT_SCHEME_RE.sub(r"\1://", t), t
        assert cl._unglue_urls(t) == cl._GLUED_URL_RE.sub(" ", t), t
        found += bool(cl._urls_in(t))
    assert found > len(texts) // 2  # the texts do hold URLs for the scans to find
