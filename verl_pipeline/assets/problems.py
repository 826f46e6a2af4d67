"""The bundled real coding problems (see problems/README.md) and their verl RL parquet files."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from functools import lru_cache
from importlib import resources

from verl_pipeline.assets.cache import cache_root
from verl_pipeline.data.prompts import build_chat

SPLITS = ("train", "val")


@lru_cache(maxsize=1)
def _raw_text() -> str:
    return resources.files("verl_pipeline.assets").joinpath("problems/bundled_problems.jsonl").read_text()


def load_bundled_problems(split: str | None = None) -> list[dict]:
    """Rows of bundled_problems.jsonl, optionally only one split ("train" or "val")."""
    if split is not None and split not in SPLITS:
        raise ValueError(f"split={split!r} is not one of {SPLITS}")
    rows = [json.loads(line) for line in _raw_text().splitlines() if line.strip()]
    return [r for r in rows if split is None or r["split"] == split]


def to_verl_row(problem: dict, index: int) -> dict:
    """One problem as a row of verl's RL dataset (what `data.train_files` parquet rows look like)."""
    return {
        "data_source": problem["data_source"],
        "prompt": build_chat(problem["problem"], problem.get("starter_code")),
        "ability": "code",
        "reward_model": {"style": "rule", "ground_truth": problem["tests"]},
        "extra_info": {"index": index, "split": problem["split"], "source": problem["source"]},
    }


def bundled_parquet(split: str) -> str:
    """Path of the bundled problems of `split` as a verl parquet file, written to the cache on first use."""
    return write_parquet(f"bundled-{split}", load_bundled_problems(split))


def write_parquet(name: str, problems: list[dict]) -> str:
    """Problems as a verl RL parquet file in the cache (content-addressed, written atomically)."""
    return write_rows(name, [to_verl_row(p, i) for i, p in enumerate(problems)])


def write_rows(name: str, rows: list[dict]) -> str:
    """verl RL rows as a parquet file in the cache (content-addressed, written atomically)."""
    import pandas as pd

    key = hashlib.sha256(json.dumps(rows, sort_keys=True).encode()).hexdigest()[:12]
    target = cache_root() / "data" / f"{name}-{key}.parquet"
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".parquet.tmp")
        os.close(fd)
        pd.DataFrame(rows).to_parquet(tmp, index=False)
        os.replace(tmp, target)
    return str(target)
