"""pin_current_process moves the whole tree: a child started before the pin (as vLLM's engine is) is pinned too;
renice_current_process lowers the priority of the whole tree and of what it starts afterwards."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time

import pytest

from verl_pipeline.cpu.affinity import descendants

needs_two_cores = pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs two cores to pin to one of them")

SCRIPT = textwrap.dedent("""
    import os, subprocess, sys, threading, time
    from verl_pipeline.cpu.affinity import pin_current_process
    # a grandchild started before the pin, as verl's vLLM server starts the engine core and its worker
    child = subprocess.Popen([sys.executable, "-c",
        "import subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        " print(g.pid, flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    grandchild = int(child.stdout.readline())
    ticker = threading.Thread(target=time.sleep, args=(60,), daemon=True)
    ticker.start()
    core = sorted(os.sched_getaffinity(0))[-1]
    pin_current_process([core])
    tids = [int(t) for t in os.listdir(f"/proc/{os.getpid()}/task")]
    print(core, child.pid, grandchild, *[sorted(os.sched_getaffinity(p)) == [core] for p in [child.pid, grandchild, *tids]],
          flush=True)
    child.kill(); os.kill(grandchild, 9); child.wait()
""")


@needs_two_cores
def test_pinning_moves_the_process_its_threads_and_the_processes_it_started_before():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    core, child, grandchild, *pinned = out.stdout.split()
    assert pinned and all(flag == "True" for flag in pinned), out.stdout  # child, grandchild, every thread


def test_descendants_lists_children_and_their_children():
    child = subprocess.Popen([sys.executable, "-c",
                              "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                              "'import time; time.sleep(30)']); time.sleep(30)"])
    try:
        for _ in range(100):
            below = descendants(os.getpid())
            if len(below) >= 2:
                break
            time.sleep(0.05)
        assert child.pid in below and len(below) >= 2, below
        grandchildren = [p for p in below if p != child.pid]
    finally:
        for pid in descendants(child.pid):
            os.kill(pid, 9)
        child.kill()
        child.wait()
    assert grandchildren


RENICE = textwrap.dedent("""
    import os, subprocess, sys, threading, time
    from verl_pipeline.cpu.affinity import renice_current_process
    # a child with a grandchild started before, as a reward worker's sandboxes may be
    child = subprocess.Popen([sys.executable, "-c",
        "import subprocess, sys, time; g = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        " print(g.pid, flush=True); time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    grandchild = int(child.stdout.readline())
    ticker = threading.Thread(target=time.sleep, args=(60,), daemon=True)
    ticker.start()
    target = min(19, os.getpriority(os.PRIO_PROCESS, 0) + 3)  # lowering a priority needs no privilege
    print(target, flush=True)
    renice_current_process(target)
    later = subprocess.Popen([sys.executable, "-c", "import os; print(os.getpriority(os.PRIO_PROCESS, 0))"],
                             stdout=subprocess.PIPE, text=True)
    tids = [int(t) for t in os.listdir(f"/proc/{os.getpid()}/task")]
    print(later.communicate()[0].strip(), *[os.getpriority(os.PRIO_PROCESS, p) for p in [child.pid, grandchild, *tids]],
          flush=True)
    child.kill(); os.kill(grandchild, 9); child.wait()
""")


def test_renice_lowers_the_process_its_threads_the_processes_it_started_and_those_it_starts_later():
    out = subprocess.run([sys.executable, "-c", RENICE], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    target, later, child, grandchild, *threads = out.stdout.split()
    assert (later, child, grandchild) == (target, target, target), out.stdout
    assert len(threads) >= 2 and set(threads) == {target}, out.stdout  # the main thread and the ticker
