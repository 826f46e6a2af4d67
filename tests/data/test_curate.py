"""`python -m verl_pipeline.data.curate` end to end on the format fixtures: every filter acts, the output is
verl's RL format, re-runs are byte-identical, and CLI errors name the flag. (Runs that execute reference
solutions in the sandbox are in test_verify.py.)"""

import json
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from verl_pipeline.data.curate import main

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).parents[2]
INPUTS = [
    FIXTURES / "taco" / "taco.parquet",
    FIXTURES / "taco" / "taco.parquet",  # the same file twice: every row is a duplicate id
    FIXTURES / "primeintellect" / "primeintellect.json",
    FIXTURES / "livecodebench" / "livecodebench.jsonl",
    FIXTURES / "deepcoder" / "deepcoder.parquet",
    FIXTURES / "rllm" / "leetcode_train.json",
    FIXTURES / "rllm" / "livecodebench_train.json",
    FIXTURES / "rllm" / "primeintellect_verify.json",
]
WINDOW = ["--lcb-date-from", "2023-05-01", "--lcb-date-to", "2024-07-31"]


def _curate(out: Path, *extra: str) -> dict:
    args = ["--input", *map(str, INPUTS), "--test-sets", str(FIXTURES / "test_sets"), "--output", str(out),
            "--workers", "2", *extra]
    assert main(args) == 0
    return json.loads((out / "report.json").read_text())


@pytest.fixture(scope="module")
def unverified(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("curated")
    return out, _curate(out, "--no-verify", "--val-size", "2", *WINDOW)


def test_report_shows_every_filter_acting(unverified):
    _, report = unverified
    steps = {s["step"]: (s["in"], s["dropped"], s["out"]) for s in report["steps"]}
    assert list(steps) == ["malformed", "duplicate_id", "date_window", "min_tests", "decontaminate", "dedup"]
    # 30 rows: taco 5 x 2, primeintellect 3, livecodebench 7, deepcoder 3, rllm 3 + 3 + 2
    assert steps["malformed"] == (30, 4, 26)  # 2 x truncated TACO input_output, cpp row, undecodable LCB tests
    assert steps["duplicate_id"] == (26, 4, 22)  # the second copy of taco.parquet
    assert steps["date_window"] == (22, 1, 21)  # LiveCodeBench 3337, dated 2024-09-14
    assert steps["min_tests"] == (21, 8, 13)
    assert steps["decontaminate"] == (13, 1, 12)  # LiveCodeBench 3114 is LeetCode test #19
    assert steps["dedup"] == (12, 2, 10)  # LCB abc333_a = TACO 'Repeat the digit'; deepcoder #0 = TACO A^B+B^A
    assert report["output"] == {"train": 8, "val": 2}


def test_report_names_each_dropped_problem_and_why(unverified):
    _, report = unverified
    reasons = {(d["step"], d["uid"]): d["reason"] for d in report["dropped"]}
    assert "date 2024-09-14 outside --lcb-date-from 2023-05-01 .. --lcb-date-to 2024-07-31" in reasons[
        ("date_window", "livecodebench/3337")]
    assert reasons[("min_tests", "taco/taco.parquet#3")] == "3 tests < --min-tests 5"
    assert reasons[("decontaminate", "livecodebench/3114")].startswith("matches test problem leetcode_test.json#0")
    assert reasons[("dedup", "livecodebench/abc333_a")].startswith("duplicate of taco/taco.parquet#0")
    assert "same id as taco.parquet#0" in reasons[("duplicate_id", "taco/taco.parquet#0")]
    assert "private_test_cases=" in reasons[("malformed", "livecodebench.jsonl#5")]


def test_report_counts_per_source_add_up(unverified):
    _, report = unverified
    for source, entry in report["by_source"].items():
        dropped = sum(v for k, v in entry.items() if k not in ("read", "kept"))
        assert entry["read"] - dropped == entry["kept"], source
    assert report["by_source"]["livecodebench"]["date_window"] == 1
    assert sum(e["kept"] for e in report["by_source"].values()) == 10


def test_output_rows_are_verl_rl_rows_with_the_ground_truth_the_reward_parses(unverified):
    out, _ = unverified
    rows = pq.read_table(out / "train.parquet").to_pylist() + pq.read_table(out / "val.parquet").to_pylist()
    assert sorted(r["extra_info"]["index"] for r in rows) == list(range(10))
    by_uid = {r["extra_info"]["uid"]: r for r in rows}
    call = by_uid["taco/taco.parquet#1"]
    assert call["ability"] == "code" and call["reward_model"]["style"] == "rule"
    assert json.loads(call["reward_model"]["ground_truth"])["fn_name"] == "minimumOperations"
    assert call["prompt"][0]["role"] == "user" and "class Solution:" in call["prompt"][0]["content"]
    lcb = by_uid["livecodebench/2819"]
    assert lcb["extra_info"]["date"] == "2023-05-28" and lcb["extra_info"]["num_tests"] == 5
    assert lcb["extra_info"]["difficulty"] == "easy" and lcb["extra_info"]["reference"] == "not_checked"
    assert all(t["metadata"]["func_name"] == "removeTrailingZeros" for t in json.loads(lcb["reward_model"]["ground_truth"]))
    stdin = by_uid["primeintellect/synthetic_code_0001"]
    assert "Read the inputs from stdin" in stdin["prompt"][0]["content"]
    call_pi = by_uid["primeintellect/synthetic_code_0002"]
    assert "function named `count_substrings`" in call_pi["prompt"][0]["content"]


def test_rerun_is_byte_identical(unverified, tmp_path):
    first, _ = unverified
    second = tmp_path / "again"
    _curate(second, "--no-verify", "--val-size", "2", *WINDOW)
    for name in ("train.parquet", "val.parquet", "report.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_input_order_does_not_change_the_output(unverified, tmp_path):
    first, _ = unverified
    out = tmp_path / "reversed"
    args = ["--input", *map(str, reversed(INPUTS)), "--test-sets", str(FIXTURES / "test_sets"), "--output", str(out),
            "--no-verify", "--val-size", "2", *WINDOW]
    assert main(args) == 0
    assert (first / "train.parquet").read_bytes() == (out / "train.parquet").read_bytes()


def test_no_dedup_keeps_every_problem_for_benchmarks(tmp_path):
    # rllm's test sets hold easy/hard versions with near-identical statements; a benchmark keeps both
    report = _curate(tmp_path, "--no-verify", "--no-dedup", *WINDOW)
    assert "dedup" not in [s["step"] for s in report["steps"]] and report["output"]["train"] == 12


def test_module_runs_as_a_script(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "verl_pipeline.data.curate", "--input", str(FIXTURES / "rllm" / "leetcode_train.json"),
         "--output", str(tmp_path), "--no-verify", "--min-tests", "1"],
        capture_output=True, text=True, cwd=REPO, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "min_tests" in result.stdout and (tmp_path / "train.parquet").exists()


@pytest.mark.parametrize("flag, value, message", [
    ("--min-tests", "-1", "--min-tests=-1 must be >= 0"),
    ("--similarity", "1.5", "--similarity=1.5 must be in (0, 1]"),
    ("--lcb-date-from", "2024-13-01", "--lcb-date-from='2024-13-01' is not a date; write YYYY-MM-DD"),
    ("--workers", "zero", "--workers='zero' is not an integer"),
])
def test_bad_flags_are_rejected_naming_flag_value_and_fix(tmp_path, capsys, flag, value, message):
    with pytest.raises(SystemExit) as exit_:
        main(["--input", str(FIXTURES / "rllm" / "leetcode_train.json"), "--output", str(tmp_path), flag, value])
    assert exit_.value.code == 2 and message in capsys.readouterr().err


def test_reversed_date_window_is_rejected(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main(["--input", str(FIXTURES / "rllm" / "leetcode_train.json"), "--output", str(tmp_path),
              "--lcb-date-from", "2024-08-01", "--lcb-date-to", "2024-07-31"])
    assert "is after --lcb-date-to=2024-07-31; swap them" in capsys.readouterr().err


def test_unreadable_input_is_an_error_naming_the_file(tmp_path, caplog):
    assert main(["--input", str(tmp_path / "missing.json"), "--output", str(tmp_path / "out")]) == 2
    assert "missing.json: no such file or directory" in caplog.text


@pytest.mark.slow
def test_verl_rl_dataset_reads_the_curated_parquet(unverified, tmp_path):
    # what `data.train_files=` does in the recipes: verl's RLHFDataset with a chat-template tokenizer
    from omegaconf import OmegaConf
    from transformers import AutoTokenizer
    from verl.utils.dataset.rl_dataset import RLHFDataset

    from verl_pipeline.assets.tiny import tiny_model_path

    out, _ = unverified
    config = OmegaConf.create({"prompt_key": "prompt", "max_prompt_length": 8192, "filter_overlong_prompts": True,
                               "truncation": "error", "cache_dir": str(tmp_path)})
    dataset = RLHFDataset(data_files=[str(out / "train.parquet")], tokenizer=AutoTokenizer.from_pretrained(tiny_model_path()),
                          config=config)
    assert len(dataset) == 8
    item = dataset[0]
    assert item["data_source"] == "leetcode" and item["reward_model"]["style"] == "rule"
    # verl takes the sample index from extra_info.index: the key `eval score` responses refer to
    assert item["index"] == item["extra_info"]["index"] and item["raw_prompt"][0]["role"] == "user"
