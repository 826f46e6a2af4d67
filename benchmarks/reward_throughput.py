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
``--rounds`` rounds, so load from other processes on the machine falls on both. For each workload
the script prints medians of: tests/s and tests/s per core (wall clock), CPU time per test and
tests per CPU-second (every process of the harness counted; unlike wall-clock rates this does not
move with other load on the machine), and both ratios ours / prime_code.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
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


def _descendants_cpu() -> float:
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
    return own.ru_utime + own.ru_stime + reaped.ru_utime + reaped.ru_stime + _descendants_cpu()


def run_ours(jobs, workers: int, isolation: str | None) -> tuple[int, float, float, int]:
    from verl_pipeline.reward import compute_score

    def one(job):
        code, gt = job
        out = compute_score("taco", code, json.dumps(gt), isolation=isolation)
        return out["tests_run"], out["acc"]

    return _timed(one, jobs, workers)


def run_prime_code(jobs, workers: int) -> tuple[int, float, float, int]:
    from verl.utils.reward_score import prime_code

    def one(job):
        code, gt = job
        try:
            ok, _ = prime_code.compute_score(code, json.dumps(gt))
        except Exception:  # noqa: BLE001 - prime_code raises UnboundLocalError on some rejections
            ok = False
        return len(gt["inputs"]), bool(ok)

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
    parser.add_argument("--isolation", default=None, help="auto (default), bwrap or landlock")
    args = parser.parse_args()
    from verl_pipeline.reward import sandbox

    layer = sandbox.resolve_layer(args.isolation)
    cores = os.cpu_count() or 1
    print(f"machine: {cores} cores, load average {os.getloadavg()[0]:.1f}; workers: {args.workers}; "
          f"isolation: {layer} + seccomp + rlimits; python {sys.version.split()[0]}")
    print(f"{'workload':<11} {'harness':<11} {'tests':>6} {'tests/s':>8} {'per core':>9} {'CPU ms/test':>12} "
          f"{'tests/CPU-s':>12} {'accepted':>9}")
    workloads = {
        "trivial-15": trivial(args.problems, 15),
        "trivial-5": trivial(args.problems * 3, 5),
        "real": real(max(1, args.problems // 10)),
    }
    harnesses = {"ours": lambda jobs: run_ours(jobs, args.workers, layer),
                 "prime_code": lambda jobs: run_prime_code(jobs, args.workers)}
    for name, jobs in workloads.items():
        rates: dict[str, list[float]] = {h: [] for h in harnesses}
        cpu_rates: dict[str, list[float]] = {h: [] for h in harnesses}
        accepted: dict[str, int] = {}
        tests_per_round: dict[str, int] = {}
        for round_ in range(args.rounds):
            # alternate who goes first, so a burst of load on this shared machine hits both alike
            for harness in sorted(harnesses, reverse=bool(round_ % 2)):
                tests, seconds, cpu, ok = harnesses[harness](jobs)
                rates[harness].append(tests / seconds)
                cpu_rates[harness].append(tests / cpu)
                accepted[harness], tests_per_round[harness] = ok, tests
        for harness in harnesses:
            rate, cpu_rate = statistics.median(rates[harness]), statistics.median(cpu_rates[harness])
            print(f"{name:<11} {harness:<11} {tests_per_round[harness]:>6} {rate:>8.1f} {rate / cores:>9.1f} "
                  f"{1000 / cpu_rate:>12.2f} {cpu_rate:>12.1f} {accepted[harness]:>4}/{len(jobs):<4}")
        wall = statistics.median(o / p for o, p in zip(rates["ours"], rates["prime_code"]))
        cpu = statistics.median(o / p for o, p in zip(cpu_rates["ours"], cpu_rates["prime_code"]))
        print(f"{name:<11} {'ratio':<11} ours / prime_code: {wall:.1f}x in tests/s, {cpu:.1f}x in tests per CPU-second "
              f"(medians of {args.rounds} rounds)")

if __name__ == "__main__":
    main()
