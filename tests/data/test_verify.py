"""Curation with reference solutions run in the code-reward sandbox (the real reward, no stand-ins)."""

import json
import os
from pathlib import Path

import pytest

from verl_pipeline.data.curate import main
from verl_pipeline.data.formats import InputSpec, load_input
from verl_pipeline.data.verify import FAILED, NO_SOLUTIONS, PASSED, as_response, verify_all, verify_problem
from verl_pipeline.reward import compute_score

FIXTURES = Path(__file__).parent / "fixtures"
SHARED = Path(os.environ.get("VERL_PIPELINE_SHARED_DATA", Path(__file__).parents[3] / "shared" / "data"))


def _problems(rel: str):
    return load_input(InputSpec(FIXTURES / rel)).problems


def test_solution_is_fenced_once():
    assert as_response("print(1)") == "```python\nprint(1)\n```"
    assert as_response("```python\nprint(1)\n```") == "```python\nprint(1)\n```"


def test_verification_tries_solutions_until_one_passes_every_test():
    repeat, call, wrong, _ = _problems("taco/taco.jsonl")
    passed = verify_problem(repeat, 3, compute_score)
    assert (passed.status, passed.tried) == (PASSED, 2)  # the first reference solution is wrong
    assert verify_problem(call, 3, compute_score).status == PASSED  # call-based, outputs wrapped [x]
    failed = verify_problem(wrong, 3, compute_score)
    assert failed.status == FAILED and failed.detail.startswith("WA on test 0")
    assert "expected '320', got '16384'" in failed.detail


def test_max_solutions_bounds_the_attempts():
    repeat = _problems("taco/taco.jsonl")[0]
    result = verify_problem(repeat, 1, compute_score)
    assert (result.status, result.tried) == (FAILED, 1)


def test_every_published_format_with_solutions_verifies_in_the_sandbox():
    problems = (_problems("primeintellect/primeintellect.parquet") + _problems("deepcoder/deepcoder.parquet")
                + _problems("rllm/leetcode_train.parquet") + _problems("rllm/primeintellect_verify.json"))
    results = verify_all(problems, workers=2, max_solutions=3)
    assert [r.status for r in results] == [PASSED] * len(problems)


def test_problems_without_solutions_are_kept_unchecked():
    [lcb] = [p for p in _problems("livecodebench/livecodebench.jsonl") if p.source_id == "2819"]
    assert verify_all([lcb], workers=1, max_solutions=3)[0].status == NO_SOLUTIONS


def test_curation_drops_failing_references_and_keeps_verified_copies(tmp_path):
    inputs = [FIXTURES / "taco" / "taco.parquet", FIXTURES / "primeintellect" / "primeintellect.jsonl",
              FIXTURES / "livecodebench" / "livecodebench.json", FIXTURES / "deepcoder" / "deepcoder.json",
              FIXTURES / "rllm" / "leetcode_train.json"]
    args = ["--input", *map(str, inputs), "--test-sets", str(FIXTURES / "test_sets"), "--workers", "2"]
    assert main([*args, "--output", str(tmp_path / "a")]) == 0
    report = json.loads((tmp_path / "a" / "report.json").read_text())
    steps = {s["step"]: (s["in"], s["dropped"], s["out"]) for s in report["steps"]}
    assert steps["verify"] == (13, 1, 12)
    [failed] = [d for d in report["dropped"] if d["step"] == "verify"]
    assert failed["uid"] == "taco/taco.parquet#2" and "none of 1 reference solution(s) passes all 5 tests" in failed["reason"]
    # LiveCodeBench abc333_a (no solution) duplicates TACO 'Repeat the digit' (verified): the verified one stays
    dedup = {d["uid"]: d["reason"] for d in report["dropped"] if d["step"] == "dedup"}
    assert dedup["livecodebench/abc333_a"].startswith("duplicate of taco/taco.parquet#0")
    # ... and LiveCodeBench 3337 is PrimeIntellect's verified count_substrings problem
    assert dedup["livecodebench/3337"].startswith("duplicate of primeintellect/synthetic_code_0002")
    assert report["reference_check"] == {"no_solutions": 2, "passed": 8}
    # the sandbox step is deterministic too: a second run writes the same bytes
    assert main([*args, "--output", str(tmp_path / "b")]) == 0
    for name in ("train.parquet", "report.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


@pytest.mark.slow
@pytest.mark.skipif(not (SHARED / "leetcode_train.json").exists(), reason=f"needs the shared data in {SHARED}")
def test_shared_data_curation(tmp_path):
    data = [SHARED / f for f in ("leetcode_train.json", "livecodebench_train.json", "primeintellect_verify.json")]
    tests = [SHARED / f for f in ("livecodebench_test.json", "codeforces_test.json", "leetcode_test.json")]
    base = ["--input", *map(str, data), "--test-sets", *map(str, tests), "--workers", "2"]
    # DeepCoder's settings: rllm's public files carry 1-6 tests per problem, so few problems have 5
    assert main([*base, "--output", str(tmp_path / "deepcoder")]) == 0
    report = json.loads((tmp_path / "deepcoder" / "report.json").read_text())
    drops = {source: e["min_tests"] for source, e in report["by_source"].items()}
    assert drops == {"leetcode": 1843, "livecodebench": 577, "primeintellect": 10}
    kept = {source: e["kept"] for source, e in report["by_source"].items()}
    assert report["reference_check"]["passed"] == kept["leetcode"] > 0  # every kept LeetCode row was run
    # every test count: rllm's LeetCode test set holds 110 LiveCodeBench train problems; 69 more are
    # LeetCode train problems again (same statement, with or without examples)
    assert main([*base, "--output", str(tmp_path / "all"), "--min-tests", "1", "--no-verify"]) == 0
    report = json.loads((tmp_path / "all" / "report.json").read_text())
    assert report["by_source"]["livecodebench"]["decontaminate"] == 110
    assert report["by_source"]["livecodebench"]["dedup"] == 69
    assert report["by_source"]["leetcode"]["decontaminate"] == 0
