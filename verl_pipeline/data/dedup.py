"""Exact and near-duplicate detection of problem statements: normalised text + word n-gram Jaccard.

- Exact: two statements are the same when their normalised text (NFKC, lower case, LaTeX `$` and
  punctuation dropped, whitespace collapsed) is identical.
- Near: Jaccard similarity of their sets of word n-grams ("shingles") is at least a threshold. Candidate
  pairs come from MinHash + locality-sensitive hashing (banding); every candidate is then checked with the
  exact Jaccard of the shingle sets, so the decision never depends on the MinHash estimate, only whether a
  pair is looked at. LSH recall at the threshold is > 99% with the band sizes chosen below.

Pure Python + numpy, deterministic (fixed hash seeds, sorted iteration). Not covered: semantic
paraphrases (different wording of the same task), statements in different languages, code similarity.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

NUM_PERM = 128
_MERSENNE = np.uint64((1 << 61) - 1)
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_text(text: str) -> str:
    """Text with formatting noise removed: what 'the same statement' is compared on."""
    text = unicodedata.normalize("NFKC", text).lower()
    return " ".join(_NON_WORD.sub(" ", text).split())


def shingles(normalised: str, n: int) -> frozenset[int]:
    """Word n-grams of a normalised text, as 64-bit hashes (a text shorter than n is one shingle)."""
    words = normalised.split()
    grams = [" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1))]
    return frozenset(int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") for g in grams)


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a and not b:
        return 1.0
    return len(a & b) / len(a | b)


def _band_rows(threshold: float) -> int:
    """Rows per LSH band: the largest r whose S-curve (1/b)^(1/r) sits at least 0.15 below the threshold,
    so pairs at the threshold are almost surely candidates while unrelated pairs rarely are."""
    for r in (16, 8, 4, 2, 1):
        b = NUM_PERM // r
        if (1.0 / b) ** (1.0 / r) <= threshold - 0.15:
            return r
    return 1


@dataclass
class Signatures:
    """Normalised-text digests, shingle sets and MinHash signatures of a list of statements."""

    digests: list[str]
    shingle_sets: list[frozenset[int]]
    minhashes: np.ndarray  # [N, NUM_PERM] uint64

    @classmethod
    def build(cls, texts: Sequence[str], ngram: int) -> Signatures:
        rng = np.random.default_rng(20240408)  # fixed: signatures must not change between runs
        # a < 2^31 and x < 2^32 keep a*x + b below 2^64, so uint64 arithmetic cannot wrap
        a = rng.integers(1, 1 << 31, size=NUM_PERM, dtype=np.uint64)
        b = rng.integers(0, 1 << 31, size=NUM_PERM, dtype=np.uint64)
        digests, sets = [], []
        mins = np.empty((len(texts), NUM_PERM), dtype=np.uint64)
        for i, text in enumerate(texts):
            norm = normalise_text(text)
            digests.append(hashlib.sha256(norm.encode()).hexdigest())
            sh = shingles(norm, ngram)
            sets.append(sh)
            x = (np.fromiter(sh, dtype=np.uint64, count=len(sh)) & np.uint64(0xFFFFFFFF))[:, None]
            mins[i] = ((x * a + b) % _MERSENNE).min(axis=0)
        return cls(digests, sets, mins)

    def band_keys(self, i: int, rows: int) -> list[bytes]:
        sig = self.minhashes[i]
        return [bytes([k]) + sig[k * rows : (k + 1) * rows].tobytes() for k in range(NUM_PERM // rows)]


@dataclass(frozen=True)
class Match:
    """Item `i` duplicates item `j` (exact, or near with this Jaccard similarity)."""

    i: int
    j: int
    similarity: float
    exact: bool


def _lsh_candidates(query: Signatures, index: Signatures, rows: int, same: bool) -> dict[int, set[int]]:
    buckets: dict[bytes, list[int]] = defaultdict(list)
    for j in range(len(index.digests)):
        for key in index.band_keys(j, rows):
            buckets[key].append(j)
    out: dict[int, set[int]] = defaultdict(set)
    for i in range(len(query.digests)):
        for key in query.band_keys(i, rows):
            for j in buckets.get(key, ()):
                if not same or j != i:
                    out[i].add(j)
    return out


def find_matches(query: Signatures, index: Signatures, threshold: float, same: bool = False) -> list[Match]:
    """Every (i in query, j in index) pair that is an exact or near duplicate, best match first per i.

    With `same=True` query and index are one list and only pairs i != j are reported.
    """
    by_digest: dict[str, list[int]] = defaultdict(list)
    for j, d in enumerate(index.digests):
        by_digest[d].append(j)
    candidates = _lsh_candidates(query, index, _band_rows(threshold), same)
    matches = []
    for i, digest in enumerate(query.digests):
        exact = {j for j in by_digest.get(digest, ()) if not (same and j == i)}
        found = [Match(i, j, 1.0, True) for j in sorted(exact)]
        for j in sorted(candidates.get(i, set()) - exact):
            sim = jaccard(query.shingle_sets[i], index.shingle_sets[j])
            if sim >= threshold:
                found.append(Match(i, j, sim, False))
        matches += sorted(found, key=lambda m: (-m.similarity, m.j))
    return matches


def cluster(n: int, matches: list[Match]) -> list[list[int]]:
    """Connected components of the duplicate graph over items 0..n-1, each sorted, in order of first item."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for m in matches:
        ri, rj = root(m.i), root(m.j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups: dict[int, list[int]] = defaultdict(list)
    for x in range(n):
        groups[root(x)].append(x)
    return [groups[k] for k in sorted(groups)]
