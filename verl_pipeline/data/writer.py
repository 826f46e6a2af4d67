"""Curated problems -> verl RL parquet rows and byte-stable files.

Row format (what verl's RLHFDataset reads from `data.train_files`, same shape as
`verl_pipeline.assets.problems.to_verl_row`):

    data_source   str    reward routing name (taco, primeintellect, livecodebench, codeforces, leetcode, ...)
    prompt        list   [{"role": "user", "content": LiveCodeBench-style instruction + statement (+ starter)}]
    ability       str    "code"
    reward_model  struct {style: "rule", ground_truth: JSON string of the tests in the source's format}
    extra_info    struct index, split, uid, source_id, origin, title, difficulty, date, num_tests, fn_name,
                         reference ("passed" | "no_solutions" | "not_checked")

Files are written with an explicit Arrow schema (no pandas metadata, no inferred types) and fixed writer
settings, and JSON with sorted keys, so the same rows always give the same bytes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from verl_pipeline.data.problem import Problem
from verl_pipeline.data.prompts import build_chat

EXTRA_INFO_FIELDS = [
    pa.field("index", pa.int64()),
    pa.field("split", pa.string()),
    pa.field("uid", pa.string()),
    pa.field("source_id", pa.string()),
    pa.field("origin", pa.string()),
    pa.field("title", pa.string()),
    pa.field("difficulty", pa.string()),
    pa.field("date", pa.string()),
    pa.field("num_tests", pa.int64()),
    pa.field("fn_name", pa.string()),
    pa.field("reference", pa.string()),
]
SCHEMA = pa.schema(
    [
        pa.field("data_source", pa.string()),
        pa.field("prompt", pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.string())]))),
        pa.field("ability", pa.string()),
        pa.field("reward_model", pa.struct([pa.field("style", pa.string()), pa.field("ground_truth", pa.string())])),
        pa.field("extra_info", pa.struct(EXTRA_INFO_FIELDS)),
    ]
)


def to_row(problem: Problem, index: int, split: str, reference: str) -> dict[str, Any]:
    """One curated problem as a verl RL row."""
    return {
        "data_source": problem.data_source,
        "prompt": build_chat(problem.statement, problem.starter_code, problem.fn_name),
        "ability": "code",
        "reward_model": {"style": "rule", "ground_truth": json.dumps(problem.tests)},
        "extra_info": {
            "index": index,
            "split": split,
            "uid": problem.uid,
            "source_id": problem.source_id,
            "origin": problem.origin,
            "title": problem.title,
            "difficulty": problem.difficulty,
            "date": problem.date,
            "num_tests": problem.num_tests,
            "fn_name": problem.fn_name,
            "reference": reference,
        },
    }


def _replace(path: Path, write) -> None:
    """Write to a temp file next to `path`, then rename: a crash never leaves a half-written output."""
    tmp = path.with_name(f".{path.name}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_parquet(rows: list[dict[str, Any]], path: Path) -> None:
    table = pa.Table.from_pylist(rows, schema=SCHEMA)
    _replace(path, lambda p: pq.write_table(table, p, compression="zstd", compression_level=3, row_group_size=4096))


def write_json(obj: Any, path: Path) -> None:
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    _replace(path, lambda p: p.write_text(text, encoding="utf-8"))
