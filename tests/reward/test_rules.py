"""The two rule sets (``rules="deepcoder"`` and ``rules="livecodebench"``), one rule per test, with
real programs in a real sandbox. docs/reward.md has the table that names these tests.

Also here: the sandbox faults of issue 15 (a faked set-up failure, a pooled sandbox that died,
``Limits.nofile``), because they decide verdicts too.
"""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from verl_pipeline.reward import compute_score, sandbox

from .conftest import fence

A_PLUS_B = [("1 2\n", "3\n"), ("5 7\n", "12\n")]
BOTH = pytest.mark.parametrize("rules", ["deepcoder", "livecodebench"])


# -- the import prelude: both rule sets, stdin and call-based ----------------------------------------
@BOTH
def test_stdin_program_uses_prelude_names_without_importing(stdio):
    code = (
        "data = sys.stdin.read().split()\n"  # sys, never imported
        "d = defaultdict(int)\n"
        "for x in data:\n    d[x] += int(x)\n"
        "h = []\n"
        "for v in d.values():\n    heappush(h, v)\n"
        "print(int(sqrt(sum(h) ** 2)))\n"
    )
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "AC", out["reason"]


@BOTH
def test_operator_names_win_over_re_in_call_programs(call):
    # reduce(xor, ...) and reduce(or_, ...) as LeetCode reference solutions write them; sub is
    # operator.sub (it comes after re in the prelude), so sub(a, b) is a - b
    code = (
        "class Solution:\n"
        "    def f(self, nums):\n"
        "        return [reduce(xor, nums), reduce(or_, nums), sub(nums[0], nums[1])]\n"
    )
    out = call(code, "f", [([[5, 3, 1]], [7, 7, 2]), ([[8, 8]], [0, 8, 0])])
    assert out["verdict"] == "AC", out["reason"]


@BOTH
def test_prelude_names_are_fresh_in_every_test(stdio):
    # a test that rebinds or mutates a prelude name must not change what the next test sees
    code = ("a, b = map(int, input().split())\nassert deque is collections.deque\nprint(a + b)\n"
            "deque = None\ncollections.deque = None\n")
    assert stdio(code, A_PLUS_B)["verdict"] == "AC"


def test_lazy_prelude_binds_what_the_whole_prelude_binds():
    # the zygote runs only the eager part; a child adds the lazy modules' bindings: together, every
    # name of the whole prelude, each bound to the very same object
    from verl_pipeline.reward import runner

    whole, rebuilt = {}, {}
    exec(runner.PRELUDE, whole)
    exec(runner.EAGER_PRELUDE, rebuilt)
    bindings = runner.lazy_prelude_bindings()
    for module_name, names in bindings.items():
        module = __import__(module_name)
        for name in names:
            rebuilt.pop(name, None)
            rebuilt[name] = getattr(module, name)
        rebuilt[module_name] = module
    assert set(rebuilt) == set(whole)
    assert [n for n in whole if rebuilt[n] is not whole[n]] == []
    assert "shuffle" in bindings["random"] and "mean" in bindings["statistics"]


@BOTH
def test_lazy_prelude_names_work_without_importing(stdio):
    code = (
        "a, b = map(int, input().split())\n"
        "x = deepcopy([a, b])\n"  # copy
        "assert Error is copy.Error and sub(a, b) == a - b\n"
        "assert timedelta(days=1).days == 1 and 0 <= randint(0, 3) <= 3\n"  # datetime, random
        "print(int(mean(x) * 2))\n"  # statistics
    )
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "AC", out["reason"]


@BOTH
def test_prelude_names_reached_dynamically_are_there(stdio):
    code = "a, b = map(int, input().split())\nprint(eval('int(mean([a, b]) * 2)'))"
    assert stdio(code, A_PLUS_B)["verdict"] == "AC"


def test_a_child_imports_only_the_lazy_modules_its_program_names():
    # what keeps every fork cheap: a program that names none of their names gets none of them (the
    # zygote never imports random, whose at-fork reseed every child would pay)
    from verl_pipeline.reward import runner

    bindings = runner.lazy_prelude_bindings()

    def modules(source):
        return [m for m, _ in runner.lazy_imports_for(runner.names_in(compile(source, "<s>", "exec")), bindings)]

    assert modules("import sys\na, b = map(int, input().split())\nprint(a + b, [1].copy())") == []
    assert modules("n = int(input())\nprint(sqrt(n))") == []
    assert modules("def f(a):\n    class K:\n        m = median(a)\n    return K") == ["statistics"]
    assert modules("import random\nprint(random.randint(1, 2))") == ["random"]
    assert modules("print(choice([1]), timedelta(1))") == ["random"]
    assert modules("print(eval(input()))") == list(bindings)  # the source can name anything
    assert modules("import sys\nprint(getattr(sys.modules[__name__], 'mean'))") == list(bindings)


def test_zygote_never_imports_a_lazy_module(stdio):
    # read sys.modules without naming it (a program naming ``modules`` gets every lazy module)
    code = ("import sys\nloaded = getattr(sys, 'mod' + 'ules')\na, b = map(int, input().split())\n"
            "print(a + b if 'random' not in loaded and 'statistics' not in loaded else 'loaded')")
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "AC", out["reason"]


# -- integers printed as decimals: both rule sets ------------------------------------------------------
@BOTH
def test_integer_answer_printed_as_decimal_is_accepted(stdio):
    out = stdio("a, b = map(int, input().split())\nprint('%.10f' % (a + b))", A_PLUS_B)
    assert out["verdict"] == "AC", out["reason"]


@BOTH
def test_big_integer_printed_as_rounded_float_is_wrong(stdio):
    out = stdio("input()\nprint(float(1000000000001 - 1))", [("x\n", "1000000000001\n")])
    assert out["verdict"] == "WA"


@BOTH
def test_none_stdin_is_empty_input(rules, layer):
    gt = [{"input": None, "output": "empty", "testtype": "stdin"}]
    code = "import sys\nprint('empty' if sys.stdin.read() == '' else 'data')"
    out = compute_score("livecodebench", fence(code), gt, isolation=layer, rules=rules, time_limit_s=2)
    assert out["verdict"] == "AC", out["reason"]


@BOTH
def test_missing_expected_output_is_bad_tests(rules, layer):
    gt = [{"input": "1", "output": None, "testtype": "stdin"}]
    out = compute_score("livecodebench", fence("print(1)"), gt, isolation=layer, rules=rules)
    assert out["verdict"] == "BAD_TESTS"


@BOTH
def test_no_for_yes_is_wrong(stdio):
    assert stdio("input()\nprint('NO')", [("1\n", "YES\n")])["verdict"] == "WA"


# -- where the rule sets differ --------------------------------------------------------------------------
@pytest.mark.parametrize("rules, verdict", [("deepcoder", "AC"), ("livecodebench", "WA")])
def test_float_tolerance_only_under_deepcoder(stdio, verdict):
    # LiveCodeBench compares Decimals exactly: 0.30000000000000004 is not 0.3
    assert stdio("input()\nprint(0.1 + 0.2)", [("x\n", "0.3\n")])["verdict"] == verdict


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "WA"), ("livecodebench", "AC")])
def test_inf_spelled_infinity_only_under_livecodebench(stdio, verdict):
    assert stdio("input()\nprint(float('inf'))", [("x\n", "Infinity\n")])["verdict"] == verdict


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "RE"), ("livecodebench", "AC")])
def test_system_exit_after_the_answer(stdio, verdict):
    code = "a, b = map(int, input().split())\nprint(a + b)\nexit(1)"
    assert stdio(code, A_PLUS_B)["verdict"] == verdict


@BOTH
def test_crash_after_the_answer_is_runtime_error(stdio):
    code = "a, b = map(int, input().split())\nprint(a + b)\nraise ValueError('late')"
    assert stdio(code, A_PLUS_B)["verdict"] == "RE"


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "RE"), ("livecodebench", "AC")])
def test_recursion_limit_50000_under_livecodebench(stdio, verdict):
    code = "def depth(n):\n    return 0 if n == 0 else 1 + depth(n - 1)\nprint(depth(int(input())))"
    assert stdio(code, [("20000\n", "20000\n")])["verdict"] == verdict


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "WA"), ("livecodebench", "AC")])
def test_true_for_one_only_under_livecodebench(call, verdict):
    assert call("def f(a):\n    return a > 0", "f", [([5], 1)])["verdict"] == verdict


@BOTH
def test_integral_float_result_for_int_is_accepted(call):
    assert call("def f(a):\n    return a / 2", "f", [([8], 4)])["verdict"] == "AC"


@BOTH
def test_top_level_tuple_for_a_list_is_accepted(call):
    # LiveCodeBench's grader turns a returned tuple into a list before ==; only that one level
    assert call("def f(a):\n    return (a, a + 1)", "f", [([1], [1, 2])])["verdict"] == "AC"


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "AC"), ("livecodebench", "WA")])
def test_nested_tuples_for_lists_only_under_deepcoder(call, verdict):
    # [(1, 2), (3, 4)] == [[1, 2], [3, 4]] is False in Python, so the official grader rejects it
    code = "def pairs(a):\n    return [(x, x + 1) for x in a]"
    assert call(code, "pairs", [([[1, 3]], [[1, 2], [3, 4]])])["verdict"] == verdict


@BOTH
def test_a_dict_shaped_like_the_tuple_tag_is_still_a_dict(call):
    # the grader's tag for a tuple must not let a dict pass for one (nor the reverse)
    code = "def f(a):\n    return {'$tuple': a, '$x': 1}"
    assert call(code, "f", [([[1, 2]], {"$tuple": [1, 2], "$x": 1})])["verdict"] == "AC"
    assert call("def f(a):\n    return {'$tuple': a}", "f", [([[1, 2]], [[1, 2]])])["verdict"] == "WA"


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "RE"), ("livecodebench", "AC")])
def test_printing_a_5000_digit_integer(stdio, verdict):
    # compute_code_generation_metrics.py raises the str(int) limit to 50,000 digits; Python's is 4,300
    big = "1" + "0" * 4999  # 10 ** 4999: 5,000 digits
    assert stdio("print(10 ** int(input()))", [("4999\n", big + "\n")])["verdict"] == verdict


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "AC"), ("livecodebench", "WA")])
def test_repeated_spaces_between_words_only_under_deepcoder(stdio, verdict):
    # LiveCodeBench: a line that is not identical must be all Decimals to match token by token
    assert stdio("input()\nprint('yes  no')", [("x\n", "yes no\n")])["verdict"] == verdict


@BOTH
def test_repeated_spaces_between_numbers_are_accepted(stdio):
    assert stdio("a, b = map(int, input().split())\nprint(a,  '', b)", [("1 2\n", "1 2\n")])["verdict"] == "AC"


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "AC"), ("livecodebench", "WA")])
def test_float_result_tolerance_only_under_deepcoder(call, verdict):
    # the official grader compares the returned float with ==: 0.30000000000000004 != 0.3
    assert call("def f(a, b):\n    return a + b", "f", [([0.1, 0.2], 0.3)])["verdict"] == verdict


@BOTH
def test_system_exit_inside_a_function_is_no_answer(call):
    # LiveCodeBench swallows SystemExit only around stdin programs; in a call there is no result
    out = call("def f(a):\n    raise SystemExit(0)", "f", [([1], 1)])
    assert (out["score"], out["verdict"]) == (0.0, "WA")


@pytest.mark.parametrize("rules, verdict", [("deepcoder", "AC"), ("livecodebench", "WA")])
def test_livecodebench_runs_every_test_by_default(stdio, verdict):
    # 16 tests; the one with the shortest input fails. DeepCoder keeps the 15 longest inputs; the official
    # grader runs them all
    tests = [(f"{'1' * (i + 2)}\n", f"{len(str('1' * (i + 2)))}\n") for i in range(15)] + [("7\n", "2\n")]
    assert stdio("print(len(input()))", tests)["verdict"] == verdict


def test_unknown_rules_is_a_caller_error():
    with pytest.raises(ValueError, match="rules='lcb'"):
        compute_score("taco", fence("print(1)"), json.dumps({"inputs": ["1"], "outputs": ["1"]}), rules="lcb")


# -- sandbox faults (issue 15) ------------------------------------------------------------------------------
def test_program_cannot_fake_a_sandbox_failure(stdio):
    # exit code 121 and the set-up failure text are what the child prints when its set-up fails;
    # a program printing them is a runtime error, not SANDBOX_ERROR
    code = ("import sys\nsys.stderr.write('sandbox set-up failed: OSError(1)\\n')\nsys.exit(121)")
    out = stdio(code, A_PLUS_B)
    assert out["verdict"] == "RE", out


def test_pooled_sandbox_dead_at_load_is_retried_on_a_fresh_one(stdio, layer, monkeypatch):
    assert stdio("print(sum(map(int, input().split())))", A_PLUS_B)["verdict"] == "AC"  # fills the pool
    acquire = sandbox._Pool.acquire

    def acquire_then_die(pool):
        sb = acquire(pool)
        if sb.uses:  # only a pooled one: the retry gets a fresh sandbox, which is left alone
            os.kill(sb._inner_pid or sb.proc.pid, signal.SIGKILL)
            time.sleep(0.2)
        return sb

    monkeypatch.setattr(sandbox._Pool, "acquire", acquire_then_die)
    before = sandbox.counters()["sandbox_retries"]
    out = stdio("print(sum(map(int, input().split())))", A_PLUS_B)
    assert out["verdict"] == "AC", out
    assert out["sandbox_retries"] == 1  # what the verl reward manager reports per sample
    assert sandbox.counters()["sandbox_retries"] == before + 1


@pytest.mark.parametrize("nofile, verdict", [(16, "RE"), (256, "AC")])
def test_limits_nofile_applies_to_the_test_process(layer, nofile, verdict):
    code = "import os\nfds = [os.dup(0) for _ in range(100)]\nprint(len(fds))"
    limits = sandbox.Limits(time_s=5, memory_mb=512, nofile=nofile)
    with sandbox.program(code, "stdio", None, limits, layer) as prog:
        result = prog.run(b"")
    got = "AC" if result.exit == 0 and result.output == b"100\n" else "RE"
    assert got == verdict, result.stderr


def test_limits_nofile_below_what_a_test_holds_is_refused():
    with pytest.raises(ValueError, match="Limits.nofile"):
        sandbox.Limits(time_s=1, memory_mb=512, nofile=4)
