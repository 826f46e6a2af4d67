"""How much does work on one core slow work on another? The limit of one-core-per-pool CPU comparisons.

The CPU benchmarks give the trainer one core and the rollout engine another, and take as the ideal step the
longer of the two measured alone. Cores are not independent: they share caches and the memory bus, and on a VM
two vCPUs may be one physical core's hyperthreads. This runs a kernel on core A alone, then with the same
kernel running on core B, and prints the ratio:

    matmul  512x512 float32 matmuls (cache-resident: compute)
    stream  in-place add of two 64 MB float32 tensors (memory-bound, as much of training on CPU is)

    python benchmarks/core_interference.py            # ~1 min, cores 0 and 1; run it on an otherwise idle machine

`--json` prints one JSON object instead ({kernel: {"alone_s", "loaded_s", "ratio"}}): benchmarks/long_tail.py
runs it before each round of `--rounds`, so every round's step times come with the machine's speed at the time.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

KERNELS = {
    "matmul": ("a = torch.randn(512, 512); b = torch.randn(512, 512)", "a @ b", 400),
    "stream": ("a = torch.randn(16_000_000); b = torch.randn(16_000_000)", "torch.add(a, b, out=a)", 20),
}


def load_on(core: int, setup: str, op: str) -> subprocess.Popen:
    code = f"import os, torch\nos.sched_setaffinity(0, {{{core}}}); torch.set_num_threads(1)\n{setup}\nwhile True: {op}"
    return subprocess.Popen([sys.executable, "-c", code])


def timed(setup: str, op: str, n: int, rounds: int = 3) -> float:
    import torch  # noqa: F401 (the kernels name it)

    scope: dict = {"torch": torch}
    exec(setup, scope)
    kernel = compile(op, "<kernel>", "eval")
    best = float("inf")
    for _ in range(rounds + 1):  # the first round warms up
        start = time.perf_counter()
        for _ in range(n):
            eval(kernel, scope)
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", type=int, nargs=2, default=[0, 1], metavar=("A", "B"))
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    args = parser.parse_args()
    import torch

    core_a, core_b = args.cores
    os.sched_setaffinity(0, {core_a})
    torch.set_num_threads(1)
    results = {}
    if not args.json:
        print(f"{'kernel':>7} {'alone_s':>8} {'loaded_s':>8} {'ratio':>6}")
    for name, (setup, op, n) in KERNELS.items():
        alone = timed(setup, op, n)
        other = load_on(core_b, setup, op)
        try:
            time.sleep(2)  # the load is running
            loaded = timed(setup, op, n)
        finally:
            other.kill()
            other.wait()
        results[name] = {"alone_s": alone, "loaded_s": loaded, "ratio": loaded / alone}
        if not args.json:
            print(f"{name:>7} {alone:>8.3f} {loaded:>8.3f} {loaded / alone:>5.2f}x")
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
