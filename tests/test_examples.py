"""examples/reuse_worker_groups.py drives a rollout pool (and the reward workers) outside training, on CPU."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from vp_testing import REPO

pytestmark = [pytest.mark.slow, pytest.mark.ray]


def test_reuse_worker_groups_samples_and_scores_a_parquet():
    proc = subprocess.run(
        [sys.executable, str(REPO / "examples" / "reuse_worker_groups.py"), "--num-prompts", "2", "--n", "2", "--score"],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, (proc.stdout + proc.stderr)[-4000:]
    headers = re.findall(r"--- sample (\d+) \(prompt (\d+), policy v(\d+), reward ([0-9.]+) ", proc.stdout)
    assert [(int(s), int(p)) for s, p, _, _ in headers] == [(0, 0), (1, 0), (2, 1), (3, 1)]
    assert all(v == "0" for _, _, v, _ in headers)  # sampled by the initial weights
    assert all(float(r) in (0.0, 1.0) for *_, r in headers)  # all-or-nothing code reward
