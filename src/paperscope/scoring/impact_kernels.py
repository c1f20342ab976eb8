"""Bulk kernels of the pre-trained impact model: the words score and the trees' leaves, for many papers at once.

`impact.py` defines what the model computes; this module computes the same thing for thousands of papers
without a Python step per word or per tree node (2.9M arXiv papers must score in minutes).

Words. The word model's tokens are `\\b[a-zA-Z][a-zA-Z0-9\\-]+\\b` on the lower-cased text. In ASCII text a
token lies inside one run of [a-zA-Z0-9-] characters and each run holds at most one: it starts at the run's
first letter that follows a non-word character (the run's start, or a letter after '-') and ends at the
last word boundary of the run (the run's end when it ends in a letter or digit, else just before its
trailing hyphens). Runs next to '_' (a word character outside the class) are rare and go through the regex
itself, as do texts with non-ASCII characters (Unicode word boundaries). The runs and their tokens are
found with numpy over all texts joined as bytes; a token of up to 16 bytes is looked up as its bytes read
as two 64-bit integers in an open-addressing table (longer ones, rare, in a dict), word pairs as integer
keys in another, and the tf-idf sums are taken per paper with one sort and `np.bincount`.

Trees. The leaf each paper reaches in each tree is found with bit masks per feature (`TreeKernel`: the
QuickScorer scheme of Lucchese et al., 2015). Path attribution depends only on the leaf reached, so each
leaf's points per input group are summed once, when the model is compiled.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import repeat

import numpy as np

_LETTER, _DIGIT, _HYPHEN, _UNDER = 1, 2, 4, 8
_CLASS = np.zeros(256, dtype=np.uint8)
for _c in b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ":
    _CLASS[_c] = _LETTER
for _c in b"0123456789":
    _CLASS[_c] = _DIGIT
_CLASS[ord("-")] = _HYPHEN
_CLASS[ord("_")] = _UNDER
_IN_RUN = (_CLASS & (_LETTER | _DIGIT | _HYPHEN)) != 0
_MULT = np.uint64(0x9E3779B97F4A7C15)
_MULT2 = np.uint64(0xC2B2AE3D27D4EB4F)


class IntTable:
    """A fixed map of non-negative int64 keys to int64 values, looked up for whole arrays at once."""

    def __init__(self, keys: np.ndarray, values: np.ndarray) -> None:
        bits = max(4, int(np.ceil(np.log2(max(1, len(keys)) * 4))))
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._keys = np.full(1 << bits, -1, dtype=np.int64)
        self._values = np.full(1 << bits, -1, dtype=np.int64)
        for k, v, s in zip(keys.tolist(), values.tolist(), self._slots(np.asarray(keys, dtype=np.int64)).tolist()):
            while self._keys[s] not in (-1, k):
                s = (s + 1) & self._mask
            self._keys[s], self._values[s] = k, v

    def _slots(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.astype(np.uint64) * _MULT) >> self._shift).astype(np.int64)

    def get(self, keys: np.ndarray) -> np.ndarray:
        """The value of each key, -1 where the table has none."""
        want = np.asarray(keys, dtype=np.int64)
        slot = self._slots(want)
        have = self._keys[slot]
        hit = have == want
        out = np.where(hit, self._values[slot], -1)
        todo = np.flatnonzero(~hit & (have != -1))  # a slot of another key: probe on
        want, slot = want[todo], (slot[todo] + 1) & self._mask
        while todo.size:
            have = self._keys[slot]
            hit = have == want
            out[todo[hit]] = self._values[slot[hit]]
            more = ~hit & (have != -1)
            todo, want, slot = todo[more], want[more], (slot[more] + 1) & self._mask
        return out


_KEEP = np.array([(1 << (8 * k)) - 1 for k in range(9)], dtype=np.uint64)


class ShortWords:
    """ASCII words of up to 16 bytes -> ids, looked up by (start, length) in a byte buffer, all at once.

    A word is its bytes read as two little-endian 64-bit integers (zero past its end): exact, no hashing
    collisions to fear; the pair is hashed only to pick a slot of an open-addressing table.
    """

    def __init__(self, words: dict[bytes, int]) -> None:
        short = {w: i for w, i in words.items() if 0 < len(w) <= 16}
        bits = max(4, int(np.ceil(np.log2(max(1, len(short)) * 4))))
        self._shift = np.uint64(64 - bits)
        self._mask = (1 << bits) - 1
        self._lo = np.zeros(1 << bits, dtype=np.uint64)
        self._hi = np.zeros(1 << bits, dtype=np.uint64)
        self._ids = np.full(1 << bits, -1, dtype=np.int64)
        lo = np.array([int.from_bytes(w[:8], "little") for w in short], dtype=np.uint64)
        hi = np.array([int.from_bytes(w[8:16], "little") for w in short], dtype=np.uint64)
        for i, lo_, hi_, slot in zip(short.values(), lo.tolist(), hi.tolist(), self._slots(lo, hi).tolist()):
            while self._ids[slot] != -1:
                slot = (slot + 1) & self._mask
            self._lo[slot], self._hi[slot], self._ids[slot] = lo_, hi_, i

    def _slots(self, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
        slots: np.ndarray = (((lo ^ (hi * _MULT2)) * _MULT) >> self._shift).astype(np.int64)
        return slots

    def get(self, buf: bytes, start: np.ndarray, length: np.ndarray) -> np.ndarray:
        """The id of each word buf[start:start + length] (length <= 16; buf 16 bytes longer than any end)."""
        as_u64 = np.ndarray((len(buf) - 7,), dtype="<u8", buffer=buf, offset=0, strides=(1,))
        lo = as_u64[start] & _KEEP[np.minimum(length, 8)]
        hi = as_u64[start + 8] & _KEEP[np.clip(length - 8, 0, 8)]
        slot = self._slots(lo, hi)
        ids = self._ids[slot]
        hit = (self._lo[slot] == lo) & (self._hi[slot] == hi)
        out = np.where(hit, ids, -1)
        todo = np.flatnonzero(~hit & (ids >= 0))  # a filled slot of another word: probe on
        lo, hi, slot = lo[todo], hi[todo], (slot[todo] + 1) & self._mask
        while todo.size:
            ids = self._ids[slot]
            hit = (self._lo[slot] == lo) & (self._hi[slot] == hi) & (ids >= 0)
            out[todo[hit]] = ids[hit]
            more = ~hit & (ids >= 0)
            todo, lo, hi, slot = todo[more], lo[more], hi[more], (slot[more] + 1) & self._mask
        return out


@dataclass(slots=True)
class WordKernel:
    """The word model's vocabulary laid out for bulk lookup (see the module doc)."""

    token: re.Pattern[str]  # the word model's token pattern, run on texts the fast path does not take
    word_ids: dict[str, int]  # every word of the vocabulary (alone or in a pair) -> word id
    byte_ids: dict[bytes, int]  # the same, keyed by ASCII bytes
    short: ShortWords  # the same, for words of up to 16 bytes
    unigram: np.ndarray  # word id -> vocabulary column of the word alone (-1: only in pairs); [-1] = -1
    pairs: IntTable  # word id a * n_words + word id b -> vocabulary column of "a b"
    n_words: int

    @classmethod
    def build(cls, index: dict[str, int], token: re.Pattern[str]) -> WordKernel:
        words: dict[str, int] = {}
        for term in index:
            for w in term.split(" "):
                words.setdefault(w, len(words))
        unigram = np.full(len(words) + 1, -1, dtype=np.int64)
        pair_keys, pair_cols = [], []
        n = len(words)
        for term, col in index.items():
            parts = term.split(" ")
            if len(parts) == 1:
                unigram[words[term]] = col
            elif len(parts) == 2:
                pair_keys.append(words[parts[0]] * n + words[parts[1]])
                pair_cols.append(col)
        byte_ids = {w.encode("ascii"): i for w, i in words.items() if w.isascii()}
        return cls(token, words, byte_ids, ShortWords(byte_ids), unigram,
                   IntTable(np.array(pair_keys, dtype=np.int64), np.array(pair_cols, dtype=np.int64)), n)

    def word_sequence(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(doc, word id) of every token of every text: each text's tokens together and in reading order (the
        texts themselves in any order); word id -1: not in the vocabulary."""
        lowered = [t.lower() for t in texts]
        fast = [i for i, t in enumerate(lowered) if t.isascii()]
        docs, ids = [], []
        if fast:
            d, w = self._ascii_sequence([lowered[i] for i in fast])
            docs.append(np.asarray(fast, dtype=np.int64)[d])
            ids.append(w)
        get = self.word_ids.get
        for i, t in enumerate(lowered):
            if not t.isascii():
                toks = self.token.findall(t)
                docs.append(np.full(len(toks), i, dtype=np.int64))
                ids.append(np.fromiter(map(get, toks, repeat(-1)), dtype=np.int64, count=len(toks)))
        if not docs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        return np.concatenate(docs), np.concatenate(ids)

    def _ascii_sequence(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
        buf = b"\n" + "\n".join(texts).encode("ascii") + b"\n" + bytes(16)
        raw = np.frombuffer(buf, dtype=np.uint8)
        in_run = _IN_RUN[raw]
        edge = np.flatnonzero(in_run[1:] != in_run[:-1]) + 1
        start, end = edge[0::2], edge[1::2]  # buf begins and ends outside a run
        first, before, after = _CLASS[raw[start]], _CLASS[raw[start - 1]], _CLASS[raw[end]]
        alnum_end = (_CLASS[raw[end - 1]] & (_LETTER | _DIGIT)) != 0
        near_under = (before == _UNDER) | (after == _UNDER)
        hyphen = np.flatnonzero(raw == ord("-"))  # runs never start or end the buffer: hyphen +- 1 is inside
        # The token of a run: from its first letter after a non-word character to its last word boundary.
        p = start.copy()
        later = np.flatnonzero(first != _LETTER)
        if later.size:
            lah = hyphen[_CLASS[raw[hyphen + 1]] == _LETTER] + 1  # letters after a hyphen
            k = np.searchsorted(lah, start[later])
            p[later] = np.append(lah, len(buf))[k]
        e = end.copy()
        trail = np.flatnonzero(~alnum_end)
        if trail.size:
            hal = hyphen[(_CLASS[raw[hyphen - 1]] & (_LETTER | _DIGIT)) != 0]  # hyphens after a letter or digit
            k = np.searchsorted(hal, end[trail]) - 1
            q = np.append(hal, -1)[k]  # k = -1: none
            e[trail] = np.where(q > start[trail], q, -1)
        has = (p < end) & (e - p >= 2) & ~near_under
        ids = np.full(len(start), -1, dtype=np.int64)
        tok = np.flatnonzero(has)
        ps, length = p[tok], e[tok] - p[tok]
        short = length <= 16
        ids[tok[short]] = self.short.get(buf, ps[short], length[short])
        get = self.byte_ids.get
        for r in tok[~short].tolist():
            ids[r] = get(buf[p[r]:e[r]], -1)
        count = has.astype(np.int64)
        extra: dict[int, list[int]] = {}
        wget = self.word_ids.get
        for r in np.flatnonzero(near_under).tolist():  # the regex decides, with one character of context
            toks = [wget(t, -1) for t in self.token.findall(buf[start[r] - 1:end[r] + 1].decode("ascii"))]
            count[r] = len(toks)
            if toks:
                extra[r] = toks
        pos = np.cumsum(count) - count
        out_ids = np.empty(int(count.sum()), dtype=np.int64)
        out_ids[pos[tok]] = ids[tok]
        for r, toks in extra.items():
            out_ids[pos[r]:pos[r] + len(toks)] = toks
        # Runs are in buffer order and never cross the separators: count them per text.
        bounds = np.cumsum([1] + [len(t) + 1 for t in texts])
        runs_per_doc = np.diff(np.searchsorted(start, bounds))
        run_doc = np.repeat(np.arange(len(texts), dtype=np.int64), runs_per_doc)
        return np.repeat(run_doc, count), out_ids

    def scores(self, texts: Sequence[str], idf: np.ndarray, coef: np.ndarray, intercept: float,
               chunk: int = 2048) -> np.ndarray:
        """intercept + w . tfidf(text) / |tfidf(text)| for each text (sublinear tf), as `WordModel.score`."""
        out = np.full(len(texts), float(intercept))
        for i in range(0, len(texts), chunk):
            out[i:i + chunk] += self._scores(texts[i:i + chunk], idf, coef)
        return out

    def _scores(self, texts: Sequence[str], idf: np.ndarray, coef: np.ndarray) -> np.ndarray:
        out = np.zeros(len(texts))
        doc, wid = self.word_sequence(texts)
        if not len(doc):
            return out
        known = wid >= 0
        uni_col = self.unigram[wid]  # its last entry, -1, for wid -1
        same = (doc[1:] == doc[:-1]) & known[1:] & known[:-1]
        left = np.flatnonzero(same)
        pair_col = self.pairs.get(wid[left] * self.n_words + wid[left + 1])
        hit_uni, hit_pair = uni_col >= 0, pair_col >= 0
        cols = np.concatenate([uni_col[hit_uni], pair_col[hit_pair]])
        docs = np.concatenate([doc[hit_uni], doc[left[hit_pair]]])
        if not len(cols):
            return out
        wide = len(texts) * len(idf) >= 2**31
        key = np.sort(docs * len(idf) + cols if wide else (docs * len(idf) + cols).astype(np.int32))
        head = np.flatnonzero(np.concatenate([[True], key[1:] != key[:-1]]))
        counts = np.diff(np.append(head, len(key)))
        d, c = np.divmod(key[head].astype(np.int64), len(idf))
        w = (1.0 + np.log(counts.astype(float))) * idf[c]
        num = np.bincount(d, weights=w * coef[c], minlength=len(texts))
        den = np.bincount(d, weights=w * w, minlength=len(texts))
        has = den > 0
        out[has] = num[has] / np.sqrt(den[has])
        return out


@dataclass(slots=True)
class TreeKernel:
    """A tree ensemble laid out to find the leaf of many rows in every tree at once, without a walk.

    Each tree's leaves, left to right, are the bits of one word. A node's test failing (x > threshold: go
    right) rules out the leaves of its left subtree; the leaf a row reaches is the leftmost leaf no failing
    test rules out. Per feature, the tests that fail for a value are those with a threshold below it, so
    with the feature's thresholds sorted, the value's rank among them picks one precomputed row of masks
    (one word per tree) that rules out all of them at once: a row of the data costs one AND of a row of
    masks per feature, then the lowest bit left in each tree's word.
    """

    features: np.ndarray  # the features some tree splits on
    thresholds: list[np.ndarray]  # per feature: its thresholds, sorted, unique
    offsets: np.ndarray  # per feature: its first row in `masks`
    masks: np.ndarray  # (rows, trees): the leaves still possible once the first k thresholds fail
    leaf_node: np.ndarray  # tree * width + bit -> the leaf's node index
    width: int  # bits per tree word

    @classmethod
    def build(cls, feature: np.ndarray, threshold: np.ndarray, left: np.ndarray, right: np.ndarray,
              roots: np.ndarray) -> TreeKernel:
        n_trees = len(roots)
        tree_of = np.full(len(feature), -1, dtype=np.int64)
        rule_out: dict[int, int] = {}  # inner node -> bits of the leaves of its left subtree
        leaves: list[list[int]] = []
        for t, r in enumerate(roots.tolist()):
            order: list[int] = []

            def visit(n: int, t: int = t, order: list[int] = order) -> None:
                tree_of[n] = t
                if feature[n] < 0:
                    order.append(n)
                    return
                lo = len(order)
                visit(int(left[n]))
                rule_out[n] = ((1 << len(order)) - 1) ^ ((1 << lo) - 1)
                visit(int(right[n]))

            visit(r)
            leaves.append(order)
        width = max(len(o) for o in leaves)
        if width > 64:
            raise ValueError(f"a tree has {width} leaves; the kernel reads at most 64")
        width = 32 if width <= 32 else 64
        dtype = np.uint32 if width == 32 else np.uint64
        full = (1 << width) - 1
        leaf_node = np.zeros(n_trees * width, dtype=np.int64)
        for t, order in enumerate(leaves):
            leaf_node[t * width:t * width + len(order)] = order
        inner = np.flatnonzero(feature >= 0)
        feats = np.unique(feature[inner])
        thresholds, blocks, offsets = [], [], []
        at = 0
        for f in feats.tolist():
            nodes = inner[feature[inner] == f]
            u = np.unique(threshold[nodes])
            rank = np.searchsorted(u, threshold[nodes])
            block = np.full((len(u) + 1, n_trees), full, dtype=np.uint64)
            for k in range(len(u)):
                block[k + 1] = block[k]
                for n in nodes[rank == k].tolist():
                    block[k + 1, tree_of[n]] &= full ^ rule_out[n]
            thresholds.append(u)
            blocks.append(block.astype(dtype))
            offsets.append(at)
            at += len(u) + 1
        return cls(feats.astype(np.int64), thresholds, np.array(offsets, dtype=np.int64),
                   np.concatenate(blocks), leaf_node, width)

    def leaves(self, x: np.ndarray, chunk: int = 256) -> np.ndarray:
        """(rows, trees): the node index of the leaf each row reaches in each tree."""
        x = np.asarray(x, dtype=float)
        n, n_trees = len(x), self.masks.shape[1]
        # NaN ranks past every threshold, so it fails every test (goes right), as `x <= threshold` does.
        rank = np.empty((len(self.features), n), dtype=np.int64)
        for j, (f, u) in enumerate(zip(self.features.tolist(), self.thresholds)):
            rank[j] = self.offsets[j] + np.searchsorted(u, x[:, f], side="left")
        out = np.empty((n, n_trees), dtype=np.int64)
        base = np.arange(n_trees, dtype=np.int64) * self.width
        for i in range(0, n, chunk):
            m = min(chunk, n - i)
            acc = np.full((m, n_trees), np.iinfo(self.masks.dtype).max, dtype=self.masks.dtype)
            buf = np.empty_like(acc)
            for r, none_fail in zip(rank[:, i:i + m], self.offsets.tolist()):
                fail = np.flatnonzero(r != none_fail)  # rank 0 (no test fails) is all ones: nothing to AND
                if len(fail) == m:
                    np.take(self.masks, r, axis=0, out=buf)
                    acc &= buf
                elif len(fail):  # a flag most papers lack (a venue, a field): only the rows that have it
                    acc[fail] &= self.masks[r[fail]]
            low = acc & (~acc + 1)  # the lowest bit left; frexp reads its place exactly
            bit = np.frexp(low.astype(float))[1] - 1
            out[i:i + m] = self.leaf_node[base + bit]
        return out


def leaf_points(feature: np.ndarray, left: np.ndarray, right: np.ndarray, value: np.ndarray, roots: np.ndarray,
                groups: np.ndarray, n_groups: int) -> np.ndarray:
    """(nodes, groups): at each leaf, what its root-to-leaf path credits to each group of columns
    (`groups[column]`); zero at inner nodes."""
    out = np.zeros((len(feature), n_groups))
    for r in roots.tolist():
        stack = [(r, np.zeros(n_groups))]
        while stack:
            n, acc = stack.pop()
            f = int(feature[n])
            if f < 0:
                out[n] = acc
                continue
            for child in (int(left[n]), int(right[n])):
                a = acc.copy()
                a[groups[f]] += value[child] - value[n]
                stack.append((child, a))
    return out
