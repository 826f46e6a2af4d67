"""Check that a problem's reference solution passes its own tests, in the code-reward sandbox, in parallel.

A problem passes when at least one of its first `max_solutions` reference solutions passes ALL its tests
(`max_tests=0`: no 15-longest-tests cap) as judged by `verl_pipeline.reward.compute_score` for the
problem's data_source, i.e. exactly how training will judge the model. A problem without reference
solutions (LiveCodeBench) cannot be checked and is kept as "no_solutions". The sandbox runs programs in
subprocesses, so threads are enough to run many problems at once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from verl_pipeline.data.problem import Problem

logger = logging.getLogger(__name__)

PASSED, FAILED, NO_SOLUTIONS = "passed", "failed", "no_solutions"


@dataclass(frozen=True)
class Verification:
    status: str  # PASSED | FAILED | NO_SOLUTIONS
    tried: int  # solutions run
    detail: str  # the failing verdict and reason of the last solution tried, or ""


def as_response(solution: str) -> str:
    """A reference solution as the reward expects a model response: code in the last fenced block."""
    return solution if "```" in solution else f"```python\n{solution.strip()}\n```"


def verify_problem(problem: Problem, max_solutions: int, compute_score: Callable[..., dict]) -> Verification:
    """Run reference solutions in order until one passes every test."""
    if not problem.solutions:
        return Verification(NO_SOLUTIONS, 0, "")
    ground_truth = json.dumps(problem.tests)
    detail = ""
    tried = 0
    for solution in problem.solutions[:max_solutions]:
        tried += 1
        try:
            result = compute_score(problem.data_source, as_response(solution), ground_truth, extra_info={"max_tests": 0})
        except Exception as e:  # one problem's odd tests must not stop the run: count it as failed, say why
            logger.warning("reward raised on %s: %r", problem.uid, e)
            result = {"score": 0.0, "verdict": "REWARD_ERROR", "reason": f"{type(e).__name__}: {e}"}
        if result.get("score", 0.0) >= 1.0:
            return Verification(PASSED, tried, "")
        failed = result.get("failed_test")
        detail = f"{result.get('verdict')}" + (f" on test {failed}" if failed is not None else "")
        if result.get("reason"):
            detail += f": {str(result['reason'])[:200]}"
    return Verification(FAILED, tried, detail)


def verify_all(problems: Sequence[Problem], workers: int, max_solutions: int) -> list[Verification]:
    """Verification of every problem (same order as `problems`), `workers` problems at a time, with a bar."""
    from tqdm import tqdm

    from verl_pipeline.reward import compute_score

    out: list[Verification | None] = [None] * len(problems)
    todo = [i for i, p in enumerate(problems) if p.solutions]
    for i, p in enumerate(problems):
        if not p.solutions:
            out[i] = Verification(NO_SOLUTIONS, 0, "")
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool, tqdm(
        total=len(todo), desc="verify reference solutions", unit="problem"
    ) as bar:
        futures = {pool.submit(verify_problem, problems[i], max_solutions, compute_score): i for i in todo}
        for fut in as_completed(futures):
            out[futures[fut]] = fut.result()
            bar.update(1)
    return out  # type: ignore[return-value]
