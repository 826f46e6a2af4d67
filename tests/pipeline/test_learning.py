"""Learning happens through the whole pipelined path: reward on the toy task rises clearly in a short run, so a
broken gradient path, a weight sync that never arrives or a sign error cannot pass."""

from __future__ import annotations

import statistics

import pytest
from vp_testing import read_metrics, run_main

pytestmark = [pytest.mark.slow, pytest.mark.ray]


def test_reward_rises_in_pipelined_mode(tmp_path):
    run_main(["+recipe=toy_learning", "pipeline.max_staleness=1", "trainer.total_training_steps=30",
              f"trainer.default_local_dir={tmp_path / 'ckpt'}", "trainer.logger=[console,file]"], tmp_path)
    rewards = [m["data"]["critic/score/mean"] for m in read_metrics(tmp_path) if "critic/score/mean" in m["data"]]
    assert len(rewards) == 30
    first, last = statistics.mean(rewards[:5]), statistics.mean(rewards[-5:])
    # a random model scores ~0.02; learning "write digits" alone brings it near 0.5
    assert last >= first + 0.15, rewards
