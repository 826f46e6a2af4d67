"""The long-tail workload's length law: heavy-tailed as configured, and the same stream in every run."""

from __future__ import annotations

import random

import yaml

from verl_pipeline.workloads.long_tail import CONFIG_PATH, LengthStream, draw_length, write_config


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


def test_a_stratified_stream_puts_the_same_tail_count_in_every_block():
    stream = LengthStream(16, 0.0625, 32, seed=0, block=16)
    blocks = [[stream.next() for _ in range(16)] for _ in range(50)]
    assert all(block.count(16 * 32) == 1 for block in blocks)
    assert all(12 <= n <= 20 for block in blocks for n in block if n != 16 * 32)
    assert len({block.index(16 * 32) for block in blocks}) > 5  # the tail's place varies
    again = LengthStream(16, 0.0625, 32, seed=0, block=16)
    assert [again.next() for _ in range(16 * 50)] == [n for block in blocks for n in block]


def test_an_unstratified_stream_is_the_per_sample_law():
    stream, rng = LengthStream(16, 0.1, 8, seed=5), random.Random(5)
    assert [stream.next() for _ in range(300)] == [draw_length(rng, 16, 0.1, 8) for _ in range(300)]
