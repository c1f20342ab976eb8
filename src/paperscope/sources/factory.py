"""Every remote source built from the settings: one place applies the HTTP settings and owns arXiv's one pacer.

arXiv asks for one request every few seconds from the whole process, so the API, the announcement feed and
OAI-PMH share a single `Pacer`; OpenAlex and Semantic Scholar have paces of their own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx

from paperscope.sources.announce import AnnouncementFeed
from paperscope.sources.arxiv_api import ArxivAPI
from paperscope.sources.http import Pacer, PoliteClient, RetryPolicy
from paperscope.sources.oai import OAIHarvester
from paperscope.sources.openalex import OpenAlex, openalex_client
from paperscope.sources.semanticscholar import SemanticScholar, semanticscholar_client


@dataclass(slots=True)
class Sources:
    """The remote sources of one process, made on first use and closed together."""

    settings: Any  # paperscope.config.Config
    transport: httpx.BaseTransport | None = None
    _pacer: Pacer | None = None
    _made: dict[str, Any] = field(default_factory=dict)

    @property
    def arxiv_pacer(self) -> Pacer:
        if self._pacer is None:
            self._pacer = Pacer(self.settings.arxiv_pace)
        return self._pacer

    def _arxiv_client(self, url: str) -> PoliteClient:
        s = self.settings
        return PoliteClient(url, pacer=self.arxiv_pacer, contact=s.contact, transport=self.transport,
                            timeout=s.http_timeout, retry=RetryPolicy(retries=s.http_retries))

    def _get(self, name: str, make: Any) -> Any:
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]

    @property
    def api(self) -> ArxivAPI:
        return self._get("api", lambda: ArxivAPI(self._arxiv_client(self.settings.arxiv_api_url)))  # type: ignore[no-any-return]

    @property
    def feed(self) -> AnnouncementFeed:
        return self._get("feed", lambda: AnnouncementFeed(self._arxiv_client(self.settings.arxiv_feed_url)))  # type: ignore[no-any-return]

    @property
    def oai(self) -> OAIHarvester:
        return self._get("oai", lambda: OAIHarvester(self._arxiv_client(self.settings.arxiv_oai_url)))  # type: ignore[no-any-return]

    @property
    def openalex(self) -> OpenAlex:
        s = self.settings
        return self._get("openalex", lambda: OpenAlex(  # type: ignore[no-any-return]
            openalex_client(s.openalex_url, contact=s.contact, transport=self.transport),
            api_key=s.openalex_api_key or None))

    @property
    def semanticscholar(self) -> SemanticScholar:
        s = self.settings
        return self._get("s2", lambda: SemanticScholar(  # type: ignore[no-any-return]
            semanticscholar_client(s.semanticscholar_url, contact=s.contact, transport=self.transport),
            api_key=s.semanticscholar_api_key or None))

    def close(self) -> None:
        for src in self._made.values():
            client = getattr(src, "client", None)
            if client is not None:
                client.close()
        self._made.clear()
