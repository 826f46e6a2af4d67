"""``compute_score``: the code reward, usable as verl's ``custom_reward_function`` and from anywhere.

One call judges one response: extract the program (``extract.py``), read the tests
(``formats.py``), run them one at a time in a sandbox (``sandbox.py``) and compare outside it
(``compare.py``). All tests must pass for a reward of 1; judging stops at the first failure.

Verdicts: ``AC`` accepted; ``WA`` wrong answer; ``TLE`` over the time limit; ``MLE`` out of memory;
``RE`` crashed, exited non-zero or was killed by a signal (even if its output was right); ``OLE``
output over the cap; ``CE`` does not compile; ``NO_CODE`` no Python block in the answer;
``BAD_TESTS`` the dataset's tests are unusable (``reason`` says why); ``SANDBOX_ERROR`` the
sandbox itself failed (logged; score 0); ``INTERNAL_ERROR`` the grader raised something it did not
expect while reading this sample's tests or judging it (logged with the traceback, counted as
``internal_errors`` in ``sandbox.counters()``; score 0): one sample's verdict, never an exception
that ends the caller's run.

Options, from keyword arguments or else from ``extra_info`` (keyword arguments win; the data
source sets the defaults): ``time_limit_s`` per test (LiveCodeBench 6, others 12),
``memory_limit_mb`` (2048, address space per test process), ``max_tests`` (15, all under
``rules="livecodebench"``, whose grader runs every test; 0 or None = all),
``rules`` (``deepcoder``: the training reward, DeepCoder's semantics with their holes closed;
``livecodebench``: LiveCodeBench's official grader's verdicts; see ``RULES`` and docs/reward.md),
``float_tol`` (1e-6; 0 = exact), ``output_limit_mb`` (16), ``isolation`` (auto, bwrap, landlock,
none), ``reuse_sandbox`` (True). Unknown keyword arguments are ignored (verl passes its own).

Thread- and process-safe: every call uses its own sandbox; shared state is a lock-protected pool.
Raises only for caller errors: ``ValueError`` for an unknown data source or a bad option value
given as a keyword argument, ``SandboxUnavailable`` when no isolation layer works (see
``sandbox.resolve_layer``).
"""

from __future__ import annotations

import logging
import signal
import time
from dataclasses import dataclass
from typing import Any

from . import compare, formats, sandbox
from .extract import extract_code
from verl_pipeline.data.problem import Problem

from .formats import BadTests, Test

logger = logging.getLogger(__name__)

DEFAULT_MEMORY_MB = 2048
_MISSING = object()


@dataclass(frozen=True)
class Rules:
    """How a rule set differs; both run in the same sandbox with the same protections."""

    runtime: sandbox.Runtime  # what changes inside the test processes
    decimal_exact: bool  # stdout by exact Decimal, results by Python ==; else compare.py's typed rules
    max_tests: int | None  # the default of the max_tests option: DeepCoder caps tests, LiveCodeBench runs all


RULES = {
    "deepcoder": Rules(sandbox.Runtime(), decimal_exact=False, max_tests=formats.DEFAULT_MAX_TESTS),
    # lcb_runner/evaluation/testing_util.py: sys.setrecursionlimit(50000) in its prelude, SystemExit
    # swallowed around a stdin program, Decimal lines for stdout, `prediction == gt_out` for call-based
    # results on the returned object itself (only a top-level tuple becomes a list); its
    # compute_code_generation_metrics.py sets sys.set_int_max_str_digits(50000) in the grading process
    "livecodebench": Rules(sandbox.Runtime(recursion_limit=50_000, exit_is_success=True, tagged_tuples=True,
                                           int_max_str_digits=50_000), decimal_exact=True, max_tests=None),
}
DEFAULT_RULES = "deepcoder"


@dataclass
class Verdict:
    verdict: str
    reason: str = ""
    failed_test: int | None = None  # index in the order the tests ran
    tests_run: int = 0
    tests_total: int = 0
    time_s: float = 0.0
    isolation: str = ""
    sandbox_retries: int = 0  # a pooled sandbox was dead at load and a fresh one took the program

    @property
    def acc(self) -> bool:
        return self.verdict == "AC"

    def as_dict(self) -> dict:
        return {
            "score": 1.0 if self.acc else 0.0,
            "acc": self.acc,
            "verdict": self.verdict,
            "failed_test": self.failed_test,
            "reason": self.reason,
            "tests_run": self.tests_run,
            "tests_total": self.tests_total,
            "time_s": self.time_s,
            "isolation": self.isolation,
            "sandbox_retries": self.sandbox_retries,
        }


@dataclass(frozen=True)
class Options:
    time_limit_s: float
    memory_limit_mb: int
    max_tests: int | None
    float_tol: float
    output_limit_mb: int
    isolation: str | None
    reuse_sandbox: bool
    rules: str = DEFAULT_RULES


def _option(name: str, kwargs: dict, extra: dict, default: Any, convert, check, allow_none: bool = False) -> Any:
    """``kwargs[name]`` (a bad value is the caller's bug: ValueError), else ``extra[name]`` (a bad
    value is the dataset's: BadTests), else ``default``."""
    for source, error in ((kwargs, ValueError), (extra, BadTests)):
        if name in source:
            value = source[name]
            if value is None and allow_none:
                return None
            try:
                value = convert(value)
                ok = check(value)
            except (TypeError, ValueError):
                ok = False
            if not ok:
                raise error(f"{name}={source[name]!r} is not valid")
            return value
    return default


def parse_options(source: str, extra_info: dict | None, kwargs: dict) -> Options:
    extra = extra_info if isinstance(extra_info, dict) else {}
    rules = _option("rules", kwargs, extra, DEFAULT_RULES, str, RULES.__contains__)
    # max_tests: 0 or None means every test (the data-curation code verifies solutions on all)
    max_tests = _option("max_tests", kwargs, extra, RULES[rules].max_tests, int, lambda v: v >= 0, allow_none=True)
    return Options(
        time_limit_s=_option("time_limit_s", kwargs, extra, formats.TIME_LIMITS[source], float, lambda v: 0 < v <= 3600),
        memory_limit_mb=_option("memory_limit_mb", kwargs, extra, DEFAULT_MEMORY_MB, int, lambda v: 64 <= v <= 1 << 20),
        max_tests=max_tests or None,
        float_tol=_option("float_tol", kwargs, extra, compare.DEFAULT_TOL, float, lambda v: 0 <= v < 1),
        output_limit_mb=_option("output_limit_mb", kwargs, extra, 16, int, lambda v: 1 <= v <= 1024),
        isolation=kwargs.get("isolation"),
        reuse_sandbox=bool(kwargs.get("reuse_sandbox", True)),
        rules=rules,
    )


def compute_score(
    data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, **kwargs: Any
) -> dict:
    """Judge one response. Returns ``score`` (1.0/0.0), ``acc``, ``verdict``, ``failed_test``,
    ``reason``, ``tests_run``, ``tests_total``, ``time_s`` and ``isolation`` (the layer used)."""
    return judge(data_source, solution_str, ground_truth, extra_info, **kwargs).as_dict()


def judge(data_source: str, solution_str: str, ground_truth: Any, extra_info: dict | None = None, **kwargs: Any) -> Verdict:
    """Like ``compute_score`` but returns the ``Verdict`` object."""
    start = time.monotonic()
    source = formats.canonical_source(data_source)  # ValueError: a caller bug, not model output
    try:
        opts = parse_options(source, extra_info, kwargs)  # ValueError: a bad keyword, the caller's bug
    except BadTests as e:
        return Verdict("BAD_TESTS", str(e), time_s=time.monotonic() - start)
    try:
        problem = formats.parse_problem(source, ground_truth, extra_info)
    except BadTests as e:
        return Verdict("BAD_TESTS", str(e), time_s=time.monotonic() - start)
    except Exception as e:  # e.g. a SystemError out of ast.parse: this sample's verdict, not the run's end
        return _internal_error(f"reading the {source} tests", e, start)
    selected = formats.select_tests(problem.cases, opts.max_tests)
    code = extract_code(solution_str) if isinstance(solution_str, str) else None
    if code is None:
        return Verdict("NO_CODE", "no fenced Python code block in the answer", tests_total=len(selected),
                       time_s=time.monotonic() - start)
    layer = sandbox.resolve_layer(opts.isolation)
    verdict = Verdict("AC", tests_total=len(selected), isolation=layer)
    try:
        _run_tests(verdict, code, problem, selected, opts, layer)
    except sandbox.SandboxError as e:
        logger.warning("code sandbox failed (%s): %s", layer, e)
        verdict.verdict, verdict.reason = "SANDBOX_ERROR", str(e)[:300]
    except Exception as e:  # one bad sample must not take the reward worker down
        failed = _internal_error(f"judging a {source} response", e, start)
        verdict.verdict, verdict.reason = failed.verdict, failed.reason
    verdict.time_s = time.monotonic() - start
    return verdict


def _internal_error(stage: str, error: Exception, start: float) -> Verdict:
    logger.exception("internal error while %s", stage)
    sandbox.count("internal_errors")
    return Verdict("INTERNAL_ERROR", f"internal error while {stage}: {type(error).__name__}: {error}"[:300],
                   time_s=time.monotonic() - start)


def _run_tests(verdict: Verdict, code: str, problem: Problem, selected: list[int], opts: Options, layer: str) -> None:
    limits = sandbox.Limits(opts.time_limit_s, opts.memory_limit_mb, opts.output_limit_mb)
    rules = RULES[opts.rules]
    with sandbox.program(code, problem.mode, problem.fn_name, limits, layer, opts.reuse_sandbox,
                         rules.runtime) as prog:
        verdict.sandbox_retries = prog.retries
        if prog.load_error is not None:
            verdict.verdict, verdict.reason = "CE", prog.load_error[:300]
            return
        for run_index, test_index in enumerate(selected):
            test = problem.cases[test_index]
            result = prog.run(test.payload())
            verdict.tests_run += 1
            failure = test_failure(result, test, limits, opts.float_tol, rules)
            if failure is not None:
                verdict.verdict, reason = failure
                verdict.failed_test = run_index
                verdict.reason = f"test {run_index} (dataset #{test_index}): {reason}"[:300]
                return


def test_failure(result: sandbox.RunResult, test: Test, limits: sandbox.Limits, tol: float,
                 rules: Rules = RULES[DEFAULT_RULES]) -> tuple[str, str] | None:
    """(verdict, reason) for a failed test, None if it passed."""
    limit = limits.time_s
    cpu_killed = result.signal in (signal.SIGXCPU, signal.SIGKILL) and result.cpu_s >= limit
    if result.timed_out or result.wall_s > limit or cpu_killed:
        return "TLE", f"over the {limit:g} s limit"
    if result.output_limit_exceeded:
        return "OLE", f"output reached the {limits.output_mb} MiB cap"
    last = result.stderr.strip().splitlines()[-1:] or [""]
    if result.signal is not None:
        return "RE", f"killed by {_signal_name(result.signal)}"
    if result.exit != 0:
        if last[0].startswith("MemoryError"):
            return "MLE", f"out of memory ({limits.memory_mb} MiB)"
        return "RE", f"exit code {result.exit}: {last[0][:200]}".rstrip(": ")
    if rules.decimal_exact:
        if test.kind == "stdio":
            reason = compare.compare_stdout_lcb(result.output, test.expected)
        else:
            reason = compare.compare_result_lcb(result.output, test.expected)
    elif test.kind == "stdio":
        reason = compare.compare_stdout(result.output, test.expected, tol)
    else:
        reason = compare.compare_result(result.output, test.expected, test.alternatives, tol)
    return None if reason is None else ("WA", reason)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
