"""A task the tiny random model learns in minutes on a laptop: "repeat the digit D".

The prompt names a digit. The reward is half the fraction of the response's characters that are digits plus half
the fraction that are the requested digit (whitespace and special tokens removed): dense (a random model already
scores a little, with variance inside each GRPO group; "write digits" is learnt first, "write this digit" next)
and exact (1.0 only for a response made of the requested digit alone). It exists to show learning through the whole
pipeline (rollout pool, streaming reward, trainer pool, weight sync) and to compare staleness settings fairly.

`compute_score` is verl's `custom_reward_function` signature; this file imports nothing heavy so that verl can
load it by path in its reward workers.
"""

from __future__ import annotations

import json
import random

DATA_SOURCE = "toy_digits"


def compute_score(data_source, solution_str, ground_truth, extra_info=None, **kwargs) -> float:
    """(fraction of characters that are digits + fraction that are the requested digit) / 2; 0.0 if empty."""
    digit = str(json.loads(ground_truth)["digit"]) if isinstance(ground_truth, str) else str(ground_truth["digit"])
    text = "".join(ch for ch in solution_str if not ch.isspace())
    if not text:
        return 0.0
    return (sum(ch.isdigit() for ch in text) + sum(ch == digit for ch in text)) / (2 * len(text))


def toy_rows(n: int, seed: int) -> list[dict]:
    """`n` prompts in verl's RL row format, digits in a seeded random order."""
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        digit = rng.randrange(10)
        rows.append({
            "data_source": DATA_SOURCE,
            "prompt": [{"role": "user", "content": f"Repeat the digit {digit}."}],
            "ability": "toy",
            "reward_model": {"style": "rule", "ground_truth": json.dumps({"digit": digit})},
            "extra_info": {"index": i, "digit": digit},
        })
    return rows
