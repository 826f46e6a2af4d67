"""The code reward: untrusted programs judged exactly, in a sandbox (see docs/reward.md).

``compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> dict`` is the
public entry point. This package imports neither verl, ray nor torch; only ``manager.py`` (the verl
reward-loop manager) does, and it is not imported from here.
"""

from .api import compute_score

__all__ = ["compute_score"]
