"""Every reference solution of the fixtures scores 1; the same solutions made wrong score 0.

``fixtures/leetcode_test.json`` (200 problems, check() functions) and
``fixtures/primeintellect_verify.json`` (10 stdin problems); see fixtures/README.md.
"""

from __future__ import annotations

import importlib.util
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from verl_pipeline.reward import compute_score


def _peer_suites():
    """benchmarks/peer_suites.py: one definition of "made wrong" for this test and the full peer-suite run."""
    path = Path(__file__).resolve().parents[2] / "benchmarks" / "peer_suites.py"
    spec = importlib.util.spec_from_file_location("peer_suites", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def leetcode(fixtures_dir):
    return json.loads((fixtures_dir / "leetcode_test.json").read_text())


@pytest.fixture(scope="module")
def primeintellect(fixtures_dir):
    return json.loads((fixtures_dir / "primeintellect_verify.json").read_text())


def judge_all(jobs, **kwargs) -> list[dict]:
    with ThreadPoolExecutor(4) as pool:
        return list(pool.map(lambda job: compute_score(*job, max_tests=0, **kwargs), jobs))


def failures(rows, results) -> list[str]:
    return [f"#{i}: {r['verdict']} {r['reason']}" for i, (row, r) in enumerate(zip(rows, results)) if r["score"] != 1.0]


def needs_sortedcontainers(row: dict) -> bool:
    return "sortedcontainers" in row["solutions"]


def test_every_leetcode_reference_solution_passes(leetcode):
    rows = [row for row in leetcode if not needs_sortedcontainers(row)]
    results = judge_all([("leetcode", f"```python\n{row['solutions']}\n```", row["tests"]) for row in rows])
    assert len(rows) >= 199 and failures(rows, results) == []


def test_leetcode_reference_solutions_using_sortedcontainers_pass(leetcode, layer):
    # LeetCode's judge has sortedcontainers; so does the sandbox when it is installed (a dependency)
    pytest.importorskip("sortedcontainers")
    rows = [row for row in leetcode if needs_sortedcontainers(row)]
    jobs = [("leetcode", f"```python\n{row['solutions']}\n```", row["tests"]) for row in rows]
    results = judge_all(jobs, isolation=layer)
    assert rows and failures(rows, results) == []


def test_every_leetcode_reference_solution_made_wrong_fails(leetcode):
    have_sortedcontainers = importlib.util.find_spec("sortedcontainers") is not None
    wrong_leetcode = _peer_suites().wrong_leetcode
    jobs = []
    for row in leetcode:
        if needs_sortedcontainers(row) and not have_sortedcontainers:
            continue
        wrong = wrong_leetcode(row["solutions"], row["tests"])
        jobs.append(("leetcode", f"```python\n{wrong}\n```", row["tests"]))
    results = judge_all(jobs)
    assert [i for i, r in enumerate(results) if r["score"] != 0.0] == []
    assert {r["verdict"] for r in results} == {"WA"}  # wrong answers, not crashes


def test_every_primeintellect_reference_solution_passes(primeintellect, layer):
    jobs = [("primeintellect", row["solutions"][0], row["tests"]) for row in primeintellect]
    results = judge_all(jobs, isolation=layer)
    assert failures(primeintellect, results) == []


@pytest.mark.parametrize(
    "suffix, verdict",
    [("\nprint('one more line')", "WA"), ("\nraise SystemExit(1)", "RE")],
    ids=["extra-line", "exit-1"],
)
def test_every_primeintellect_reference_solution_made_wrong_fails(primeintellect, suffix, verdict):
    jobs = []
    for row in primeintellect:
        code = row["solutions"][0].split("```python\n", 1)[1].rsplit("```", 1)[0]
        jobs.append(("primeintellect", f"```python\n{code}{suffix}\n```", row["tests"]))
    results = judge_all(jobs)
    assert [r["verdict"] for r in results] == [verdict] * len(primeintellect)
