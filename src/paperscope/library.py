"""`Library`: one researcher's paperscope, built once per process — settings, store, sources, clock, caches.

Every interface (CLI, web app, MCP server, scheduler) makes one Library and hands it to the service layer::

    from paperscope import Library
    from paperscope.service import digest, papers

    with Library.open("~/radar/library.db", config="~/radar/config.toml") as lib:
        for hit in papers.search(lib, '"reward model" NOT survey', limit=5).hits:
            print(hit.paper.id, hit.paper.title)
        print(digest.render_digest(digest.build_digest(lib), "markdown"))

What a long-running process should not redo on every call lives here: the embedder of the library's model,
the in-memory vector space (rebuilt only when the library's embeddings change), parsed library files.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from datetime import date, datetime
from pathlib import Path

from paperscope.config import Config, default_db_path, load_config
from paperscope.errors import NotReady
from paperscope.libraryfile import LibraryFile
from paperscope.models import UTC, Topic
from paperscope.semantic.embed import Embedder
from paperscope.semantic.space import VectorSpace
from paperscope.store.api import Store

if TYPE_CHECKING:  # httpx and the sources load only when a command fetches: reads start faster
    import httpx

    from paperscope.sources.factory import Sources

Clock = Callable[[], datetime]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class Library:
    """A library of papers and everything needed to work on it. Build with `Library.open`, or pass parts in."""

    def __init__(self, settings: Config, store: Store, *, clock: Clock | None = None,
                 transport: httpx.BaseTransport | None = None, sources: Sources | None = None) -> None:
        self.settings = settings
        self.store = store
        self.clock: Clock = clock or _utcnow
        self._sources = sources
        self._transport = transport
        self._embedders: dict[str, Embedder] = {}
        self._space: VectorSpace | None = None
        self._library_files: dict[tuple[str, float], LibraryFile] = {}

    @classmethod
    def open(cls, db: str | Path | None = None, config: str | Path | Config | None = None, *, readonly: bool = False,
             create: bool = True, clock: Clock | None = None,
             transport: httpx.BaseTransport | None = None, auto_repair: bool = True) -> Library:
        """Open the library at `db` (default: the platform's data folder) with the config at `config`. A
        `postgresql://` URL opens a PostgreSQL library (its schema named by `?schema=`, default `paperscope`).

        `readonly` opens an existing library for reading only (a read-only disk works; a missing file is
        `NotFound`, never a new empty library). Without `auto_repair`, a writer open leaves an interrupted import's
        damage for `paperscope check` to report."""
        from paperscope.scoring.codelinks import primary_code_url
        from paperscope.scoring.names import author_index_keys
        from paperscope.store.postgres import is_postgres_url

        settings = config if isinstance(config, Config) else load_config(config)
        store: Store
        if db is not None and is_postgres_url(str(db)):
            from paperscope.store.postgres import PostgresStore, split_library_url

            dsn, schema = split_library_url(str(db))
            store = PostgresStore(dsn, schema=schema, readonly=readonly, create=create, code_links=primary_code_url,
                                  author_keys=author_index_keys, auto_repair=auto_repair)
        else:
            from paperscope.store.sqlite import SQLiteStore

            path = Path(db).expanduser() if db else default_db_path()
            store = SQLiteStore(path, readonly=readonly, create=create, code_links=primary_code_url,
                                author_keys=author_index_keys, auto_repair=auto_repair)
        return cls(settings, store, clock=clock, transport=transport)

    @property
    def sources(self) -> Sources:
        """The arXiv and citation sources, made at first use (they share one arXiv pacer)."""
        if self._sources is None:
            from paperscope.sources.factory import Sources

            self._sources = Sources(self.settings, transport=self._transport)
        return self._sources

    @sources.setter
    def sources(self, value: Sources) -> None:
        self._sources = value

    # ------------------------------------------------------------------ lifecycle
    def close(self) -> None:
        if self._sources is not None:
            self._sources.close()
        self.store.close()

    def __enter__(self) -> Library:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ time
    def now(self) -> datetime:
        return self.clock()

    def today(self) -> date:
        return self.clock().date()

    @property
    def topics(self) -> list[Topic]:
        return list(self.settings.topics)

    # ------------------------------------------------------------------ meaning, cached per process
    def embedder(self, name: str | None = None) -> Embedder:
        """The embedder of `name` (default: the library's model, else the shipped default), loaded once."""
        from paperscope.semantic.embed import DEFAULT_MODEL, load_embedder

        key = name or self.store.active_model() or DEFAULT_MODEL
        if key not in self._embedders:
            self._embedders[key] = load_embedder(key)
        return self._embedders[key]

    def vectors(self, *, progress: Callable[[int], None] | None = None) -> VectorSpace:
        """The library's vectors with their index (memory-mapped beside the library), brought up to the store when
        embeddings changed: extended with the new ones, never rebuilt for additions."""
        from paperscope.semantic.space import open_space

        model = self.store.active_model()
        if not model:
            raise NotReady("the library has no embeddings yet", needs="embed")
        version = self.store.embeddings_version()
        if self._space is not None and self._space.model == model and self._space.version == version:
            return self._space
        self._space = None
        folder = self.store.cache_path(f"{model}.ivf")
        # A library file's caches lie beside it (read-only opens may be on a read-only disk); a PostgreSQL library's
        # in this machine's cache folder, which a reader keeps up to date itself (no writer may run on this machine).
        writable = bool(getattr(self.store, "caches_writable", not self.store.readonly))
        self._space = open_space(self.store, model, folder, writable=writable, progress=progress)
        return self._space

    def library_file(self, path: str | Path) -> LibraryFile:
        """A researcher's library file (BibTeX, Zotero CSV/RDF, id list) parsed once while it is unchanged."""
        from paperscope.libraryfile import read_library

        p = Path(path).expanduser()
        try:
            stamp = p.stat().st_mtime
        except OSError:
            stamp = -1.0
        key = (str(p), stamp)
        if key not in self._library_files:
            self._library_files[key] = read_library(p)
        return self._library_files[key]
