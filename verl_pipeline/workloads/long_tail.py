"""A long-tail workload: single-turn generation whose response lengths are drawn from a heavy-tailed law.

Code RL responses mostly end early while a few run to the length limit (DeepCoder: 16K, then 32K tokens); at the
end of a batch the engine decodes a handful of long sequences with its capacity idle. To measure that on any
model, this agent loop sets each sample's length itself: `ignore_eos` and a `max_tokens` drawn per sample, most
near `median_tokens`, a fraction `tail_fraction` of them `tail_factor` times longer.

verl loads it from `long_tail.yaml` (next to this file) through
`actor_rollout_ref.rollout.agent.agent_loop_config_path=<that file>` and
`actor_rollout_ref.rollout.agent.default_agent_loop=long_tail_agent`; the yaml's keys are this class's arguments.
`actor_rollout_ref.rollout.response_length` must hold the longest (`median_tokens * tail_factor`).

The lengths come from one random stream per agent-loop worker process, seeded by `seed`, drawn before the
request is sent: the same batches in the same order get the same lengths in every run and configuration.
With `block` > 0 the stream is stratified: every `block` consecutive draws hold exactly
`round(tail_fraction * block)` tail samples, at random places. A benchmark sets `block` to a step's sample count
(with one agent-loop worker, verl hands it each batch whole and its samples draw in order), so every batch has the
same tail and step times compare across configurations instead of varying with how many tails a batch drew.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from verl.experimental.agent_loop.single_turn_agent_loop import SingleTurnAgentLoop

CONFIG_PATH = Path(__file__).with_name("long_tail.yaml")

_streams: dict[tuple, "LengthStream"] = {}


def draw_length(rng: random.Random, median_tokens: int, tail_fraction: float, tail_factor: int) -> int:
    """Most samples within +-25% of the median; `tail_fraction` of them `tail_factor` times the median."""
    if rng.random() < tail_fraction:
        return median_tokens * tail_factor
    return max(1, round(median_tokens * rng.uniform(0.75, 1.25)))


def longest_response(median_tokens: int, tail_fraction: float, tail_factor: int) -> int:
    """The longest response the law draws (what `rollout.response_length` must hold)."""
    return median_tokens * tail_factor if tail_fraction > 0 else round(median_tokens * 1.25)


class LengthStream:
    """Response lengths in draw order: independent draws (`block=0`) or a fixed tail count per block of draws."""

    def __init__(self, median_tokens: int, tail_fraction: float, tail_factor: int, seed: int, block: int = 0):
        if block < 0:
            raise ValueError(f"long_tail_agent: block must be >= 0 (0: independent draws), got {block}")
        self.median_tokens, self.tail_fraction, self.tail_factor, self.block = (
            median_tokens, tail_fraction, tail_factor, block)
        self.rng = random.Random(seed)
        self._pending: list[int] = []

    def next(self) -> int:
        if not self.block:
            return draw_length(self.rng, self.median_tokens, self.tail_fraction, self.tail_factor)
        if not self._pending:
            tails = round(self.tail_fraction * self.block)
            body = [draw_length(self.rng, self.median_tokens, 0.0, 1) for _ in range(self.block - tails)]
            block = body + [self.median_tokens * self.tail_factor] * tails
            self.rng.shuffle(block)
            self._pending = block[::-1]
        return self._pending.pop()


class LongTailAgentLoop(SingleTurnAgentLoop):
    def __init__(self, *args, median_tokens: int = 16, tail_fraction: float = 0.06, tail_factor: int = 12,
                 seed: int = 0, block: int = 0, **kwargs):
        super().__init__(*args, **kwargs)
        longest = longest_response(median_tokens, tail_fraction, tail_factor)
        if longest > self.response_length:
            raise ValueError(f"long_tail_agent: its longest responses ({longest} tokens) exceed "
                             f"actor_rollout_ref.rollout.response_length={self.response_length}. "
                             f"Fix: data.max_response_length={longest} (or a smaller tail_factor in {CONFIG_PATH})")
        # verl builds an agent loop per sample: the stream lives in the process, one per law
        law = (median_tokens, tail_fraction, tail_factor, seed, block)
        if law not in _streams:
            _streams[law] = LengthStream(*law)
        self.lengths = _streams[law]

    async def run(self, sampling_params: dict[str, Any], **kwargs):
        length = self.lengths.next()
        return await super().run({**sampling_params, "max_tokens": length, "ignore_eos": True}, **kwargs)


def write_config(path: Path, **arguments: Any) -> Path:
    """An agent-loop config file like long_tail.yaml with other arguments (benchmarks vary the law per run)."""
    import yaml

    entry = {"name": "long_tail_agent", "_target_": f"{__name__}.LongTailAgentLoop", **arguments}
    path.write_text(yaml.safe_dump([entry], sort_keys=False))
    return path
