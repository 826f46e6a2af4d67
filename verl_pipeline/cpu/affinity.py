"""Pin a whole process (every thread) to a set of CPU cores, and size torch's thread pool to match.

On a CPU machine the rollout pool and the trainer pool would otherwise share all cores, and neither the
pipelining benchmark nor a laptop run could show one pool working while the other trains. Linux affinity is per
thread, and a process that already runs threads (Ray's, torch's) needs each one moved.
"""

from __future__ import annotations

import os


def pin_current_process(cores: list[int]) -> list[int]:
    """Move every thread of this process onto `cores`; return the cores now allowed."""
    import torch

    allowed = set(int(c) for c in cores)
    if not allowed:
        raise ValueError("cpu affinity needs at least one core")
    for tid in os.listdir("/proc/self/task"):
        try:
            os.sched_setaffinity(int(tid), allowed)
        except (ProcessLookupError, PermissionError):  # a thread that exited meanwhile
            continue
    torch.set_num_threads(len(allowed))
    return sorted(os.sched_getaffinity(0))
