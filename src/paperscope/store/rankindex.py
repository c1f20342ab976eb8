"""The relevance ranking of big libraries: BM25 of paperscope's own, over word lists kept beside the database.

FTS5's `bm25()` first counts, over the whole index, the papers holding each phrase of the query, then scores
every match; with every paper of arXiv in the library that alone costs hundreds of milliseconds for a query of
common words (issue #12). This index keeps, per word, the papers holding it with the word's weighted count, and
per paper its length, in memory-mapped arrays (`<db>.rank/`): a search reads the lists of its own words only and
scores them with numpy by FTS5's very formula (k1 1.2, b 0.75, the store's column weights: title 8, abstract 1,
authors 4, comment 0.5; categories count to a paper's length only).

- Words are FTS5's own: each distinct surface word is handed once to an in-memory FTS5 table with the library's
  tokenizer, and its terms (stemmed, case- and diacritic-folded) are read back from `fts5vocab`. So a query of
  single words and categories is scored from the lists exactly as FTS5 scores it, and needs no other check.
  A segment build makes no Python object per word: two 64-bit polynomial hashes of each word come from prefix sums
  over a text's folded bytes, and a table of numpy arrays maps the first to the word's id. Where two different
  words share the first hash, the second one tells, and those texts are split word by word instead.
- A phrase (or a word FTS5 splits, "state-of-the-art") has no list of its own: its words' lists give the papers
  holding all of them and an upper bound of its weight (it occurs no more often than its rarest word). Papers are
  then read in the order of their bound, checked by the library's FTS5 index (which holds positions and decides
  every match) and scored exactly from their text, until the last of the top scores beats every bound left. Its
  document count is that of its words together times the share of a sample of those papers holding the phrase.
- Segments: the first build writes one per SEGMENT_PAPERS papers (in pk order); each later import, fetch or harvest
  adds one for the papers it wrote (the store's `finish_import`), and what changed since the last segment is indexed
  in memory at search time (up to TAIL_MAX changes), so a search never misses a paper. A paper rewritten by a new
  version lives in the newest segment holding its pk; older entries are ignored. Small segments are merged (re-read
  from the papers) when there are more than MAX_SMALL of them.
- Crash safety: segment files are written under temporary names and renamed; `manifest.json` is replaced
  atomically and names the segments and the change number indexed. A killed first build has a manifest that says
  so (searches use FTS5 meanwhile) and lists the segments it finished: the next import builds only the others. A
  killed later update leaves the previous manifest, and the next one redoes it. Files no manifest names are removed.
"""

from __future__ import annotations

import hashlib
import json
import math
import mmap
import os
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, repeat
from pathlib import Path
from typing import IO, cast

import numpy as np

from paperscope.query import And, Node, Not, Or, Phrase, Term, category_list
from paperscope.store.sqlin import select_in

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: builds are not locked against each other
    fcntl = None  # type: ignore[assignment]

FORMAT = 1
TOKENIZE = "porter unicode61 remove_diacritics 2"
WEIGHTS2 = (16, 2, 8, 1)  # twice the column weights of the store's bm25() call: title, abstract, authors, comment
CATEGORY_COL = 4
_COL_WEIGHT2 = np.asarray(WEIGHTS2 + (0, 0, 0, 0), dtype=np.int64)
K1, B = 1.2, 0.75
SEGMENT_PAPERS = 100_000
MAX_SMALL = 8
PHRASE_SAMPLE = 64  # papers read to estimate the share of those holding a phrase's words that hold the phrase
FIRST_BATCH = 64  # phrase queries: candidates checked in the first round (doubling after)
TAIL_MAX = 20_000
MEET_SEARCH = 32  # intersecting two lists: binary search when one is this many times the other
ARRAYS = ("terms", "offsets", "docs", "tf", "pks", "dl")
_CAT = "\x00cat "


def term_hash(term: str) -> int:
    """A term's 64-bit name in the lists: stable across processes and machines."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "little")


def category_term(cat: str) -> str:
    return _CAT + cat.lower()


# Bytes that can be inside a word: ASCII letters and digits, and every byte of a non-ASCII character (FTS5 is
# asked about each word with such characters, and splits it where unicode61 sees a separator).
_TABLE = bytes(c if (48 <= c <= 57 or 97 <= c <= 122 or c >= 128) else 32 for c in range(256))
COMPOUND = 1 << 40  # word ids from here on name a word of several terms (or none): `Terms.compounds`


_FOLD = bytes(c + 32 if 65 <= c <= 90 else _TABLE[c] for c in range(256))  # lower() and _TABLE in one pass
TEXT_BYTES = 1 << 22  # text hashed at once by `Terms.text_ids` (a few arrays of 8 bytes per byte of text)
# Two odd multipliers (mod 2**64) of the word hashes, and their inverses.
_Q = (0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F)
_POWERS: list[np.ndarray] = []


def _words(text: str) -> list[bytes]:
    return text.encode().translate(_FOLD).split()


def _powers(n: int) -> list[np.ndarray]:
    """q**i and q**-i mod 2**64 for i < n, for both multipliers (kept and grown)."""
    global _POWERS
    if not _POWERS or len(_POWERS[0]) < n:
        size = max(n, 2 * len(_POWERS[0]) if _POWERS else 1 << 16)
        out = []
        for q in _Q:
            for m in (q, pow(q, -1, 1 << 64)):
                p = np.full(size, m, dtype=np.uint64)
                p[0] = 1
                out.append(np.cumprod(p, dtype=np.uint64))  # integer arrays wrap: the products are mod 2**64
        _POWERS = out
    return _POWERS


class _WordTable:
    """Word ids by a word's first hash, in an open-addressing table of numpy arrays (linear probing, at most half
    full), with its second hash to tell two words sharing the first apart. Looked up and filled array-wise."""

    MIX = np.uint64(0x9E3779B97F4A7C15)  # multiplicative hashing: the slot comes from the high bits of h * MIX

    def __init__(self, bits: int = 16) -> None:
        self.bits = bits
        self.key = np.zeros(1 << bits, dtype=np.uint64)  # 0: empty (a first hash of 0 is not stored)
        self.wid = np.zeros(1 << bits, dtype=np.int64)
        self.check = np.zeros(1 << bits, dtype=np.uint64)
        self.used = 0

    def _home(self, h: np.ndarray) -> np.ndarray:
        mixed: np.ndarray = np.multiply(h, self.MIX)
        return (mixed >> np.uint64(64 - self.bits)).astype(np.int64)

    def find(self, h1: np.ndarray, h2: np.ndarray) -> tuple[np.ndarray, bool]:
        """The word id of each hash pair (-1 where the table lacks it), and whether every stored first hash met
        came with the stored second hash."""
        out = np.full(len(h1), -1, dtype=np.int64)
        todo = np.arange(len(h1))
        pos = self._home(h1)
        mask = (1 << self.bits) - 1
        while len(todo):
            slot = pos[todo]
            k = self.key[slot]
            hit = k == h1[todo]
            if hit.any():
                hs, ht = slot[hit], todo[hit]
                if not np.array_equal(self.check[hs], h2[ht]):
                    return out, False
                out[ht] = self.wid[hs]
            go = ~hit & (k != 0)
            todo = todo[go]
            pos[todo] = (slot[go] + 1) & mask
        return out, True

    def add(self, h1: np.ndarray, h2: np.ndarray, wids: np.ndarray) -> None:
        """Store these words (distinct first hashes, none stored yet)."""
        if 2 * (self.used + len(h1)) > len(self.key):
            old = self.key != 0
            keys, checks, ids = self.key[old], self.check[old], self.wid[old]
            bits = self.bits
            while 2 * (self.used + len(h1)) > (1 << bits):
                bits += 1
            self.bits, self.used = bits, 0
            self.key = np.zeros(1 << bits, dtype=np.uint64)
            self.wid = np.zeros(1 << bits, dtype=np.int64)
            self.check = np.zeros(1 << bits, dtype=np.uint64)
            self._place(keys, checks, ids)
        self._place(h1, h2, wids)

    def _place(self, h1: np.ndarray, h2: np.ndarray, wids: np.ndarray) -> None:
        mask = (1 << self.bits) - 1
        pos = self._home(h1)
        todo = np.arange(len(h1))
        while len(todo):
            slot = pos[todo]
            free = self.key[slot] == 0
            _, first = np.unique(slot[free], return_index=True)  # one new word per free slot each round
            win = todo[free][first]
            ws = pos[win]
            self.key[ws], self.check[ws], self.wid[ws] = h1[win], h2[win], wids[win]
            placed = np.zeros(len(h1), dtype=bool)
            placed[win] = True
            todo = todo[~placed[todo]]  # each left has its slot taken now (by an older word or a winner)
            pos[todo] = (pos[todo] + 1) & mask
        self.used += len(h1)


def _span_hash(data: np.ndarray, p: np.ndarray, inv: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """sum(b[i] * q**(i - s)) mod 2**64 over each span [s, e) of the bytes: prefix sums, differences, a shift."""
    prefix = np.zeros(len(data) + 1, dtype=np.uint64)
    np.cumsum(np.multiply(data, p[:len(data)]), out=prefix[1:])
    out: np.ndarray = (prefix[ends] - prefix[starts]) * inv[starts]
    return out


class Terms:
    """Surface words to FTS5's terms for them, asked of FTS5 once per word and kept (dense ids, hash per id)."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._conn.execute(f"CREATE VIRTUAL TABLE w USING fts5(t, tokenize='{TOKENIZE}')")
        self._conn.execute("CREATE VIRTUAL TABLE v USING fts5vocab(w, instance)")
        self.wid: dict[bytes, int] = {}  # word -> term id, or COMPOUND + index into compounds
        self.compounds: list[tuple[int, ...]] = []
        self._ids: dict[str, int] = {}
        self.hashes: list[int] = []
        self._lock = threading.Lock()
        self._table = _WordTable()  # the words `text_ids` met, by hash
        self._table_lock = threading.Lock()

    def term_id(self, term: str) -> int:
        tid = self._ids.get(term)
        if tid is None:
            tid = self._ids[term] = len(self.hashes)
            self.hashes.append(term_hash(term))
        return tid

    def learn(self, words: Iterable[bytes]) -> None:
        """Ask FTS5 for the terms of each word not known yet."""
        with self._lock:
            new = [w for w in set(words) if w not in self.wid]
            if not new:
                return
            self._conn.execute("BEGIN")
            self._conn.executemany("INSERT INTO w(rowid, t) VALUES (?, ?)",
                                   ((i, w.decode("utf-8", "replace")) for i, w in enumerate(new)))
            found: dict[int, list[str]] = {}
            for doc, term in self._conn.execute("SELECT doc, term FROM v ORDER BY doc, offset"):
                found.setdefault(doc, []).append(term)
            self._conn.execute("ROLLBACK")
            for i, w in enumerate(new):
                got = tuple(self.term_id(t) for t in found.get(i, ()))
                if len(got) == 1:
                    self.wid[w] = got[0]
                else:
                    self.wid[w] = COMPOUND + len(self.compounds)
                    self.compounds.append(got)

    def ids(self, words: list[bytes]) -> np.ndarray:
        """The term ids of these words, in order (a word of several terms gives each, one of none nothing)."""
        get = self.wid.get
        ids = np.fromiter(map(get, words, repeat(-1)), dtype=np.int64, count=len(words))
        missing = np.flatnonzero(ids < 0)
        if len(missing):
            self.learn(words[i] for i in missing.tolist())
            ids[missing] = [self.wid[words[i]] for i in missing.tolist()]
        return ids

    def term_list(self, words: list[bytes]) -> list[int]:
        """The term ids of these words as a list (short texts: no numpy)."""
        seq = list(map(self.wid.get, words, repeat(-1)))
        if not seq:
            return seq
        if -1 in seq:
            self.learn(words)
            seq = [self.wid[w] for w in words]
        if max(seq) >= COMPOUND:
            seq = [t for x in seq for t in (self.compounds[x - COMPOUND] if x >= COMPOUND else (x,))]
        return seq

    def text_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """The word ids of every text's words in order, and the number of the text each comes from: what
        `ids(_words(t))` gives text by text, found with no Python object per word (a segment build's hot path)."""
        ids: list[np.ndarray] = []
        owners: list[np.ndarray] = []
        ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)
        first = 0
        while first < len(texts):
            # texts up to TEXT_BYTES at a time, so the hash arrays stay small (at least one text each time)
            base = int(ends[first - 1]) if first else 0
            last = max(first + 1, int(np.searchsorted(ends, base + TEXT_BYTES, side="right")))
            part = texts[first:last]
            got = self._hashed_ids(part)
            if got is None:  # two words share a first hash: word by word, as `ids` does
                words = [_words(t) for t in part]
                got = (self.ids(list(chain.from_iterable(words))),
                       np.repeat(np.arange(len(part), dtype=np.int64), [len(w) for w in words]))
            ids.append(got[0])
            owners.append(got[1] + first)
            first = last
        return _join(ids, np.int64), _join(owners, np.int64)

    def _hashed_ids(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray] | None:
        """`text_ids` of a few texts by two polynomial hashes of each word, computed from prefix sums over the
        folded bytes; None when two different words share the first hash (the second one tells)."""
        encoded = [t.encode() for t in texts]
        joined = b" ".join(encoded).translate(_FOLD)
        if not joined.strip():
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        a = np.frombuffer(joined, dtype=np.uint8)
        edge = np.diff((a != 32).view(np.int8), prepend=np.int8(0), append=np.int8(0))
        starts = np.flatnonzero(edge == 1)
        ends = np.flatnonzero(edge == -1)
        p1, q1, p2, q2 = _powers(len(a))
        h1 = _span_hash(a, p1, q1, starts, ends)
        h2 = _span_hash(a, p2, q2, starts, ends)
        if not h1.all():
            return None
        with self._table_lock:
            got = self._table_ids(joined, starts, ends, h1, h2)
        if got is None:
            return None
        text_starts = np.cumsum([0] + [len(e) + 1 for e in encoded[:-1]])
        return got, np.searchsorted(text_starts, starts, side="right") - 1

    def _table_ids(self, joined: bytes, starts: np.ndarray, ends: np.ndarray, h1: np.ndarray,
                   h2: np.ndarray) -> np.ndarray | None:
        """The word id of each hashed word, from the table; words met for the first time are asked of FTS5 (one
        of each) and stored. None when two different words share the first hash."""
        got, same = self._table.find(h1, h2)
        if not same:
            return None
        new = np.flatnonzero(got < 0)
        if len(new):
            h1n, first = np.unique(h1[new], return_index=True)
            at = new[first]
            where = np.searchsorted(h1n, h1[new])
            if not np.array_equal(h2[new], h2[at][where]):
                return None
            words = [joined[s:e] for s, e in zip(starts[at].tolist(), ends[at].tolist())]
            self.learn(words)
            ids = np.asarray([self.wid[w] for w in words], dtype=np.int64)
            self._table.add(h1n, h2[at], ids)
            got[new] = ids[where]
        return got

    def words_terms(self, text: str) -> list[tuple[int, ...]]:
        """The terms of each word of `text`, in order."""
        return [self.compounds[i - COMPOUND] if i >= COMPOUND else (i,) for i in self.ids(_words(text)).tolist()]

    def expand(self, ids: np.ndarray, owner: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Words' ids to terms' ids, `owner` (a doc number per word) repeated alongside."""
        many = np.flatnonzero(ids >= COMPOUND)
        if not len(many):
            return ids, owner
        parts = [self.compounds[i - COMPOUND] for i in ids[many].tolist()]
        reps = np.ones(len(ids), dtype=np.int64)
        reps[many] = [len(p) for p in parts]
        out_owner = np.repeat(owner, reps)
        out = np.repeat(ids, reps)
        starts = np.cumsum(reps) - reps
        for pos, p in zip(starts[many].tolist(), parts):
            out[pos:pos + len(p)] = p
        return out, out_owner


@dataclass
class Segment:
    """One segment's arrays: `terms` sorted hashes, `offsets` into `docs`/`tf` per term, `pks` and `dl` per doc."""

    name: str
    terms: np.ndarray
    offsets: np.ndarray
    docs: np.ndarray
    tf: np.ndarray
    pks: np.ndarray
    dl: np.ndarray

    @property
    def pk_range(self) -> tuple[int, int]:
        return (int(self.pks[0]), int(self.pks[-1])) if len(self.pks) else (0, -1)

    def _slot(self, h: int) -> tuple[int, int]:
        """Where term `h`'s entries lie in `docs`/`tf` (an empty range when the segment lacks it)."""
        i = int(np.searchsorted(self.terms, np.uint64(h)))
        if i < len(self.terms) and int(self.terms[i]) == h:
            return int(self.offsets[i]), int(self.offsets[i + 1])
        return 0, 0

    def postings(self, h: int) -> tuple[np.ndarray, np.ndarray]:
        a, b = self._slot(h)
        return (self.docs[a:b], self.tf[a:b]) if b > a else (_EMPTY_DOCS, _EMPTY_TF)

    def prefetch(self, hashes: Iterable[int]) -> None:
        """Ask the kernel to read these terms' lists ahead, all at once (a search's first touch of lists not in the
        page cache then waits for one round of reads, not one per page)."""
        for h in hashes:
            a, b = self._slot(h)
            _will_need(self.docs, a, b)
            _will_need(self.tf, a, b)

    def df(self, h: int) -> int:
        a, b = self._slot(h)
        return b - a


def _will_need(arr: np.ndarray, a: int, b: int) -> None:
    mm = getattr(arr, "_mmap", None)
    if mm is None or b <= a or not hasattr(mm, "madvise"):
        return
    base = int(getattr(arr, "offset", 0)) % mmap.ALLOCATIONGRANULARITY  # where the array starts in its mapping
    start = base + a * arr.itemsize
    aligned = start - start % mmap.PAGESIZE
    try:
        mm.madvise(mmap.MADV_WILLNEED, aligned, start - aligned + (b - a) * arr.itemsize)
    except (OSError, ValueError):  # advice only
        pass


_EMPTY_DOCS = np.zeros(0, dtype=np.uint32)
_EMPTY_TF = np.zeros(0, dtype=np.uint8)

Row = tuple[int, str, str, str, str, str]  # pk, title, abstract, authors, comment, categories


TOKENIZE_ROWS = 10_000  # papers whose words are Python objects at once (the rest of a segment is numpy arrays)


def build_segment(rows: Sequence[Row], terms: Terms, name: str = "") -> Segment:
    """The arrays of one segment for these rows (sorted by pk)."""
    n = len(rows)
    pks = np.fromiter((r[0] for r in rows), dtype=np.int64, count=n)
    tids: list[np.ndarray] = []
    docs: list[np.ndarray] = []
    cols: list[np.ndarray] = []
    dl = np.zeros(n, dtype=np.int64)
    for start in range(0, n, TOKENIZE_ROWS):
        part = rows[start:start + TOKENIZE_ROWS]
        numbers = np.arange(start, start + len(part), dtype=np.int64)
        for col in range(4):
            word_ids, text_of = terms.text_ids([cast(str, r[col + 1]) for r in part])
            ids, owner = terms.expand(word_ids, text_of + start)
            tids.append(ids.astype(np.int32))
            docs.append(owner.astype(np.int32))
            cols.append(np.full(len(ids), col, dtype=np.int8))
            dl[start:start + len(part)] += np.bincount(owner - start, minlength=len(part))
        cats = [r[5].split() for r in part]
        dl[start:start + len(part)] += np.fromiter((len(_words(r[5])) for r in part), dtype=np.int64,
                                                   count=len(part))
        cat_ids = [terms.term_id(category_term(c)) for cs in cats for c in cs]
        tids.append(np.asarray(cat_ids, dtype=np.int32))
        docs.append(np.repeat(numbers, [len(cs) for cs in cats]).astype(np.int32))
        cols.append(np.full(len(cat_ids), CATEGORY_COL, dtype=np.int8))
    return _segment_arrays(name, terms, _join(tids, np.int32), _join(docs, np.int32), _join(cols, np.int8), pks,
                           np.minimum(dl, 65535).astype(np.uint16))


def _join(parts: list[np.ndarray], dtype: type) -> np.ndarray:
    out = np.concatenate(parts) if parts else np.zeros(0, dtype=dtype)
    parts.clear()
    return out


def _segment_arrays(name: str, terms: Terms, tids: np.ndarray, docs: np.ndarray, cols: np.ndarray,
                    pks: np.ndarray, dl: np.ndarray) -> Segment:
    """Postings sorted by (term hash, doc): one sort of packed (term rank, doc, column) keys."""
    ndocs = max(len(pks), 1)
    if len(tids) == 0:
        return Segment(name, np.zeros(0, np.uint64), np.zeros(1, np.int64), _EMPTY_DOCS, _EMPTY_TF, pks, dl)
    present = np.flatnonzero(np.bincount(tids))
    hashes = np.asarray([terms.hashes[t] for t in present.tolist()], dtype=np.uint64)
    order = np.argsort(hashes, kind="stable")
    rank = np.zeros(int(present[-1]) + 1, dtype=np.int64)
    rank[present[order]] = np.arange(len(present), dtype=np.int64)
    keys = rank[tids]
    keys *= ndocs
    keys += docs
    keys <<= 3
    keys |= cols
    del tids, docs, cols
    keys.sort()
    pair = keys >> 3
    starts = np.flatnonzero(np.concatenate(([True], pair[1:] != pair[:-1])))
    counts = np.add.reduceat(_COL_WEIGHT2[keys & 7], starts)
    uniq = pair[starts]
    term_rank = uniq // ndocs
    offsets = np.searchsorted(term_rank, np.arange(len(present) + 1, dtype=np.int64)).astype(np.int64)
    return Segment(name, hashes[order], offsets, (uniq % ndocs).astype(np.uint32),
                   np.minimum(counts, 255).astype(np.uint8), pks, dl)


# ---------------------------------------------------------------------------------------------- query plans
@dataclass(frozen=True)
class Unit:
    """A word, a phrase (its terms in order) or a category: what BM25 scores as one."""

    hashes: tuple[int, ...]
    category: bool = False
    tids: tuple[int, ...] = ()  # the terms' ids in this process's `Terms`


@dataclass(frozen=True)
class AllOf:
    items: tuple[PlanNode, ...]


@dataclass(frozen=True)
class AnyOf:
    items: tuple[PlanNode, ...]


@dataclass(frozen=True)
class Without:
    include: PlanNode
    exclude: PlanNode


PlanNode = Unit | AllOf | AnyOf | Without


@dataclass(frozen=True)
class Plan:
    root: PlanNode
    needs_check: bool  # some unit is a phrase: FTS5 decides the match
    units: tuple[Unit, ...]  # the scored ones (not categories, not excluded)


class Unplannable(Exception):
    """A query this index does not rank (fielded words, title words): FTS5 answers it."""


def plan_query(root: Node | None, categories: Sequence[str], title_words: Sequence[str], terms: Terms) -> Plan:
    if title_words:
        raise Unplannable("title words")
    parts: list[PlanNode] = []
    if root is not None:
        parts.append(_plan(root, terms))
    cats = category_list(categories)
    if cats:
        parts.append(AnyOf(tuple(Unit((terms.hashes[terms.term_id(category_term(c))],), True) for c in cats)))
    if not parts:
        raise Unplannable("no words")
    node = parts[0] if len(parts) == 1 else AllOf(tuple(parts))
    scored: list[Unit] = []
    phrases = [False]
    _collect(node, scored, phrases, positive=True)
    if not scored:
        raise Unplannable("nothing scored")
    return Plan(node, phrases[0], tuple(dict.fromkeys(scored)))


def _plan(node: Node, terms: Terms) -> PlanNode:
    if isinstance(node, (Term, Phrase)):
        if node.field == "cat":
            return Unit((terms.hashes[terms.term_id(category_term(node.text))],), True)
        if node.field is not None:
            raise Unplannable("fielded word")
        tids = tuple(t for ws in terms.words_terms(node.text) for t in ws)
        if not tids:
            raise Unplannable("empty word")
        return Unit(tuple(terms.hashes[t] for t in tids), tids=tids)
    if isinstance(node, And):
        return AllOf(tuple(_plan(i, terms) for i in node.items))
    if isinstance(node, Or):
        return AnyOf(tuple(_plan(i, terms) for i in node.items))
    assert isinstance(node, Not)
    return Without(_plan(node.include, terms), _plan(node.exclude, terms))


def _collect(node: PlanNode, scored: list[Unit], phrases: list[bool], positive: bool) -> None:
    if isinstance(node, Unit):
        if len(node.hashes) > 1:
            phrases[0] = True
        if positive and not node.category:
            scored.append(node)
    elif isinstance(node, (AllOf, AnyOf)):
        for i in node.items:
            _collect(i, scored, phrases, positive)
    else:
        _collect(node.include, scored, phrases, positive)
        _collect(node.exclude, scored, phrases, False)


# ---------------------------------------------------------------------------------------------- evaluation
@dataclass
class _Hits:
    """Papers of one segment (local doc numbers, sorted) with each scored unit's weighted count."""

    docs: np.ndarray
    f: dict[Unit, np.ndarray] = field(default_factory=dict)


def _unit_hits(seg: Segment, unit: Unit) -> _Hits:
    lists = [seg.postings(h) for h in unit.hashes]
    lists.sort(key=lambda x: len(x[0]))
    docs, tf = lists[0]
    f = tf.astype(np.float64)  # twice the weighted count, at most 255 (a count past 127 is as good as saturated)
    for other_docs, other_tf in lists[1:]:
        docs, a, b = _meet(docs, other_docs, len(seg.pks))
        f = np.minimum(f[a], other_tf[b])
    return _Hits(docs, {unit: f * 0.5})


def _meet(small: np.ndarray, big: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The docs in both sorted arrays (doc numbers below `n`), with their positions in each."""
    if len(small) > len(big):
        docs, b, a = _meet(big, small, n)
        return docs, a, b
    if len(small) == 0 or len(big) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return small[:0], empty, empty
    if len(small) * MEET_SEARCH < len(big):  # a few into many: binary search
        pos = np.searchsorted(big, small)
        pos[pos >= len(big)] = len(big) - 1
        a = np.flatnonzero(np.asarray(big[pos] == small))
        return small[a], a, pos[a]
    # Lists of like sizes: each doc's position in `big` by direct address, one pass over each list (2.1x faster
    # than binary search for the words of "large language model" at 2.9M papers).
    where = np.full(n, -1, dtype=np.int32)
    where[big] = np.arange(len(big), dtype=np.int32)
    pos = where[small]
    a = np.flatnonzero(pos >= 0)
    return small[a], a, pos[a]


def _take(h: _Hits, idx: np.ndarray) -> _Hits:
    return _Hits(h.docs[idx], {u: f[idx] for u, f in h.f.items()})


def _evaluate(seg: Segment, node: PlanNode, units: dict[Unit, _Hits]) -> _Hits:
    if isinstance(node, Unit):
        if node not in units:
            units[node] = _unit_hits(seg, node)
        return units[node]
    if isinstance(node, AllOf):
        parts = sorted((_evaluate(seg, i, units) for i in node.items), key=lambda h: len(h.docs))
        acc = parts[0]
        for other in parts[1:]:
            docs, a, b = _meet(acc.docs, other.docs, len(seg.pks))
            merged = _take(acc, a)
            for u, f in other.f.items():
                merged.f[u] = np.maximum(merged.f[u], f[b]) if u in merged.f else f[b]
            merged.docs = docs
            acc = merged
        return acc
    if isinstance(node, AnyOf):
        parts = [_evaluate(seg, i, units) for i in node.items]
        docs = np.unique(np.concatenate([p.docs for p in parts])) if parts else _EMPTY_DOCS
        out = _Hits(docs)
        for p in parts:
            pos = np.searchsorted(docs, p.docs)
            for u, f in p.f.items():
                full = out.f.setdefault(u, np.zeros(len(docs)))
                full[pos] = np.maximum(full[pos], f)
        return out
    inc = _evaluate(seg, node.include, units)
    if _exact(node.exclude):  # a phrase excluded is left to FTS5: its words together are not the phrase
        exc = _evaluate(seg, node.exclude, units)
        if len(exc.docs) and len(inc.docs):
            _, a, _ = _meet(inc.docs, exc.docs, len(seg.pks))
            keep = np.ones(len(inc.docs), dtype=bool)
            keep[a] = False
            inc = _take(inc, np.flatnonzero(keep))
    return inc


def _exact(node: PlanNode) -> bool:
    if isinstance(node, Unit):
        return len(node.hashes) == 1
    if isinstance(node, (AllOf, AnyOf)):
        return all(_exact(i) for i in node.items)
    return _exact(node.include) and _exact(node.exclude)


# ---------------------------------------------------------------------------------------------- the index
Texts = tuple[int, str, str, str, str]  # sort key, title, abstract, authors, comment
TextsOf = Callable[[list[int]], dict[int, Texts]]  # pks -> their texts (a deleted paper is missing)
KeysOf = Callable[[list[int]], dict[int, int]]  # pks -> sort keys (a deleted paper is missing)
Verify = Callable[[list[int]], set[int]]  # sort keys -> those the library's FTS5 index matches to the query


def phrase_weight(texts: Sequence[str], tids: tuple[int, ...], terms: Terms) -> float:
    """FTS5's weighted count of a phrase in a paper: its occurrences (consecutive terms) per column, weighted."""
    m, first, want = len(tids), tids[0], list(tids)
    f = 0.0
    for col, text in enumerate(texts):
        if not text:
            continue
        seq = terms.term_list(_words(text))
        count, i = 0, -1
        while True:
            try:
                i = seq.index(first, i + 1)
            except ValueError:
                break
            if seq[i:i + m] == want:
                count += 1
        f += WEIGHTS2[col] * 0.5 * count
    return f


_EMPTY_OWNER = np.zeros(0, dtype=np.int64)


class RankIndex:
    """The segments named by one manifest (plus an in-memory tail): open, search, extend."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._terms: Terms | None = None
        self.segments: list[Segment] = []
        self.seq = 0
        self.docs = 0
        self.tokens = 0
        self._stamp: tuple[int, int] | None = None
        self.tail: Segment | None = None
        self.tail_seq = -1
        self._totals = (0, 0)

    @property
    def terms(self) -> Terms:
        """The word-to-term cache of searches (an FTS5 connection: made on the first search, not by every open)."""
        if self._terms is None:
            self._terms = Terms()
        return self._terms

    # ---- reading
    @property
    def manifest(self) -> Path:
        return self.path / "manifest.json"

    def refresh(self) -> bool:
        """Load the manifest (again when it was replaced); False when there is no index."""
        try:
            st = os.stat(self.manifest)
        except FileNotFoundError:
            self.segments, self._stamp = [], None
            return False
        stamp = (st.st_ino, st.st_mtime_ns)
        if stamp == self._stamp:
            return True
        try:
            data = self.read()
            if data is None or not data.get("complete"):  # a first build not finished yet: FTS5 ranks meanwhile
                self.segments, self._stamp = [], None
                return False
            self.segments = [self._open(str(n)) for n in data["segments"]]  # type: ignore[attr-defined]
        except (OSError, ValueError):  # replaced meanwhile by a merge (the next search reads the new manifest),
            self.segments, self._stamp = [], None  # or damaged (`paperscope check` says so): FTS5 ranks
            return False
        self.seq, self.docs, self.tokens = (int(data[k]) for k in ("seq", "docs", "tokens"))  # type: ignore[call-overload]
        self._stamp = stamp
        self.tail, self.tail_seq = None, -1
        return True

    def _open(self, name: str) -> Segment:
        arrays = [np.load(self.path / f"{name}.{a}.npy", mmap_mode="r") for a in ARRAYS]
        return Segment(name, *arrays)

    def all_segments(self) -> list[Segment]:
        return self.segments + ([self.tail] if self.tail is not None else [])

    def estimate(self, plan: Plan) -> int:
        """How many list entries the plan's scored words hold: what FTS5 would read for it, roughly."""
        return sum(seg.df(h) for seg in self.all_segments() for u in plan.units for h in u.hashes)

    def search(self, plan: Plan, limit: int, keys_of: KeysOf, texts_of: TextsOf, verify: Verify, *,
               docs: int | None = None, tokens: int | None = None) -> list[int]:
        """The sort keys of the `limit` best papers for `plan`, best first, by FTS5's BM25.

        Queries of single words and categories are scored exactly from the lists. With a phrase, each paper's
        score from the lists is an upper bound (a phrase occurs no more often than its rarest word): papers are
        taken in that order, checked by FTS5 and scored exactly from their text, until the `limit`-th exact score
        beats every bound left."""
        segs = self.all_segments()
        words = [h for u in plan.units for h in u.hashes]
        for seg in segs:
            seg.prefetch(words)
        cached: list[dict[Unit, _Hits]] = [{} for _ in segs]
        hits = [_evaluate(seg, plan.root, c) for seg, c in zip(segs, cached)]
        live = [self._live(i, seg, h.docs) for i, (seg, h) in enumerate(zip(segs, hits))]
        hits = [_take(h, keep) if keep is not None else h for h, keep in zip(hits, live)]
        n = max(docs if docs is not None else self.docs, 1)
        avgdl = (tokens if tokens is not None else self.tokens) / n or 1.0
        # One unit alone: its IDF scales every score alike, so a phrase's is not worth estimating.
        idf = {u: self._idf(u, segs, cached, n, texts_of if len(plan.units) > 1 else None) for u in plan.units}
        pk_parts: list[np.ndarray] = []
        dl_parts: list[np.ndarray] = []
        f_parts: dict[Unit, list[np.ndarray]] = {u: [] for u in plan.units}
        for seg, h in zip(segs, hits):
            pk_parts.append(np.asarray(seg.pks[h.docs]))
            dl_parts.append(np.asarray(seg.dl[h.docs], dtype=np.float64))
            for u in plan.units:
                f_parts[u].append(h.f[u] if u in h.f else np.zeros(len(h.docs)))
        if not pk_parts or not sum(len(x) for x in pk_parts):
            return []
        pks, dl = np.concatenate(pk_parts), np.concatenate(dl_parts)
        f = {u: np.concatenate(parts) for u, parts in f_parts.items()}
        norm = K1 * (1 - B + B * dl / avgdl)
        bound = np.zeros(len(pks))
        for u in plan.units:
            bound += idf[u] * (f[u] * (K1 + 1)) / (f[u] + norm)
        if not plan.needs_check:
            return self._best(pks, bound, limit, keys_of)
        top: list[tuple[float, int]] = []  # (-score, sort key)
        step = max(limit, FIRST_BATCH)
        for chunk, next_bound in _descending(bound, step):
            texts = texts_of([int(pks[j]) for j in chunk])
            scored: list[tuple[float, int]] = []
            for j in chunk:
                t = texts.get(int(pks[j]))
                if t is None:
                    continue
                score = 0.0
                for u in plan.units:
                    fu = phrase_weight(t[1:], u.tids, self.terms) if len(u.tids) > 1 else float(f[u][j])
                    score += idf[u] * (fu * (K1 + 1)) / (fu + norm[j])
                scored.append((-score, t[0]))
            # FTS5 checks only the papers that would enter the top: a check can only drop a paper, so one that
            # scores below the current last of the top never enters it.
            last = -top[-1][0] if len(top) >= limit else -math.inf
            hopeful = [x for x in scored if -x[0] > last]
            matched = verify([key for _, key in hopeful]) if hopeful else set()
            top.extend(x for x in hopeful if x[1] in matched)
            top.sort()
            del top[limit:]
            if len(top) >= limit and -top[-1][0] > next_bound:
                break
        return [key for _, key in top]

    @staticmethod
    def _best(pks: np.ndarray, scores: np.ndarray, limit: int, keys_of: KeysOf) -> list[int]:
        """The `limit` best by exact score (ties in FTS5's order: sort key ascending), skipping papers no longer
        in the library."""
        want = limit
        while True:
            if want < len(pks):  # every paper tied with the last one taken comes too, so ties order exactly
                bar = np.partition(scores, len(scores) - want)[len(scores) - want]
                part = np.flatnonzero(scores >= bar)
            else:
                part = np.arange(len(pks))
            keys = keys_of([int(p) for p in pks[part]])
            found = [(-float(scores[j]), keys[int(pks[j])]) for j in part.tolist() if int(pks[j]) in keys]
            found.sort()
            if len(found) >= limit or len(part) >= len(pks):
                return [key for _, key in found[:limit]]
            want *= 4

    def _idf(self, u: Unit, segs: list[Segment], cached: list[dict[Unit, _Hits]], n: int,
             texts_of: TextsOf | None) -> float:
        """FTS5's IDF of a unit: from its papers over the whole index, whatever else the query asks. A phrase's
        papers are estimated: those holding all its words, times the share of a sample that holds the phrase."""
        per = [c[u] if u in c else _unit_hits(seg, u) for seg, c in zip(segs, cached)]
        hit = float(sum(len(h.docs) for h in per))
        if len(u.tids) > 1 and hit and texts_of is not None:
            pks = np.concatenate([np.asarray(seg.pks[h.docs]) for seg, h in zip(segs, per)])
            pick = pks[np.unique(np.linspace(0, len(pks) - 1, min(PHRASE_SAMPLE, len(pks))).astype(np.int64))]
            texts = texts_of(pick.tolist())
            held = sum(1 for t in texts.values() if phrase_weight(t[1:], u.tids, self.terms) > 0)
            hit = max(hit * held / max(len(texts), 1), 1.0)
        value = math.log((n - hit + 0.5) / (hit + 0.5))
        return value if value > 0 else 1e-6

    def _live(self, i: int, seg: Segment, docs: np.ndarray) -> np.ndarray | None:
        """Positions of `docs` whose pk no newer segment holds (a new version moved it there), or None: all."""
        segs = self.all_segments()
        newer = _overlapping(seg, segs[i + 1:])
        if not newer or not len(docs):
            return None
        pks = np.asarray(seg.pks[docs])
        dead = np.zeros(len(pks), dtype=bool)
        for s in newer:
            dead |= _holds(s.pks, pks)
        return np.flatnonzero(~dead)

    # ---- writing
    def read(self) -> dict[str, object] | None:
        try:
            data = json.loads(self.manifest.read_text())
        except FileNotFoundError:
            return None
        return data if isinstance(data, dict) and data.get("format") == FORMAT else None

    def write(self, data: dict[str, object]) -> None:
        """Replace the manifest atomically (and durably: the segments it names were synced before)."""
        tmp = self.path / "manifest.json.tmp"
        tmp.write_text(json.dumps(data))
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, self.manifest)
        dirfd = os.open(self.path, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)

    def write_segment(self, seg: Segment) -> None:
        for a in ARRAYS:
            tmp = self.path / f"{seg.name}.{a}.tmp.npy"
            np.save(tmp, getattr(seg, a))
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            os.replace(tmp, self.path / f"{seg.name}.{a}.npy")

    def has_segment(self, name: str) -> bool:
        return all((self.path / f"{name}.{a}.npy").exists() for a in ARRAYS)

    def sweep(self, keep: Iterable[str]) -> None:
        """Remove files that the manifest does not name (a killed build's, merged segments')."""
        names = set(keep)
        for p in self.path.iterdir():
            if p.name.startswith("manifest") or p.name == "lock":
                continue
            if p.name.split(".", 1)[0] not in names or ".tmp." in p.name:
                p.unlink(missing_ok=True)

    def lock(self) -> _Lock:
        """One writer of the index at a time (a process that dies drops its lock)."""
        return _Lock(self.path / "lock")

    def catch_up(self, seq: int, changed: Callable[[int, int], list[Row] | None]) -> bool:
        """Index in memory what changed after the manifest's mark up to change `seq` (the tail); False when that
        is more than TAIL_MAX changes (then FTS5 ranks). `changed(after, upto)` gives the rows, or None if too many."""
        if seq <= self.seq:
            self.tail, self.tail_seq = None, -1
            self._totals = (self.docs, self.tokens)
            return True
        if self.tail_seq == seq:
            return True
        rows = changed(self.seq, seq)
        if rows is None:
            return False
        self.tail = build_segment(rows, self.terms, "tail") if rows else None
        self.tail_seq = seq
        self._totals = live_totals(self.all_segments())
        return True

    @property
    def totals(self) -> tuple[int, int]:
        """Papers and tokens of the live entries, tail included (each paper counted once, in its newest segment):
        set by `catch_up`."""
        return self._totals


def _descending(values: np.ndarray, first: int) -> Iterator[tuple[list[int], float]]:
    """Positions in descending order of `values`, in batches of `first`, twice, four times as many...; each with
    the largest value not yet given (-inf at the end). Only what is given is sorted: the best 16 batches' worth
    at a time."""
    left = np.arange(len(values))
    batch = first
    while len(left):
        size = 16 * batch
        if len(left) > size:
            pick = np.argpartition(-values[left], size - 1)[:size]
            block = left[pick]
            rest = np.ones(len(left), dtype=bool)
            rest[pick] = False
            left = left[rest]
        else:
            block, left = left, left[:0]
        block = block[np.argsort(-values[block], kind="stable")]
        after = float(values[left].max()) if len(left) else -math.inf
        i = 0
        while i < len(block):
            chunk = block[i:i + batch]
            i += len(chunk)
            batch *= 2
            yield chunk.tolist(), float(values[block[i]]) if i < len(block) else after


def _overlapping(seg: Segment, others: Sequence[Segment]) -> list[Segment]:
    lo, hi = seg.pk_range
    return [s for s in others if s.pk_range[0] <= hi and s.pk_range[1] >= lo]


def _holds(sorted_pks: np.ndarray, pks: np.ndarray) -> np.ndarray:
    """Which of `pks` are in `sorted_pks`."""
    if not len(sorted_pks):
        return np.zeros(len(pks), dtype=bool)
    pos = np.searchsorted(sorted_pks, pks)
    pos[pos >= len(sorted_pks)] = len(sorted_pks) - 1
    return np.asarray(sorted_pks[pos] == pks)


def live_totals(segs: Sequence[Segment]) -> tuple[int, int]:
    """Papers and tokens over the segments, each paper counted in the newest segment that holds it."""
    docs = tokens = 0
    for i, seg in enumerate(segs):
        keep = np.ones(len(seg.pks), dtype=bool)
        for newer in _overlapping(seg, segs[i + 1:]):
            keep &= ~_holds(newer.pks, np.asarray(seg.pks))
        docs += int(np.count_nonzero(keep))
        tokens += int(np.asarray(seg.dl, dtype=np.int64)[keep].sum())
    return docs, tokens


class _Lock:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.fh: IO[str] | None = None

    def __enter__(self) -> _Lock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fh = open(self.path, "a+")
        if fcntl is not None:
            fcntl.flock(self.fh.fileno(), fcntl.LOCK_EX)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.fh is not None:
            self.fh.close()


# ---------------------------------------------------------------------------------------------- building
ROWS_SQL = "SELECT pk, title, abstract, authors, comment, categories FROM papers"
_WORKER_TERMS: Terms | None = None


def changed_pks(conn: sqlite3.Connection, after: int, upto: int, limit: int | None = None) -> list[int]:
    """The papers changed after change `after` up to `upto`, in pk order (at most `limit`)."""
    sql = "SELECT DISTINCT pk FROM changes WHERE seq > ? AND seq <= ? ORDER BY pk"
    args: tuple[int, ...] = (after, upto)
    if limit is not None:
        sql, args = sql + " LIMIT ?", (after, upto, limit)
    return [pk for (pk,) in conn.execute(sql, args)]


def rows_for(conn: sqlite3.Connection, pks: Sequence[int]) -> list[Row]:
    rows: list[Row] = list(select_in(conn, ROWS_SQL + " WHERE pk IN ({in})", pks))
    rows.sort(key=lambda r: r[0])
    return rows


def build_part(db: str, path: str, name: str, lo: int, hi: int, pks: Sequence[int] | None) -> tuple[int, int]:
    """Write one segment: the papers with pk in [lo, hi), or these pks. Runs in a worker process or inline."""
    global _WORKER_TERMS
    if _WORKER_TERMS is None:
        _WORKER_TERMS = Terms()
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = (rows_for(conn, pks) if pks is not None else
                conn.execute(ROWS_SQL + " WHERE pk >= ? AND pk < ? ORDER BY pk", (lo, hi)).fetchall())
    finally:
        conn.close()
    seg = build_segment(rows, _WORKER_TERMS, name)
    RankIndex(Path(path)).write_segment(seg)
    return len(seg.pks), int(seg.dl.astype(np.int64).sum())


Part = tuple[str, int, int, list[int] | None]  # segment name, pk range [lo, hi) or the pks themselves


def _run_parts(db: str, index: RankIndex, parts: Sequence[Part], workers: int,
               done: Callable[[str, int], None]) -> None:
    """Build the parts, in worker processes when there are several and more than one core."""
    if workers > 1 and len(parts) > 1:
        from concurrent.futures import ProcessPoolExecutor, as_completed
        from multiprocessing import get_context

        with ProcessPoolExecutor(min(workers, len(parts)), mp_context=get_context("spawn")) as ex:
            futs = {ex.submit(build_part, db, str(index.path), *p): p[0] for p in parts}
            for fut in as_completed(futs):
                n, _ = fut.result()
                done(futs[fut], n)
    else:
        for p in parts:
            n, _ = build_part(db, str(index.path), *p)
            done(p[0], n)


def update(index: RankIndex, db: str, conn: sqlite3.Connection, seq: int, *, min_papers: int, workers: int,
           progress: Callable[[int], None] | None = None) -> bool:
    """Bring the index on disk up to change `seq`: a first build (resumed if one was killed), then one segment
    (or more, per SEGMENT_PAPERS) for what changed since. False when the library is too small to want one."""
    # max(pk) for the library's size: a B-tree's last row, not the full-table count an import must not pay.
    if index.read() is None and int(conn.execute("SELECT max(pk) FROM papers").fetchone()[0] or 0) < min_papers:
        return False
    index.path.mkdir(parents=True, exist_ok=True)
    with index.lock():
        data = index.read()
        if data is None:
            pks = [pk for (pk,) in conn.execute("SELECT pk FROM papers ORDER BY pk")]
            if len(pks) < min_papers:
                return False
            bounds = pks[::SEGMENT_PAPERS] + [pks[-1] + 1]
            data = {"format": FORMAT, "complete": False, "seq": seq, "docs": 0, "tokens": 0, "segments": [],
                    "build": [[f"b{i:05d}", bounds[i], bounds[i + 1]] for i in range(len(bounds) - 1)],
                    "done": []}
            index.write(data)
        if not data["complete"]:
            build = [tuple(b) for b in data["build"]]  # type: ignore[attr-defined]
            finished: list[str] = [n for n in data["done"] if index.has_segment(n)]  # type: ignore[attr-defined]

            def built(name: str, n: int) -> None:
                finished.append(name)
                data["done"] = finished
                index.write(data)
                if progress:
                    progress(n)

            todo: list[Part] = [(str(n), int(lo), int(hi), None) for n, lo, hi in build if n not in finished]
            _run_parts(db, index, todo, workers, built)
            data["segments"] = [str(b[0]) for b in build]
            data["complete"] = True
            del data["build"], data["done"]
            _set_totals(index, data)
            index.write(data)
        mark = int(data["seq"])  # type: ignore[call-overload]
        if seq > mark:
            changed = changed_pks(conn, mark, seq)
            names = list(data["segments"])  # type: ignore[call-overload]
            groups = [changed[i:i + SEGMENT_PAPERS] for i in range(0, len(changed), SEGMENT_PAPERS)]
            parts: list[Part] = [(f"i{seq:012d}{j:03d}", 0, 0, g) for j, g in enumerate(groups)]
            _run_parts(db, index, parts, workers, lambda name, n: progress(n) if progress else None)
            names += [p[0] for p in parts]
            names = _merge_small(index, db, names, seq)
            data["segments"], data["seq"] = names, seq
            _set_totals(index, data)
            index.write(data)
        index.sweep(list(data["segments"]) + list(data.get("done", [])))  # type: ignore[call-overload]
    return True


def problem(index: RankIndex, seq: int) -> str | None:
    """Why the lists cannot be read as they are (a missing or torn segment, a mark ahead of the library), or None."""
    if not index.path.exists():
        return None
    try:
        data = index.read()
    except (OSError, ValueError) as e:
        return f"unreadable manifest ({e})"
    if data is None:
        return None if not index.manifest.exists() else "a manifest of another format"
    if not data.get("complete"):
        return None  # a first build under way or killed: the next import completes it
    if int(data["seq"]) > seq:  # type: ignore[call-overload]
        return f"they list changes up to {data['seq']}, the library has {seq}"
    for name in data["segments"]:  # type: ignore[attr-defined]
        try:
            seg = index._open(str(name))
        except (OSError, ValueError) as e:
            return f"segment {name}: {e}"
        if (len(seg.offsets) != len(seg.terms) + 1 or int(seg.offsets[-1]) != len(seg.docs)
                or len(seg.tf) != len(seg.docs) or len(seg.dl) != len(seg.pks)
                or (len(seg.pks) > 1 and not bool(np.all(np.diff(seg.pks) > 0)))
                or (len(seg.docs) and int(seg.docs.max()) >= len(seg.pks))):
            return f"segment {name} is inconsistent"
    return None


def _set_totals(index: RankIndex, data: dict[str, object]) -> None:
    segs = [index._open(str(n)) for n in data["segments"]]  # type: ignore[attr-defined]
    data["docs"], data["tokens"] = live_totals(segs)


def _merge_small(index: RankIndex, db: str, names: list[str], seq: int) -> list[str]:
    """More than MAX_SMALL small segments: read their papers again into one (current texts, the newest)."""
    opened = {n: index._open(n) for n in names if not n.startswith("b")}
    small = [n for n, seg in opened.items() if len(seg.pks) < SEGMENT_PAPERS // 2]
    if len(small) <= MAX_SMALL:
        return names
    pks = sorted(set().union(*(opened[n].pks.tolist() for n in small)))
    name = f"m{seq:012d}"
    build_part(db, str(index.path), name, 0, 0, pks)
    return [n for n in names if n not in small] + [name]
