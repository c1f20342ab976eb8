"""`paperscope harvest`: OAI-PMH into the library, the checkpoint kept in the library itself."""

from __future__ import annotations

from datetime import date

import pytest
from conftest import FIXTURES, make_library, pq
from oai_server import OAIServer, PagedOAI

from paperscope.config import Config
from paperscope.errors import HTTPError
from paperscope.service.ingest import harvest
from paperscope.store.sqlite import SQLiteStore

PAGES = [(FIXTURES / "oai" / f"arxivraw_page{i}.xml").read_bytes() for i in (1, 2, 3)]


def config() -> Config:
    return Config(None, {"arxiv_pace": 0.0, "http_retries": 0})


def run_harvest(store: SQLiteStore, cfg: Config, *, url: str, **kw):  # type: ignore[no-untyped-def]
    cfg.values["arxiv_oai_url"] = url
    return harvest(make_library(store, cfg), **kw).to_dict()


def test_state_key_is_prefixed_once_and_old_checkpoints_still_resume(store: SQLiteStore) -> None:
    # versions before 0.2 kept the checkpoint under "oai:oai:arXivRaw:*"; a harvest finds and resumes it
    paged = PagedOAI(PAGES, fail_on={3})
    with OAIServer(paged) as server:
        with pytest.raises(HTTPError):
            run_harvest(store, config(), prefix="arXivRaw", from_=date(2007, 4, 1), until=date(2009, 12, 31),
                        url=server.url)
        keys = [k for (k,) in store.conn.execute("SELECT key FROM state WHERE key LIKE 'oai%'")]
        assert keys == ["oai:arXivRaw:*"]
        store.set_state("oai:oai:arXivRaw:*", store.get_state(keys[0]))
        store.conn.execute("DELETE FROM state WHERE key = 'oai:arXivRaw:*'")
        paged.fail_on.clear()
        out = run_harvest(store, config(), prefix="arXivRaw", url=server.url)
    assert out["resumed"] and out["complete"] and store.count() == 7


def test_harvest_and_fetch_share_one_arxiv_pace(store: SQLiteStore) -> None:
    lib = make_library(store, Config(None, {"arxiv_pace": 3.0}))
    assert lib.sources.oai.client.pacer is lib.sources.api.client.pacer is lib.sources.feed.client.pacer


def test_interrupted_harvest_resumes_from_the_library_checkpoint(store: SQLiteStore) -> None:
    paged = PagedOAI(PAGES, fail_on={3})
    with OAIServer(paged) as server:
        with pytest.raises(HTTPError):
            run_harvest(store, config(), prefix="arXivRaw", from_=date(2007, 4, 1), until=date(2009, 12, 31),
                        url=server.url)
        after_two = store.count()
        assert after_two > 0  # pages 1-2 are stored, not lost with the failure
        paged.fail_on.clear()
        out = run_harvest(store, config(), prefix="arXivRaw", url=server.url)
    assert out["resumed"] and out["complete"] and out["pages"] == 1
    assert paged.served == [1, 2, 3]
    assert store.count() == 7 and store.count() > after_two
    p = store.get_paper(store.newest_matching(pq('"the"'), 1)[0].id)
    assert p is not None and p.versions and all(v.created is not None for v in p.versions)
    saved = [k for (k,) in store.conn.execute("SELECT key FROM state WHERE key LIKE 'oai:%'")]
    assert len(saved) == 1 and store.get_state(saved[0])["next_from"] == "2009-12-31"
    # a second run starts where the first ended and finds nothing new: the library is unchanged
    with OAIServer(PagedOAI(PAGES)) as server:
        again = run_harvest(store, config(), prefix="arXivRaw", url=server.url)
    assert again["new"] == 0 and store.count() == 7
