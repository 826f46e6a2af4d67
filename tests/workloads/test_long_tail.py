"""The long-tail workload's length law: heavy-tailed as configured, and the same stream in every run."""

from __future__ import annotations

import random

import yaml

from verl_pipeline.workloads.long_tail import CONFIG_PATH, draw_length, write_config


def test_lengths_are_mostly_near_the_median_with_the_configured_tail():
    rng = random.Random(0)
    lengths = [draw_length(rng, 16, 0.06, 12) for _ in range(20000)]
    tail = [n for n in lengths if n == 16 * 12]
    assert 0.05 < len(tail) / len(lengths) < 0.07
    assert all(12 <= n <= 20 for n in lengths if n != 16 * 12)
    assert max(lengths) / sorted(lengths)[len(lengths) // 2] == 12


def test_the_same_seed_draws_the_same_lengths():
    a, b = random.Random(3), random.Random(3)
    assert [draw_length(a, 16, 0.1, 8) for _ in range(200)] == [draw_length(b, 16, 0.1, 8) for _ in range(200)]


def test_a_written_config_names_the_agent_loop_verl_instantiates(tmp_path):
    shipped = yaml.safe_load(CONFIG_PATH.read_text())
    written = yaml.safe_load(write_config(tmp_path / "lt.yaml", median_tokens=8, tail_fraction=0.0).read_text())
    assert written[0]["_target_"] == shipped[0]["_target_"] == "verl_pipeline.workloads.long_tail.LongTailAgentLoop"
    assert written[0]["name"] == shipped[0]["name"] == "long_tail_agent" and written[0]["median_tokens"] == 8
