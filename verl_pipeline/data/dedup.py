"""Exact and near-duplicate detection of problem statements: normalised text + word n-gram overlap.

- Exact: two statements are the same when their normalised text (NFKC, lower case, `^ _ $ \\ { }` deleted
  so `10^5`/`105` and `s_1`/`s1` agree, other punctuation dropped, whitespace collapsed) is identical.
- Near: `similarity(A, B) = |A & B| / min(|A|, |B|)` over the two sets of word n-grams ("shingles"): the
  share of the shorter statement found in the longer one. Containment, not Jaccard, because the same
  problem is often published with and without its examples and constraints (rllm's LeetCode copies of
  LiveCodeBench problems score Jaccard 0.3-0.55 but containment ~1.0). When the shorter statement has
  fewer than MIN_CONTAINMENT_SHINGLES shingles, containment says little and Jaccard is used instead.

Candidates come from an exact inverted index: pairs that share a "rare" shingle (one in at most
RARE_DF statements). Shingles more common than that (stock phrases) are not indexed but are counted in
an upper bound, so a pair is only skipped when even its best case is below the threshold: no pair above
the threshold is missed (unlike MinHash-LSH), and every reported similarity is exact. Exact duplicates
are collapsed first, so a statement copied many times does not turn its own shingles into stock phrases.

Pure Python + numpy, deterministic. Not covered: paraphrases (different wording of the same task),
translations, code similarity.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

RARE_DF = 64
MIN_CONTAINMENT_SHINGLES = 20
_JOINERS = re.compile(r"[\^_$\\{}]")
_NON_WORD = re.compile(r"[^0-9a-z]+")


def normalise_text(text: str) -> str:
    """Text with formatting noise removed: what 'the same statement' is compared on."""
    text = _JOINERS.sub("", unicodedata.normalize("NFKC", text).lower())
    return " ".join(_NON_WORD.sub(" ", text).split())


def shingles(normalised: str, n: int) -> frozenset[int]:
    """Word n-grams of a normalised text, as 63-bit hashes (a text shorter than n words is one shingle)."""
    words = normalised.split()
    grams = (" ".join(words[i : i + n]) for i in range(max(1, len(words) - n + 1)))
    return frozenset(int.from_bytes(hashlib.blake2b(g.encode(), digest_size=8).digest(), "little") >> 1 for g in grams)


def similarity(a: frozenset[int], b: frozenset[int]) -> float:
    """Containment of the smaller shingle set in the larger; Jaccard when the smaller one is tiny."""
    inter = len(a & b)
    small = min(len(a), len(b))
    if small >= MIN_CONTAINMENT_SHINGLES:
        return inter / small
    union = len(a) + len(b) - inter
    return inter / union if union else 1.0


@dataclass
class Signatures:
    """Normalised-text digests and shingle sets of a list of statements."""

    digests: list[str]
    shingle_sets: list[frozenset[int]]

    @classmethod
    def build(cls, texts: Sequence[str], ngram: int) -> Signatures:
        norms = [normalise_text(t) for t in texts]
        return cls(
            [hashlib.sha256(n.encode()).hexdigest() for n in norms],
            [shingles(n, ngram) for n in norms],
        )

    def representatives(self) -> list[int]:
        """The first item of each distinct digest, in order."""
        seen: set[str] = set()
        out = []
        for i, d in enumerate(self.digests):
            if d not in seen:
                seen.add(d)
                out.append(i)
        return out


def _upper_bound(shared: np.ndarray, size_i: np.ndarray, size_j: np.ndarray, common_i: np.ndarray,
                 common_j: np.ndarray) -> np.ndarray:
    """Best-case similarity of pairs that share `shared` rare shingles (stock phrases may add more)."""
    inter = shared + np.minimum(common_i, common_j)
    small = np.minimum(size_i, size_j)
    union = np.maximum(size_i + size_j - inter, 1)
    return np.where(small >= MIN_CONTAINMENT_SHINGLES, inter / np.maximum(small, 1), inter / union)


def near_pairs(sets: Sequence[frozenset[int]], threshold: float, side: Sequence[int] | None = None
               ) -> list[tuple[int, int, float]]:
    """(i, j, similarity) for i < j with similarity >= threshold, sorted.

    With `side` (0/1 per item) only pairs across the two sides are considered (decontamination).
    """
    n = len(sets)
    if n < 2:
        return []
    sizes = np.array([len(s) for s in sets], dtype=np.int64)
    doc = np.repeat(np.arange(n, dtype=np.int64), sizes)
    hashes = np.fromiter((h for s in sets for h in s), dtype=np.int64, count=int(sizes.sum()))
    order = np.lexsort((doc, hashes))
    hashes, doc = hashes[order], doc[order]
    starts = np.flatnonzero(np.r_[True, hashes[1:] != hashes[:-1]])
    counts = np.diff(np.r_[starts, len(hashes)])
    # shingles in more than RARE_DF statements are stock phrases: not indexed, only counted in the bound
    common = np.bincount(doc[np.repeat(counts > RARE_DF, counts)], minlength=n)
    codes = []
    for size in range(2, RARE_DF + 1):
        group_starts = starts[counts == size]
        if not len(group_starts):
            continue
        members = doc[group_starts[:, None] + np.arange(size)]  # [G, size], sorted within a row
        a, b = np.triu_indices(size, k=1)
        ii, jj = members[:, a].ravel(), members[:, b].ravel()
        if side is not None:
            s = np.asarray(side)
            keep = s[ii] != s[jj]
            ii, jj = ii[keep], jj[keep]
        codes.append(ii * n + jj)
    if not codes:
        return []
    pair_codes, shared = np.unique(np.concatenate(codes), return_counts=True)
    ii, jj = pair_codes // n, pair_codes % n
    bound = _upper_bound(shared, sizes[ii], sizes[jj], common[ii], common[jj])
    out = []
    for i, j in zip(ii[bound >= threshold].tolist(), jj[bound >= threshold].tolist(), strict=True):
        sim = similarity(sets[i], sets[j])
        if sim >= threshold:
            out.append((i, j, sim))
    return out


def duplicate_clusters(sigs: Signatures, threshold: float) -> list[list[int]]:
    """Groups of items that are exact or near duplicates (transitively), each sorted; singletons included."""
    n = len(sigs.digests)
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(x: int, y: int) -> None:
        rx, ry = root(x), root(y)
        if rx != ry:
            parent[max(rx, ry)] = min(rx, ry)

    first: dict[str, int] = {}
    for i, d in enumerate(sigs.digests):
        union(first.setdefault(d, i), i)
    reps = sigs.representatives()
    for a, b, _ in near_pairs([sigs.shingle_sets[r] for r in reps], threshold):
        union(reps[a], reps[b])
    groups: dict[int, list[int]] = defaultdict(list)
    for x in range(n):
        groups[root(x)].append(x)
    return [groups[k] for k in sorted(groups)]


def contaminated(train: Signatures, test: Signatures, threshold: float) -> dict[int, tuple[int, float]]:
    """For each train item that matches a test item: (that test item, similarity; 1.0 = same text).

    The best-matching test item is reported (highest similarity, then lowest index).
    """
    test_by_digest: dict[str, int] = {}
    for j, d in enumerate(test.digests):
        test_by_digest.setdefault(d, j)
    out: dict[int, tuple[int, float]] = {
        i: (test_by_digest[d], 1.0) for i, d in enumerate(train.digests) if d in test_by_digest
    }
    train_reps, test_reps = train.representatives(), test.representatives()
    sets = [train.shingle_sets[r] for r in train_reps] + [test.shingle_sets[r] for r in test_reps]
    side = [0] * len(train_reps) + [1] * len(test_reps)
    best: dict[str, tuple[float, int]] = {}  # train digest -> (-similarity, test index)
    for a, b, sim in near_pairs(sets, threshold, side):
        i, j = train_reps[a], test_reps[b - len(train_reps)]
        key = train.digests[i]
        best[key] = min(best.get(key, (0.0, 1 << 62)), (-sim, j))
    for i, d in enumerate(train.digests):
        if i not in out and d in best:
            out[i] = (best[d][1], -best[d][0])
    return out
