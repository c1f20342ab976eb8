"""TL;DR per paper: a local fake OpenAI-compatible endpoint (batched, cached), a failing one, and the extractive
fallback."""

from __future__ import annotations

from typing import Any

from http_endpoint import Endpoint, fake_llm
from samples import paper

from paperscope.delivery.tldr import Extractive, OpenAICompatible, extractive, summarizer_from, tldrs


def cache() -> tuple[dict[str, Any], Any, Any]:
    d: dict[str, Any] = {}
    return d, d.get, d.__setitem__


def test_endpoint_is_batched_and_cached() -> None:
    papers = [paper(i) for i in range(7)]
    store, get, put = cache()
    with Endpoint(fake_llm) as llm:
        s = OpenAICompatible(llm.url + "/v1", "tiny", api_key="k-123", batch=3)
        first = tldrs(papers, s, get=get, put=put)
        assert first.generated == 7 and first.cached == 0 and not first.errors
        assert first.texts["2510.00004"] == "TL;DR of 2510.00004."
        assert len(llm.hits) == 3  # 3 + 3 + 1
        assert all(h.path == "/v1/chat/completions" for h in llm.hits)
        assert llm.hits[0].headers["Authorization"] == "Bearer k-123"
        assert llm.hits[0].json()["model"] == "tiny"
        again = tldrs(papers, s, get=get, put=put)
        assert again.cached == 7 and len(llm.hits) == 3  # nothing asked twice
    assert len(store) == 7


def test_failing_endpoint_falls_back_to_extractive_and_is_tried_once() -> None:
    papers = [paper(i) for i in range(9)]
    _, get, put = cache()
    with Endpoint(lambda hit: (500, {"error": "model not loaded"})) as llm:
        res = tldrs(papers, OpenAICompatible(llm.url, "m", batch=2), get=get, put=put)
        assert len(llm.hits) == 1
    assert res.generated == 0 and res.extractive == 9 and "500" in res.errors[0]
    assert res.texts["2510.00001"] == "We propose a method."


def test_unreachable_endpoint_does_not_block() -> None:
    with Endpoint() as gone:
        url = gone.url
    res = tldrs([paper(1)], OpenAICompatible(url, "m", timeout=2), get={}.get, put=lambda k, v: None)
    assert res.extractive == 1 and res.errors


def test_an_answer_without_json_is_an_error_not_a_crash() -> None:
    with Endpoint(lambda hit: (200, {"choices": [{"message": {"content": "Sure! Here you go."}}]})) as llm:
        res = tldrs([paper(1)], OpenAICompatible(llm.url, "m"), get={}.get, put=lambda k, v: None)
    assert res.extractive == 1 and "JSON" in res.errors[0]


def test_extractive_prefers_the_contribution_sentence() -> None:
    p = paper(1, abstract="Large models are popular. However, they hallucinate. In this paper we introduce "
                          "a detector that halves errors. Code is public.")
    assert extractive(p) == "In this paper we introduce a detector that halves errors."
    assert extractive(paper(2, abstract="Just one sentence without claims")) == "Just one sentence without claims"
    long = paper(3, abstract="We show " + "very " * 100 + "long.")
    assert len(extractive(long)) <= 240 and extractive(long).endswith("…")
    assert Extractive().summarize([p])[p.id] == extractive(p)


def test_no_url_configured_means_extractive_only() -> None:
    class S:
        tldr_url = ""

    assert summarizer_from(S()) is None
    res = tldrs([paper(1)], None, get={}.get, put=lambda k, v: None)
    assert res.extractive == 1 and res.texts
