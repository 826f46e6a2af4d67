"""pass@k against hand-computed values (Chen et al. 2021 unbiased estimator)."""

import math

import pytest

from verl_pipeline.eval.passk import mean_pass_at_k, pass_at_k


@pytest.mark.parametrize("n, c, k, expected", [
    (4, 1, 1, 0.25),  # pass@1 = c / n = 1/4
    (4, 1, 2, 0.5),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
    (4, 1, 4, 1.0),  # 1 - C(3,4)/C(4,4) = 1 - 0/1: every 4-subset holds the correct sample
    (10, 3, 4, 1 - 35 / 210),  # 1 - C(7,4)/C(10,4) = 1 - 35/210 = 0.8333...
    (8, 0, 8, 0.0),  # no correct sample
    (8, 8, 1, 1.0),
    (5, 2, 3, 1 - 1 / 10),  # 1 - C(3,3)/C(5,3) = 1 - 1/10
])
def test_pass_at_k_matches_hand_computed_values(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-12)


def test_pass_at_1_is_the_mean_over_samples():
    assert pass_at_k(7, 3, 1) == pytest.approx(3 / 7)


def test_pass_at_k_is_stable_where_the_binomials_are_huge():
    # C(2000, 1000) has ~600 digits; the product form needs no big numbers. Reference: exact integers.
    exact = 1 - math.comb(1900, 1000) / math.comb(2000, 1000)
    assert pass_at_k(2000, 100, 1000) == pytest.approx(exact, rel=1e-12)


def test_k_greater_than_n_is_not_available():
    assert pass_at_k(3, 3, 4) is None


def test_mean_skips_problems_with_too_few_samples_and_says_how_many_counted():
    # problems: (n=4, c=1) -> pass@2 0.5; (n=4, c=0) -> 0; (n=1, c=1) -> not available for k=2
    assert mean_pass_at_k([(4, 1), (4, 0), (1, 1)], 2) == (pytest.approx(0.25), 2)
    # pass@1 counts all three: (1/4 + 0 + 1) / 3
    assert mean_pass_at_k([(4, 1), (4, 0), (1, 1)], 1) == (pytest.approx(1.25 / 3), 3)
    assert mean_pass_at_k([(1, 1)], 2) == (None, 0)


@pytest.mark.parametrize("n, c, k", [(3, 4, 1), (3, -1, 1), (3, 1, 0)])
def test_invalid_counts_raise(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)
