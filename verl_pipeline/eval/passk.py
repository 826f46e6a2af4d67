"""pass@k with the unbiased estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on Code").

For one problem with n samples of which c are correct:

    pass@k = 1 - C(n - c, k) / C(n, k) = 1 - prod_{i = n-c+1}^{n} (1 - k / i)

The product form never builds the huge binomials, so it is exact to float precision for any n. pass@1 is
c / n, the mean over samples. A problem with fewer than k samples has no pass@k estimate: it is left out
of that k's mean, and the number of problems that were counted is reported next to every mean.
"""

from __future__ import annotations

from collections.abc import Iterable


def pass_at_k(n: int, c: int, k: int) -> float | None:
    """Unbiased pass@k of one problem, or None when k > n (not estimable from n samples)."""
    if not 0 <= c <= n:
        raise ValueError(f"need 0 <= c <= n, got n={n}, c={c}")
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    if k > n:
        return None
    if n - c < k:  # every k-subset holds a correct sample
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def mean_pass_at_k(counts: Iterable[tuple[int, int]], k: int) -> tuple[float | None, int]:
    """(mean pass@k over problems with n >= k, how many problems that is); (None, 0) when there are none."""
    values = [v for n, c in counts if (v := pass_at_k(n, c, k)) is not None]
    return (sum(values) / len(values) if values else None), len(values)
