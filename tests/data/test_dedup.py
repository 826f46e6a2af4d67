"""Statement normalisation, n-gram overlap, near-duplicate clusters and decontamination."""

import json
from pathlib import Path

from verl_pipeline.data.dedup import (
    MIN_CONTAINMENT_SHINGLES,
    RARE_DF,
    Signatures,
    contaminated,
    duplicate_clusters,
    near_pairs,
    normalise_text,
    shingles,
    similarity,
)

FIXTURES = Path(__file__).parent / "fixtures"


def _words(n: int, prefix: str = "w") -> str:
    return " ".join(f"{prefix}{i}" for i in range(n))


def test_normalisation_ignores_case_punctuation_latex_and_superscript_markers():
    assert normalise_text("Given $N$ (1 \\le N \\le 10^5),  print   A_1!") == normalise_text("given n 1 le n le 105 print a1")


def test_short_text_is_one_shingle():
    assert len(shingles("a b c", 5)) == 1 and len(shingles(_words(10), 5)) == 6


def test_similarity_is_containment_of_the_shorter_statement():
    long = shingles(normalise_text(_words(100)), 5)
    half = shingles(normalise_text(_words(50)), 5)  # a prefix: every one of its 46 shingles is in `long`
    assert similarity(long, half) == 1.0


def test_similarity_falls_back_to_jaccard_for_tiny_statements():
    a = shingles(_words(8), 5)  # 4 shingles < MIN_CONTAINMENT_SHINGLES
    b = shingles(_words(10), 5)  # 6 shingles, 4 shared: Jaccard 4 / 6
    assert len(a) < MIN_CONTAINMENT_SHINGLES and abs(similarity(a, b) - 4 / 6) < 1e-12


def test_near_pairs_finds_pairs_sharing_only_stock_phrases_through_the_upper_bound():
    # RARE_DF + 1 statements share one long stock phrase: those shingles are not indexed, yet the pair of
    # statements that differ in one trailing word must still be found
    stock = _words(60, "s")
    texts = [f"{stock} {_words(3, f'u{i}_')}" for i in range(RARE_DF + 1)]
    texts.append(f"{stock} {_words(3, 'u0_')} extra")
    sets = [shingles(normalise_text(t), 5) for t in texts]
    pairs = {(i, j) for i, j, _ in near_pairs(sets, 0.9)}
    assert (0, len(texts) - 1) in pairs


def test_near_pairs_respects_sides():
    sets = [shingles(normalise_text(_words(40)), 5)] * 3
    assert {(i, j) for i, j, _ in near_pairs(sets, 0.9, side=[0, 0, 1])} == {(0, 2), (1, 2)}


def test_clusters_are_transitive_and_keep_singletons():
    a = _words(60)
    b = a + " " + _words(6, "x")  # contains a
    c = "completely different " + _words(40, "z")
    clusters = duplicate_clusters(Signatures.build([a, c, b, a.upper()], 5), 0.9)
    assert clusters == [[0, 2, 3], [1]]


def test_real_leetcode_copy_without_examples_is_found_as_contamination():
    # LiveCodeBench train #101 is LeetCode test #19 with examples and constraints: Jaccard ~0.38, containment 1.0
    train = json.loads((FIXTURES / "rllm" / "livecodebench_train.json").read_text())
    test = json.loads((FIXTURES / "test_sets" / "leetcode_test.json").read_text())
    from verl_pipeline.data.formats import split_leetcode_statement

    hits = contaminated(Signatures.build([r["problem"] for r in train], 5),
                        Signatures.build([split_leetcode_statement(r["problem"])[0] for r in test], 5), 0.9)
    assert set(hits) == {1} and hits[1][0] == 0 and hits[1][1] > 0.99
