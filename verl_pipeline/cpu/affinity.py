"""Pin a whole process tree (every thread of the process and of its descendants) to a set of CPU cores, or
set its niceness.

On a CPU machine the rollout pool and the trainer pool would otherwise share all cores, and neither the
pipelining benchmark nor a laptop run could show one pool working while the other trains. Linux affinity is per
thread and inherited only at creation: a process that already runs threads (Ray's, torch's) needs each one moved,
and so do the processes it already started. That matters for the rollout: verl's vLLM server starts vLLM's engine
core and worker processes when it launches, before the trainer pins anything, and they do the decoding; pinning
the server's own process alone would leave the engine free to run on the trainer's core.
"""

from __future__ import annotations

import os


def _threads(pid: int) -> list[int]:
    try:
        return [int(t) for t in os.listdir(f"/proc/{pid}/task")]
    except FileNotFoundError:  # the process exited meanwhile
        return []


def _children(pid: int) -> list[int]:
    children = []
    for tid in _threads(pid):
        try:
            with open(f"/proc/{pid}/task/{tid}/children") as f:
                children += [int(c) for c in f.read().split()]
        except (FileNotFoundError, ProcessLookupError):
            continue
    return children


def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children, their children ...)."""
    found, todo = [], _children(pid)
    while todo:
        child = todo.pop()
        found.append(child)
        todo += _children(child)
    return found


def pin_current_process(cores: list[int]) -> list[int]:
    """Move every thread of this process and of its descendants onto `cores`; size torch's pool to match.

    Returns the cores this process may now run on.
    """
    import torch

    allowed = set(int(c) for c in cores)
    if not allowed:
        raise ValueError("cpu affinity needs at least one core")
    for pid in [os.getpid(), *descendants(os.getpid())]:
        for tid in _threads(pid):
            try:
                os.sched_setaffinity(tid, allowed)
            except (ProcessLookupError, PermissionError):  # a thread that exited meanwhile
                continue
    torch.set_num_threads(len(allowed))
    return sorted(os.sched_getaffinity(0))


def renice_current_process(niceness: int) -> int:
    """Set the niceness of every thread of this process and of its descendants to `niceness` (0-19).

    Linux keeps a niceness per thread, and a new thread or process inherits its creator's, so what this tree
    starts afterwards (a reward sandbox) runs at it too. Raising a priority (a niceness below the current one)
    needs CAP_SYS_NICE: without it this raises PermissionError naming the niceness it found. Returns this
    thread's niceness afterwards.
    """
    current = os.getpriority(os.PRIO_PROCESS, 0)
    for pid in [os.getpid(), *descendants(os.getpid())]:
        for tid in _threads(pid):
            try:
                os.setpriority(os.PRIO_PROCESS, tid, int(niceness))
            except ProcessLookupError:  # a thread that exited meanwhile
                continue
            except PermissionError as err:
                raise PermissionError(
                    f"cannot set niceness {niceness} (this process runs at {current}; Ray starts its workers at "
                    f"RAY_worker_niceness, 15 by default): a lower niceness needs CAP_SYS_NICE. Use a niceness of "
                    f"{current} or more in pipeline.cpu_nice.") from err
    return os.getpriority(os.PRIO_PROCESS, 0)
