"""Each data source's test format becomes the same internal tests; bad tests say what is wrong."""

from __future__ import annotations

import base64
import json
import pickle
import zlib

import numpy as np
import pytest

from verl_pipeline.reward.formats import BadTests, canonical_source, parse_problem, select_tests


def test_data_sources_are_case_insensitive():
    assert canonical_source(" LiveCodeBench ") == "livecodebench"


def test_unknown_data_source_lists_the_known_ones():
    with pytest.raises(ValueError, match="known: livecodebench, taco, apps, code_contests, codeforces, primeintellect, leetcode"):
        canonical_source("gsm8k")


def test_livecodebench_stdin():
    p = parse_problem("livecodebench", [{"input": "1 2\n", "output": "3\n", "testtype": "stdin"}])
    assert p.mode == "stdio" and p.cases[0].stdin == "1 2\n" and p.cases[0].expected == "3\n"


def test_livecodebench_functional_name_from_metadata():
    tests = [{"input": "[1, 2]\n3", "output": "[4, 5]", "testtype": "functional", "metadata": '{"func_name": "addAll"}'}]
    p = parse_problem("livecodebench", json.dumps(tests))
    assert (p.mode, p.fn_name, p.cases[0].args, p.cases[0].expected) == ("call", "addAll", [[1, 2], 3], [4, 5])


def test_livecodebench_functional_name_from_starter_code():
    tests = [{"input": "1", "output": "2", "testtype": "functional"}]
    starter = "class Solution:\n    def plusOne(self, x: int) -> int:\n        "
    assert parse_problem("livecodebench", tests, {"starter_code": starter}).fn_name == "plusOne"


def test_livecodebench_functional_without_a_name_is_bad():
    with pytest.raises(BadTests, match="without a function name"):
        parse_problem("livecodebench", [{"input": "1", "output": "2", "testtype": "functional"}])


def test_livecodebench_compressed_private_tests():
    tests = [{"input": "1\n", "output": "1\n", "testtype": "stdin"}]
    blob = base64.b64encode(zlib.compress(pickle.dumps(json.dumps(tests)))).decode()
    assert parse_problem("livecodebench", blob).cases[0].expected == "1\n"


def test_pickled_objects_are_refused_not_loaded():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    blob = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(BadTests, match="neither JSON"):
        parse_problem("livecodebench", blob)


def test_taco_stdin_with_lists_of_lines():
    p = parse_problem("taco", {"inputs": [["1", "2"]], "outputs": [["3", "4"]]})
    assert (p.cases[0].stdin, p.cases[0].expected) == ("1\n2", "3\n4")


def test_taco_call_based_accepts_the_unwrapped_output():
    p = parse_problem("taco", {"inputs": [[1, 2]], "outputs": [[3]], "fn_name": "add"})
    t = p.cases[0]
    assert (p.mode, t.args, t.expected, t.alternatives) == ("call", [1, 2], [3], (3,))


def test_taco_python_repr_ground_truth():
    p = parse_problem("code_contests", "{'inputs': ['1\\n'], 'outputs': ['2\\n']}")
    assert p.cases[0].expected == "2\n"


def test_parquet_numpy_arrays_are_plain_data():
    gt = {"inputs": np.array(["1\n", "2\n"], dtype=object), "outputs": np.array(["1\n", "2\n"], dtype=object)}
    assert len(parse_problem("apps", gt).cases) == 2


def test_codeforces_list():
    assert parse_problem("codeforces", [{"input": "1", "output": "1"}]).mode == "stdio"


def test_primeintellect_stdin_and_function_call():
    assert parse_problem("primeintellect", [{"type": "stdin_stdout", "input": "1", "output": "1"}]).mode == "stdio"
    p = parse_problem("primeintellect", [{"type": "function_call", "fn_name": "f", "input": [1, 2], "output": [3]}])
    assert (p.fn_name, p.cases[0].args, p.cases[0].alternatives) == ("f", [1, 2], (3,))


def test_leetcode_asserts_become_call_tests():
    check = "def check(candidate):\n    assert candidate(nums = [3, 1], k = 2) == 4\n    assert candidate([1], k=-1) == [1, 2]\n\n\ncheck(Solution().minOps)"
    p = parse_problem("leetcode", {"functional": check})
    assert p.fn_name == "minOps"
    assert [(t.args, t.kwargs, t.expected) for t in p.cases] == [([], {"nums": [3, 1], "k": 2}, 4), ([[1]], {"k": -1}, [1, 2])]


def test_leetcode_lists_and_trees():
    check = (
        "def check(candidate):\n"
        "    assert is_same_list(candidate(head = list_node([1, 2])), list_node([2, 1]))\n"
        "    assert is_same_tree(candidate(root = tree_node([1, None, 2])), tree_node([]))\n"
        "check(Solution().f)"
    )
    t1, t2 = parse_problem("leetcode", {"functional": check}).cases
    assert t1.kwargs == {"head": {"$list": [1, 2]}} and t1.expected == {"$list": [2, 1]}
    assert t2.kwargs == {"root": {"$tree": [1, None, 2]}} and t2.expected is None


@pytest.mark.parametrize(
    "check, reason",
    [
        ("def check(candidate):\n    assert candidate(1) != 2\ncheck(Solution().f)", "unsupported statement"),
        ("def check(candidate):\n    x = candidate(1)\ncheck(Solution().f)", "unsupported statement"),
        ("def check(candidate):\n    assert candidate(foo()) == 1\ncheck(Solution().f)", "not a literal"),
        ("def check(candidate):\n    assert candidate(1) == 1", "do not say what to check"),
        ("def chek(candidate):\n    pass", "no 'def check"),
        ("def check(candidate:\n", "does not parse"),
    ],
)
def test_leetcode_checks_we_cannot_judge_outside_the_sandbox_are_bad(check, reason):
    with pytest.raises(BadTests, match=reason):
        parse_problem("leetcode", {"functional": check})


@pytest.mark.parametrize(
    "source, gt, reason",
    [
        ("taco", "not json at all {", "neither JSON"),
        ("taco", {"inputs": ["1"], "outputs": []}, "1 inputs but 0 outputs"),
        ("taco", {"inputs": "1", "outputs": "1"}, "must both be lists"),
        ("taco", {"inputs": [], "outputs": []}, "no tests"),
        ("taco", {"inputs": [{"a": 1}], "outputs": ["1"]}, "input must be a string"),
        ("taco", {"inputs": [""], "outputs": [None]}, "output must be a string"),  # never optional
        ("codeforces", [{"input": "1"}], "lacks 'input' or 'output'"),
        ("codeforces", ["1"], "not a dict"),
        ("codeforces", 42, "must be a list"),
        ("livecodebench", [{"input": "x", "output": "1", "testtype": "functional", "metadata": {"func_name": "f"}}], "not JSON"),
        ("livecodebench", [{"input": "1", "output": "NaN", "testtype": "functional", "metadata": {"func_name": "f"}}], "non-finite"),
        ("primeintellect", [{"type": "interactive", "input": "1", "output": "1"}], "unknown type"),
        ("taco", {"inputs": ["1", [1]], "outputs": ["1", [1]], "fn_name": 7}, "fn_name must be"),
        ("leetcode", [1, 2], "must be {'functional'"),
    ],
)
def test_malformed_tests_give_a_reason(source, gt, reason):
    with pytest.raises(BadTests, match=reason):
        parse_problem(source, gt)


def test_mixed_kinds_are_bad():
    tests = [{"input": "1", "output": "1", "testtype": "stdin"},
             {"input": "1", "output": "1", "testtype": "functional", "metadata": {"func_name": "f"}}]
    with pytest.raises(BadTests, match="mixes"):
        parse_problem("livecodebench", tests)


def test_selection_keeps_the_longest_inputs_in_dataset_order():
    p = parse_problem("taco", {"inputs": ["a" * n for n in (5, 1, 9, 3, 7)], "outputs": ["x"] * 5})
    assert select_tests(p.cases, 3) == [0, 2, 4]
    assert select_tests(p.cases, None) == [0, 1, 2, 3, 4]
    assert select_tests(p.cases, 10) == [0, 1, 2, 3, 4]


def test_curation_and_the_reward_share_one_problem_record(fixtures_dir):
    # a LeetCode row curated by verl_pipeline.data, its ground truth read back by the reward: the same class,
    # the same published tests, the same function name and test count
    from verl_pipeline.data.formats import normalise
    from verl_pipeline.data.problem import Problem

    row = json.loads((fixtures_dir / "leetcode_test.json").read_text())[0]
    curated = normalise(row, "leetcode_test.json", 0, "data/leetcode_test.json")
    judged = parse_problem(curated.data_source, json.dumps(curated.tests))
    assert type(curated) is Problem and type(judged) is Problem
    assert (judged.data_source, judged.tests) == (curated.data_source, curated.tests)
    assert (judged.fn_name, judged.num_tests, len(judged.cases)) == (curated.fn_name, curated.num_tests, curated.num_tests)
    assert curated.cases == [] and judged.mode == "call"
