"""Throughput of the sandboxed code reward against verl's ``prime_code``, same problems, same run.

    python benchmarks/reward_throughput.py [--workers N] [--problems N] [--isolation auto|bwrap|landlock]

Workloads (every program is correct, so every selected test runs):

* ``trivial-15``: A+B problems with 15 tests each (DeepCoder's cap: the worst case for us, since
  prime_code's per-problem start-up is then spread over the most tests);
* ``trivial-5``: the same with 5 tests (DeepCoder keeps only problems with at least 5 tests);
* ``real``: PrimeIntellect problems and their reference solutions (``tests/reward/fixtures``).

Both harnesses are called the way verl's reward loop calls a reward function: from a thread pool
with ``--workers`` threads (default: one per core). Each run starts with a warm-up pass that is not
timed (it lets our sandbox pool fill and Python import everything). The harnesses alternate over
``--rounds`` rounds, so load from other processes on the machine falls on both; the script prints
the median tests/s, tests/s per core, and the median ratio ours / prime_code for each workload.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "reward" / "fixtures"
A_PLUS_B = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"


def trivial(problems: int, tests: int) -> list[tuple[str, dict]]:
    jobs = []
    for p in range(problems):
        pairs = [(p * 1000 + i, i * 7 - 3) for i in range(tests)]
        gt = {"inputs": [f"{a} {b}\n" for a, b in pairs], "outputs": [f"{a + b}\n" for a, b in pairs]}
        jobs.append((A_PLUS_B, gt))
    return jobs


def real(repeat: int) -> list[tuple[str, dict]]:
    rows = json.loads((FIXTURES / "primeintellect_verify.json").read_text())
    jobs = []
    for row in rows:
        gt = {"inputs": [t["input"] for t in row["tests"]], "outputs": [t["output"] for t in row["tests"]]}
        jobs.append((row["solutions"][0], gt))
    return jobs * repeat


def run_ours(jobs, workers: int, isolation: str | None) -> tuple[int, float, int]:
    from verl_pipeline.reward import compute_score

    def one(job):
        code, gt = job
        out = compute_score("taco", code, json.dumps(gt), isolation=isolation)
        return out["tests_run"], out["acc"]

    return _timed(one, jobs, workers)


def run_prime_code(jobs, workers: int) -> tuple[int, float, int]:
    from verl.utils.reward_score import prime_code

    def one(job):
        code, gt = job
        try:
            ok, _ = prime_code.compute_score(code, json.dumps(gt))
        except Exception:  # noqa: BLE001 - prime_code raises UnboundLocalError on some rejections
            ok = False
        return len(gt["inputs"]), bool(ok)

    return _timed(one, jobs, workers)


def _timed(fn, jobs, workers: int) -> tuple[int, float, int]:
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fn, jobs[: max(workers * 2, 4)]))  # warm-up
        start = time.perf_counter()
        results = list(pool.map(fn, jobs))
        elapsed = time.perf_counter() - start
    return sum(n for n, _ in results), elapsed, sum(ok for _, ok in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--problems", type=int, default=40, help="problems per trivial workload")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per workload (medians reported)")
    parser.add_argument("--isolation", default=None, help="auto (default), bwrap or landlock")
    args = parser.parse_args()
    from verl_pipeline.reward import sandbox

    layer = sandbox.resolve_layer(args.isolation)
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f}; workers: {args.workers}; "
          f"isolation: {layer} + seccomp + rlimits; python {sys.version.split()[0]}")
    print(f"{'workload':<11} {'harness':<11} {'tests/round':>11} {'tests/s (median)':>17} {'per core':>9} {'accepted':>9}")
    workloads = {
        "trivial-15": trivial(args.problems, 15),
        "trivial-5": trivial(args.problems * 3, 5),
        "real": real(max(1, args.problems // 10)),
    }
    harnesses = {"ours": lambda jobs: run_ours(jobs, args.workers, layer),
                 "prime_code": lambda jobs: run_prime_code(jobs, args.workers)}
    for name, jobs in workloads.items():
        rates: dict[str, list[float]] = {h: [] for h in harnesses}
        accepted: dict[str, int] = {}
        tests_per_round: dict[str, int] = {}
        for round_ in range(args.rounds):
            # alternate who goes first, so a burst of load on this shared machine hits both alike
            for harness in sorted(harnesses, reverse=bool(round_ % 2)):
                tests, seconds, ok = harnesses[harness](jobs)
                rates[harness].append(tests / seconds)
                accepted[harness], tests_per_round[harness] = ok, tests
        medians = {h: statistics.median(r) for h, r in rates.items()}
        for harness, rate in medians.items():
            print(f"{name:<11} {harness:<11} {tests_per_round[harness]:>11} {rate:>17.1f} {rate / cores:>9.1f} "
                  f"{accepted[harness]:>4}/{len(jobs):<4}")
        ratio = statistics.median(o / p for o, p in zip(rates["ours"], rates["prime_code"]))
        print(f"{name:<11} {'ratio':<11} ours / prime_code = {ratio:.1f}x (median of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
