"""Our code reward's CPU per test in two checkouts, alternated round by round (a regression check).

    python benchmarks/reward_ab.py --rounds 16 now=. before=/tmp/wt_before

Each ``name=path`` is a checkout of this repository (``git worktree add /tmp/wt_before <commit>``);
each round runs, in a fresh interpreter per checkout and in alternating order, the workloads of
``reward_throughput.py`` (``trivial-5``, ``rl-15``, ``real``) through our harness only, with one
thread per core, and records CPU ms per test of every process involved (``:parent`` the grader's
own share). This machine's speed drifts by 10-20% within minutes, which moves both checkouts of a
round alike, so the script prints, per workload, the medians of both and the median of the per-round
ratios first/second.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

ROUND = r"""
import json, os, sys, time
sys.path.insert(0, "benchmarks")
import reward_throughput as b
workers = os.cpu_count() or 1
out = {}
for name, jobs in (("trivial-5", b.trivial(120, 5)), ("rl-15", b.trivial(40, 15, 0.65)), ("real", b.real(4))):
    parent = time.process_time()
    tests, _wall, cpu, _ok = b.run_ours(jobs, workers, None)
    out[name] = cpu / tests * 1e3
    out[name + ":parent"] = (time.process_time() - parent) / tests * 1e3
print(json.dumps(out))
"""


def one_round(path: str) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=os.path.abspath(path))
    proc = subprocess.run([sys.executable, "-c", ROUND], cwd=path, env=env, capture_output=True, text=True)
    if proc.returncode:
        raise SystemExit(f"round in {path} failed:\n{proc.stderr[-3000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=16)
    parser.add_argument("checkouts", nargs=2, metavar="name=path")
    args = parser.parse_args()
    trees = dict(c.split("=", 1) for c in args.checkouts)
    (a, b) = trees
    results: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
    for r in range(args.rounds):
        for name in (a, b) if r % 2 == 0 else (b, a):
            results[name].append(one_round(trees[name]))
    print(f"CPU ms per test, medians of {args.rounds} alternated rounds ({os.cpu_count()} workers)")
    print(f"{'workload':18s} {a:>9s} {b:>9s}  {a}/{b}  per-round median")
    for w in results[a][0]:
        ma = statistics.median(x[w] for x in results[a])
        mb = statistics.median(x[w] for x in results[b])
        per_round = statistics.median(x[w] / y[w] for x, y in zip(results[a], results[b]))
        print(f"{w:18s} {ma:9.3f} {mb:9.3f}  {ma / mb:6.3f}  {per_round:6.3f}")


if __name__ == "__main__":
    main()
