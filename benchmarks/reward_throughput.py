"""Throughput of the sandboxed code reward against verl's ``prime_code``, same problems, same run.

    python benchmarks/reward_throughput.py [--workers N] [--problems N] [--isolation auto|bwrap|landlock]

``prime_code`` is called the way verl's own reward calls it for these data sources:
``verl.utils.reward_score.default_compute_score("taco", ...)``, i.e. ``prime_code.compute_score(...,
continuous=True)``. Workloads (A+B problems unless said; our harness selects the 15 longest tests,
which here are all of them):

* ``trivial-15``: 15 tests per problem, every program correct: ``prime_code``'s best case (its
  per-problem start-up is spread over the most tests, all run in one process) and our worst;
* ``trivial-5``: the same with 5 tests per problem (DeepCoder keeps problems with at least 5);
* ``rl-15``: 15 tests per problem, programs as an RL policy writes them: ``--accepted-fraction``
  (default 0.65, DeepCoder's mean training reward was 0.6-0.7) are correct, the others give one
  wrong answer at a test drawn uniformly (fixed seed). Here the harnesses run different numbers of
  tests (we stop at the first failure; ``prime_code`` reruns a failed problem test by test), so
  compare problems judged per second;
* ``real``: PrimeIntellect problems and their reference solutions (``tests/reward/fixtures``).

Both harnesses are called the way verl's reward loop calls a reward function: from a thread pool
with ``--workers`` threads (default: one per core). Each run starts with a warm-up pass that is not
timed (it lets our sandbox pool fill and Python import everything). The harnesses alternate over
``--rounds`` rounds, so load from other processes on the machine falls on both. For each workload
the script prints medians of: problems/s and tests/s, tests/s per core (wall clock), CPU ms per
test and per problem (every process of the harness counted; unlike wall-clock rates this does not
move with other load on the machine), and the ratios ours / ``prime_code`` of problems judged per
second and per CPU-second (for the workloads where both run every test, the same as tests/s).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "reward" / "fixtures"
A_PLUS_B = "```python\na, b = map(int, input().split())\nprint(a + b)\n```"


def trivial(problems: int, tests: int, accepted_fraction: float = 1.0, seed: int = 0) -> list[tuple[str, dict]]:
    """A+B problems; ``accepted_fraction`` of the programs (drawn with ``seed``) are correct, the
    others answer wrong (a - b + 1) at one test drawn uniformly."""
    rng = random.Random(seed)
    correct = set(rng.sample(range(problems), round(accepted_fraction * problems)))
    jobs = []
    for p in range(problems):
        pairs = [(p * 1000 + i, i * 7 - 3) for i in range(tests)]
        gt = {"inputs": [f"{a} {b}\n" for a, b in pairs], "outputs": [f"{a + b}\n" for a, b in pairs]}
        jobs.append((A_PLUS_B if p in correct else wrong_at(rng.randrange(tests)), gt))
    return jobs


def wrong_at(test: int) -> str:
    return f"```python\na, b = map(int, input().split())\nprint(a - b + 1 if a % 1000 == {test} else a + b)\n```"


def real(repeat: int) -> list[tuple[str, dict]]:
    rows = json.loads((FIXTURES / "primeintellect_verify.json").read_text())
    jobs = []
    for row in rows:
        gt = {"inputs": [t["input"] for t in row["tests"]], "outputs": [t["output"] for t in row["tests"]]}
        jobs.append((row["solutions"][0], gt))
    return jobs * repeat


def descendants_cpu() -> float:
    """CPU seconds of every live descendant of this process, including what each has reaped.

    Our sandboxes run under bubblewrap's pid namespace, whose CPU never reaches this process's
    RUSAGE_CHILDREN while the (pooled) sandboxes live; /proc has it.
    """
    parent = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parent[int(entry)] = (int(fields[1]), sum(int(x) for x in fields[11:15]))
    total, frontier = 0, {os.getpid()}
    while frontier:
        kids = {pid for pid, (ppid, _) in parent.items() if ppid in frontier}
        total += sum(parent[pid][1] for pid in kids)
        frontier = kids
    return total / os.sysconf("SC_CLK_TCK")


def _cpu() -> float:
    own, reaped = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime + descendants_cpu()


def run_ours(jobs, workers: int, isolation: str | None) -> tuple[int, float, float, int]:
    from verl_pipeline.reward import compute_score

    def one(job):
        code, gt = job
        out = compute_score("taco", code, json.dumps(gt), isolation=isolation)
        return out["tests_run"], out["acc"]

    return _timed(one, jobs, workers)


def run_prime_code(jobs, workers: int) -> tuple[int, float, float, int]:
    from verl.utils.reward_score import default_compute_score

    def one(job):
        code, gt = job
        # what verl's reward does for taco/apps/codeforces/codecontests without a sandbox_fusion_url
        score = default_compute_score("taco", code, json.dumps(gt))
        return len(gt["inputs"]), score == 1.0

    return _timed(one, jobs, workers)


def _timed(fn, jobs, workers: int) -> tuple[int, float, float, int]:
    """(tests run, wall seconds, CPU seconds of this process and all it started, accepted)."""
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(fn, jobs[: max(workers * 2, 4)]))  # warm-up
        cpu, start = _cpu(), time.perf_counter()
        results = list(pool.map(fn, jobs))
        elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    return sum(n for n, _ in results), elapsed, cpu, sum(ok for _, ok in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--problems", type=int, default=40, help="problems per trivial workload")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds per workload (medians reported)")
    parser.add_argument("--accepted-fraction", type=float, default=0.65, help="correct programs in rl-15")
    parser.add_argument("--isolation", default=None, help="auto (default), bwrap or landlock")
    parser.add_argument("--workloads", default="trivial-15,trivial-5,rl-15,real", help="comma-separated subset")
    args = parser.parse_args()
    from verl_pipeline.reward import sandbox

    layer = sandbox.resolve_layer(args.isolation)
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f}; workers: {args.workers}; "
          f"isolation: {layer} + seccomp + rlimits; python {sys.version.split()[0]}")
    print(f"{'workload':<11} {'harness':<11} {'problems/s':>10} {'tests':>6} {'tests/s':>8} {'per core':>9} "
          f"{'CPU ms/test':>12} {'CPU ms/problem':>15} {'accepted':>9}")
    workloads = {
        "trivial-15": lambda: trivial(args.problems, 15),
        "trivial-5": lambda: trivial(args.problems * 3, 5),
        "rl-15": lambda: trivial(args.problems, 15, args.accepted_fraction),
        "real": lambda: real(max(1, args.problems // 10)),
    }
    harnesses = {"ours": lambda jobs: run_ours(jobs, args.workers, layer),
                 "prime_code": lambda jobs: run_prime_code(jobs, args.workers)}
    for name in args.workloads.split(","):
        if name not in workloads:
            parser.error(f"--workloads: unknown workload {name!r}; known: {', '.join(workloads)}")
        jobs = workloads[name]()
        rates: dict[str, list[float]] = {h: [] for h in harnesses}  # problems judged per second
        cpu_rates: dict[str, list[float]] = {h: [] for h in harnesses}  # problems judged per CPU-second
        accepted: dict[str, int] = {}
        tests_per_round: dict[str, int] = {}
        for round_ in range(args.rounds):
            # alternate who goes first, so a burst of load on this shared machine hits both alike
            for harness in sorted(harnesses, reverse=bool(round_ % 2)):
                tests, seconds, cpu, ok = harnesses[harness](jobs)
                rates[harness].append(len(jobs) / seconds)
                cpu_rates[harness].append(len(jobs) / cpu)
                accepted[harness], tests_per_round[harness] = ok, tests
        every_test_run = all(ok == len(jobs) for ok in accepted.values())  # all accepted: all tests ran
        for harness in harnesses:
            rate, cpu_rate = statistics.median(rates[harness]), statistics.median(cpu_rates[harness])
            per_problem = tests_per_round[harness] / len(jobs)
            if harness == "ours" or every_test_run:
                tests = f"{tests_per_round[harness]:>6} {rate * per_problem:>8.1f} {rate * per_problem / cores:>9.1f} " \
                        f"{1000 / cpu_rate / per_problem:>12.2f}"
            else:  # prime_code reruns failed problems test by test: its tests-run count is not known here
                tests = f"{'-':>6} {'-':>8} {'-':>9} {'-':>12}"
            print(f"{name:<11} {harness:<11} {rate:>10.1f} {tests} {1000 / cpu_rate:>15.2f} "
                  f"{accepted[harness]:>4}/{len(jobs):<4}")
        wall = statistics.median(o / p for o, p in zip(rates["ours"], rates["prime_code"]))
        cpu = statistics.median(o / p for o, p in zip(cpu_rates["ours"], cpu_rates["prime_code"]))
        print(f"{name:<11} {'ratio':<11} ours / prime_code: {wall:.1f}x problems judged per second, {cpu:.1f}x per "
              f"CPU-second (medians of {args.rounds} rounds)")


if __name__ == "__main__":
    main()
