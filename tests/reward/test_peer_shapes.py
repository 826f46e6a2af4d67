"""Regression tests in the shapes of the peers' own reward tests, with programs and tests written here.

Shapes read from rLLM's ``tests/rewards/test_code_reward.py`` (rllm-org/rllm), verl's
``tests/utils/reward_score/test_sandbox_on_cpu.py`` (prime_code) and
``tests/utils/reward_score/reward_score/test_sandbox_fusion_on_cpu.py`` (sandbox_fusion). Each test
says whether we agree with the peer's expected verdict; docs/reward.md ("Peer suites") has the list.
"""

from __future__ import annotations

import json

import pytest

from verl_pipeline.reward import compute_score

from .conftest import fence

SHORTEST_PATH = """\
import sys
def main():
    n, m = map(int, sys.stdin.readline().split())
    INF = float('inf')
    d = [[INF] * (n + 1) for _ in range(n + 1)]
    for i in range(1, n + 1):
        d[i][i] = 0
    for _ in range(m):
        a, b, w = map(int, sys.stdin.readline().split())
        d[a][b] = d[b][a] = min(d[a][b], w)
    for k in range(1, n + 1):
        for i in range(1, n + 1):
            for j in range(1, n + 1):
                d[i][j] = min(d[i][j], d[i][k] + d[k][j])
    print(d[1][n] if d[1][n] < INF else -1)
if __name__ == "__main__":
    main()
"""
SHORTEST_PATH_TESTS = {"inputs": ["3 2\n1 2 4\n2 3 5\n", "3 1\n1 2 4\n", "2 2\n1 2 9\n1 2 3\n"],
                       "outputs": ["9\n", "-1\n", "3\n"]}


def judge(source: str, response: str, tests, layer: str, **kwargs) -> dict:
    kwargs.setdefault("time_limit_s", 2)
    return compute_score(source, response, tests if isinstance(tests, str) else json.dumps(tests), isolation=layer,
                         **kwargs)


# -- rLLM: tests/rewards/test_code_reward.py ----------------------------------------------------------
@pytest.mark.parametrize("source", ["code_contests", "taco"])
def test_rllm_stdin_program_whose_closing_fence_is_indented(source, layer):
    # rLLM's responses end with "    ```" (the fence indented, as the model wrote it): agree, AC
    response = "Here it is:\n```python\n" + SHORTEST_PATH + "    ```\n    "
    assert judge(source, response, SHORTEST_PATH_TESTS, layer)["verdict"] == "AC"


def test_rllm_codeforces_tests_without_trailing_newlines(layer):
    code = "n, m = map(int, input().split())\nprint(max(-1, (m - n * 3) // 2))"
    tests = [{"input": "2 10", "output": "2"}, {"input": "4 5", "output": "-1"}, {"input": "1 9", "output": "3"}]
    assert judge("codeforces", fence(code), tests, layer)["verdict"] == "AC"  # agree


@pytest.mark.parametrize("code, verdict", [
    ("def same_letters(a, b):\n    return sorted(a.lower()) == sorted(b.lower())", "AC"),
    ("def same_letters(a, b):\n    return [sorted(a) == sorted(b)]", "WA"),  # case matters in the test data
])
def test_rllm_taco_call_based_outputs_wrapped_in_a_list(layer, code, verdict):
    # TACO stores each expected value as [x]; a function returning x passes (agree with rLLM)
    tests = {"fn_name": "same_letters", "inputs": [["Listen", "Silent"], ["abc", "abd"], ["Aa", "aA"]],
             "outputs": [[True], [False], [True]]}
    assert judge("taco", fence(code), tests, layer)["verdict"] == verdict


def test_rllm_taco_call_based_list_argument(layer):
    code = "def pyramid_top(row):\n    while len(row) > 1:\n        row = [x + y for x, y in zip(row, row[1:])]\n    return row[0]"
    tests = {"fn_name": "pyramid_top", "inputs": [[[1, 2, 3]], [[5]], [[-1, 1, -1]]], "outputs": [[8], [5], [0]]}
    assert judge("taco", fence(code), tests, layer)["verdict"] == "AC"  # agree


@pytest.mark.parametrize("rules", ["deepcoder", "livecodebench"])
def test_rllm_livecodebench_stdin_and_functional_with_typing_names(layer, rules):
    stdin_code = "input()\nwords = input().split()\nprint(len(words) - len(set(words)) + 1)"
    tests = [{"input": "4\na b a c\n", "output": "2\n", "testtype": "stdin"}]
    assert judge("livecodebench", fence(stdin_code), tests, layer, rules=rules)["verdict"] == "AC"
    # List without an import: the prelude's typing names (agree with rLLM and LiveCodeBench)
    call_code = ("class Solution:\n    def countAtLeast(self, xs: List[int], t: int) -> int:\n"
                 "        return sum(1 for x in xs if x >= t)\n")
    tests = [{"input": "[4, 1, 7, 3]\n3", "output": "3", "testtype": "functional",
              "metadata": {"func_name": "countAtLeast"}}]
    assert judge("livecodebench", fence(call_code), tests, layer, rules=rules)["verdict"] == "AC"


LEETCODE_CHECK = {"functional": "def check(candidate):\n    assert candidate(nums = [4,2,1,3], k = 2) == 3\n"
                                "    assert candidate(nums = [2,1], k = 2) == 2\n\n\ncheck(Solution().collect)"}
LEETCODE_SOLUTION = """\
class Solution:
    def collect(self, nums: List[int], k: int) -> int:
        seen = set()
        for i in range(len(nums) - 1, -1, -1):
            if nums[i] <= k:
                seen.add(nums[i])
            if len(seen) == k:
                return len(nums) - i
"""


def test_rllm_leetcode_keyword_arguments_and_a_return_inside_the_loop(layer):
    # rLLM skips its own version of this test ("execution environment dependencies"); here it runs: AC
    assert judge("leetcode", fence(LEETCODE_SOLUTION), LEETCODE_CHECK, layer)["verdict"] == "AC"


def test_rllm_leetcode_answer_without_a_fence_is_not_graded(layer):
    # agree with rLLM: no markdown block, no reward
    out = judge("leetcode", "Here is my answer, not in markdown:\n" + LEETCODE_SOLUTION, LEETCODE_CHECK, layer)
    assert (out["score"], out["verdict"]) == (0.0, "NO_CODE")


def test_rllm_kodcode_pytest_files_are_not_a_format_we_grade():
    # rLLM runs kodcode's pytest files; we do not (documented): a caller error, never a silent 0 or 1
    with pytest.raises(ValueError, match="unknown code data source 'kodcode'"):
        compute_score("kodcode", fence("def f():\n    return 1"), "from solution import f\n\ndef test_f():\n    assert f() == 1\n")


# -- verl prime_code: tests/utils/reward_score/test_sandbox_on_cpu.py ----------------------------------
def test_prime_code_data_source_spelled_codecontests(layer):
    # verl's default_compute_score routes "codecontests" to prime_code; it names our code_contests: agree, AC
    assert judge("codecontests", fence(SHORTEST_PATH), SHORTEST_PATH_TESTS, layer)["verdict"] == "AC"


def test_prime_code_program_without_a_fence_is_not_graded(layer):
    # prime_code grades a bare program (its test expects 1.0); DeepCoder's reward, and ours, need a fence
    out = judge("code_contests", SHORTEST_PATH, SHORTEST_PATH_TESTS, layer)
    assert (out["score"], out["verdict"]) == (0.0, "NO_CODE")


def test_prime_code_one_wrong_expected_output_among_several(layer):
    # prime_code's continuous score gives 2/3 here; all or nothing: 0, and the failing test is named
    tests = {"inputs": SHORTEST_PATH_TESTS["inputs"], "outputs": ["9\n", "-1\n", "4\n"]}
    out = judge("code_contests", fence(SHORTEST_PATH), tests, layer)
    assert (out["score"], out["verdict"], out["failed_test"]) == (0.0, "WA", 2)


# -- verl sandbox_fusion: tests/utils/reward_score/reward_score/test_sandbox_fusion_on_cpu.py ----------
ECHO_BY_INPUT = """\
import sys
data = sys.stdin.read()
print({'ping': 'pong', 'tick': 'tock'}.get(data, 'unexpected input'))
"""


def test_sandbox_fusion_stdin_without_newline_reaches_the_program_exactly(layer):
    tests = {"inputs": ["ping", "tick"], "outputs": ["pong\n", "tock\n"]}
    assert judge("taco", fence(ECHO_BY_INPUT), tests, layer)["verdict"] == "AC"  # agree


@pytest.mark.parametrize("code, verdict", [
    ("print('something else')", "WA"),
    ("x = y\n", "RE"),  # their compile-error case is C++; in Python this is a NameError at run time
    ("import sys\nprint('about to fail', file=sys.stderr)\nraise ValueError('boom')", "RE"),
    ("import time\ntime.sleep(10)", "TLE"),
], ids=["wrong-output", "name-error", "runtime-error", "timeout"])
def test_sandbox_fusion_failure_kinds(layer, code, verdict):
    out = judge("taco", fence(code), {"inputs": ["ping"], "outputs": ["pong\n"]}, layer, time_limit_s=1)
    assert (out["score"], out["verdict"]) == (0.0, verdict)  # agree (their results: False, -4/-2, -2, -3)


def test_sandbox_fusion_many_tests_with_one_wrong_expected_output(layer):
    # their mixed case expects per-test results; all or nothing, the first wrong one is reported
    code = "print('out_' + input().split('_')[-1])"
    inputs = [f"in_{i}" for i in range(30)]
    outputs = [f"out_{i}\n" if i != 17 else "wrong_17\n" for i in range(30)]
    out = judge("taco", fence(code), {"inputs": inputs, "outputs": outputs}, layer, max_tests=0)
    assert (out["verdict"], out["failed_test"], out["tests_run"]) == ("WA", 17, 18)


@pytest.mark.parametrize("tests, reason", [
    ({"inputs": ["ping"], "outputs": ["pong\n", "tock\n"]}, "1 inputs but 2 outputs"),
    ({"inputs": ["ping"]}, "must both be lists"),
], ids=["counts-differ", "no-outputs"])
def test_sandbox_fusion_malformed_tests(layer, tests, reason):
    # sandbox_fusion grades what it can pair; a missing expected output must never let a program pass
    out = judge("taco", fence(ECHO_BY_INPUT), tests, layer)
    assert out["verdict"] == "BAD_TESTS" and reason in out["reason"]
