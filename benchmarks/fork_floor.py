"""Where a sandboxed test's CPU goes, against the floor of any fresh-process-per-test design.

    python benchmarks/fork_floor.py [--tests N]

Runs the A+B program N times in one process per test, three ways, in this one run:

* ``bare fork+exit``: a Python started like our zygote (``-I -S``, the same stdlib imported) forks a
  child that exits at once: what the kernel charges for one fresh copy of the interpreter;
* ``bare fork+run``: the same, and the child runs the program (stdin from a pipe, stdout to
  /dev/null): a fork-per-test judge with no isolation, no limits, no protocol;
* ``sandbox``: our warm sandbox (``verl_pipeline.reward.sandbox``), split into the grader thread, the
  zygote and the test children (CPU of the children from ``wait4``; the zygote's is what the
  sandbox's process tree used beyond that).

CPU per test is what counts on a 2-core reward worker (wall time moves with other load). The gap
between the last two is what isolation and the grader protocol cost; the first is out of reach of
any design that gives each test a fresh process.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

# this directory is on sys.path when the script runs
from reward_throughput import descendants_cpu

PROGRAM = "a, b = map(int, input().split())\nprint(a + b)\n"
# The modules our zygote has imported when it forks (runner.py and its preloads), so the bare
# interpreter is the same size.
ZYGOTE_MODULES = ("atexit", "builtins", "collections", "fcntl", "gc", "json", "math", "resource", "signal",
                  "struct", "time", "ctypes", "bisect", "functools", "heapq", "io", "itertools", "re", "string",
                  "traceback", "typing")

BARE = r"""
import gc, os, resource, sys
for name in MODULES:
    __import__(name)
code = compile(PROGRAM, "<solution>", "exec")
run_program, tests = sys.argv[1] == "run", int(sys.argv[2])
gc.collect(); gc.freeze()
devnull = os.open("/dev/null", os.O_WRONLY)
before = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
for i in range(tests):
    r, w = os.pipe()
    os.write(w, b"%d %d\n" % (i, i)); os.close(w)
    pid = os.fork()
    if pid == 0:
        if run_program:
            os.dup2(r, 0); os.dup2(devnull, 1)
            exec(code, {"__name__": "__main__", "__builtins__": __builtins__})
            sys.stdout.flush()
        os._exit(0)
    os.waitpid(pid, 0)
    os.close(r)
after = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = [a.ru_utime + a.ru_stime - b.ru_utime - b.ru_stime for a, b in zip(after, before)]
print(cpu[0] / tests * 1e3, cpu[1] / tests * 1e3)
"""


def bare(mode: str, tests: int) -> tuple[float, float]:
    """(parent, child) CPU ms per test of a bare fork-per-test loop."""
    script = f"MODULES = {ZYGOTE_MODULES!r}\nPROGRAM = {PROGRAM!r}\n" + BARE
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script, mode, str(tests)],
                         capture_output=True, text=True, check=True).stdout.split()
    return float(out[0]), float(out[1])


def sandboxed(tests: int, layer: str) -> tuple[float, float, float]:
    """(grader thread, zygote, test children) CPU ms per test in our sandbox."""
    from verl_pipeline.reward import sandbox

    limits = sandbox.Limits(time_s=6.0, memory_mb=1024)
    sb = sandbox.Sandbox(layer)
    try:
        sb.load(PROGRAM, "stdio", None, limits)
        for i in range(50):  # warm-up
            sb.run(b"1 2\n", limits)
        grader0, tree0, children = time.thread_time(), descendants_cpu(), 0.0
        for i in range(tests):
            children += sb.run(b"%d %d\n" % (i, i), limits).cpu_s
        grader = time.thread_time() - grader0
        zygote_cpu = descendants_cpu() - tree0 - children  # the tree counts the children the zygote reaped
    finally:
        sb.close()
    return grader / tests * 1e3, zygote_cpu / tests * 1e3, children / tests * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tests", type=int, default=2000)
    parser.add_argument("--isolation", default=None, help="auto (default), bwrap or landlock")
    args = parser.parse_args()
    from verl_pipeline.reward import sandbox

    layer = sandbox.resolve_layer(args.isolation)
    print(f"{args.tests} tests of A+B each; CPU ms per test; load average {os.getloadavg()[0]:.1f}")
    print(f"{'':<16} {'grader':>7} {'parent':>7} {'child':>7} {'total':>7}")
    exit_parent, exit_child = bare("exit", args.tests)
    run_parent, run_child = bare("run", args.tests)
    grader, zygote, children = sandboxed(args.tests, layer)
    floor = run_parent + run_child
    for name, row in (("bare fork+exit", (0.0, exit_parent, exit_child)),
                      ("bare fork+run", (0.0, run_parent, run_child)),
                      (f"sandbox ({layer})", (grader, zygote, children))):
        print(f"{name:<16} {row[0]:>7.3f} {row[1]:>7.3f} {row[2]:>7.3f} {sum(row):>7.3f}")
    print(f"sandbox / bare fork+run: {(grader + zygote + children) / floor:.2f}x; "
          f"what isolation and the protocol add per test: {grader + zygote + children - floor:.3f} ms")


if __name__ == "__main__":
    main()
