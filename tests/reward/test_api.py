"""The public contract of ``compute_score`` (what verl and the data/eval code rely on)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from verl_pipeline.reward import compute_score
from verl_pipeline.reward.api import parse_options

DOUBLE = "```python\nprint(2 * int(input()))\n```"
KEYS = {"score", "acc", "verdict", "failed_test", "reason", "tests_run"}


def doubling_tests(n: int) -> dict:
    # input lengths grow with i, so the longest are the last ones
    return {"inputs": [f"{i:0{i + 1}d}\n" for i in range(n)], "outputs": [f"{2 * i}\n" for i in range(n)]}


def test_accepted_result_has_the_contract_keys():
    out = compute_score("taco", DOUBLE, doubling_tests(3))
    assert KEYS <= set(out)
    assert (out["score"], out["acc"], out["verdict"], out["failed_test"], out["tests_run"]) == (1.0, True, "AC", None, 3)
    assert type(out["score"]) is float


def test_called_like_verl_calls_a_custom_reward_function():
    # verl passes keywords, plus its own extras the reward does not know
    out = compute_score(data_source="taco", solution_str=DOUBLE, ground_truth=json.dumps(doubling_tests(2)),
                        extra_info={"index": 3}, reward_router_address=None)
    assert out["score"] == 1.0


def test_failed_test_is_the_first_failure_in_run_order():
    tests = doubling_tests(4)
    tests["outputs"][2] = "999\n"
    out = compute_score("taco", DOUBLE, tests)
    assert (out["verdict"], out["failed_test"], out["tests_run"], out["score"]) == ("WA", 2, 3, 0.0)


def test_a_failure_at_the_last_of_15_tests_scores_zero():
    # verl's prime_code, as verl calls it (continuous=True), re-checks only the first 10 tests of a
    # failed program and scores one that fails only later 1.0; every selected test counts here
    tests = doubling_tests(15)
    tests["outputs"][14] = "999\n"
    out = compute_score("taco", DOUBLE, tests)
    assert (out["verdict"], out["failed_test"], out["tests_run"], out["score"]) == ("WA", 14, 15, 0.0)


def test_at_most_15_longest_tests_by_default():
    out = compute_score("taco", DOUBLE, doubling_tests(20))
    assert (out["tests_run"], out["tests_total"]) == (15, 15)


def test_the_cap_keeps_the_longest_inputs():
    tests = doubling_tests(20)
    tests["outputs"][0] = "wrong\n"  # the shortest input: not among the 15 longest
    assert compute_score("taco", DOUBLE, tests)["verdict"] == "AC"


@pytest.mark.parametrize("max_tests, expected", [(0, 20), (None, 20), (5, 5)])
def test_max_tests_zero_or_none_runs_all(max_tests, expected):
    assert compute_score("taco", DOUBLE, doubling_tests(20), max_tests=max_tests)["tests_run"] == expected


def test_max_tests_from_extra_info():
    assert compute_score("taco", DOUBLE, doubling_tests(20), {"max_tests": 0})["tests_run"] == 20


def test_keyword_options_override_extra_info():
    assert compute_score("taco", DOUBLE, doubling_tests(20), {"max_tests": 0}, max_tests=3)["tests_run"] == 3


def test_default_time_limits_follow_deepcoder():
    assert parse_options("livecodebench", None, {}).time_limit_s == 6
    assert parse_options("taco", None, {}).time_limit_s == 12
    assert parse_options("taco", {"time_limit_s": 2}, {}).time_limit_s == 2


def test_time_limit_from_extra_info_is_applied():
    out = compute_score("taco", "```python\nimport time\ntime.sleep(2)\n```", doubling_tests(1), {"time_limit_s": 0.3})
    assert out["verdict"] == "TLE"


def test_unknown_data_source_is_a_caller_error():
    with pytest.raises(ValueError, match="known: livecodebench"):
        compute_score("gsm8k", DOUBLE, doubling_tests(1))


def test_bad_option_from_the_caller_is_a_value_error():
    with pytest.raises(ValueError, match="time_limit_s"):
        compute_score("taco", DOUBLE, doubling_tests(1), time_limit_s=-1)


def test_bad_option_from_the_dataset_is_bad_tests():
    out = compute_score("taco", DOUBLE, doubling_tests(1), {"memory_limit_mb": "lots"})
    assert out["verdict"] == "BAD_TESTS" and "memory_limit_mb" in out["reason"]


@pytest.mark.parametrize("gt", [None, 17, "", "[]", "{}", {"inputs": [1], "outputs": [{}]}, [[[]]], b"\xff"])
def test_malformed_tests_never_raise(gt):
    out = compute_score("taco", DOUBLE, gt)
    assert out["verdict"] == "BAD_TESTS" and out["score"] == 0.0 and out["reason"]


@pytest.mark.parametrize("response", ["", "print(2)", "```cpp\nint main(){}\n```", None, "<think>```python\nprint(1)\n```"])
def test_no_code(response):
    out = compute_score("taco", response, doubling_tests(1))
    assert (out["verdict"], out["score"], out["tests_run"]) == ("NO_CODE", 0.0, 0)


def test_importing_the_reward_does_not_import_verl_ray_or_torch():
    code = "import sys, verl_pipeline.reward; print(sorted(m for m in ('verl', 'ray', 'torch') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
