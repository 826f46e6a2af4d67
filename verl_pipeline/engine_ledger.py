"""What a run's vLLM processes leave behind when they die without shutting down, and its removal.

vLLM's engine core and workers create their message queues and locks as POSIX shared memory and semaphores
(`/dev/shm/psm_*`, `/dev/shm/sem.mp-*`, ~400 MB per engine on CPU) and unlink them only on a clean shutdown.
Ray ends a rollout server with SIGKILL (at `ray.shutdown()`, or when the server or a node dies), and an
engine core whose server was killed keeps running, orphaned. So every vLLM process of a run records itself
and every segment it registers with Python's resource tracker in a ledger directory (its path in the
environment, `LEDGER_ENV`, set by the driver), and the driver, once Ray is down, ends the recorded processes
that still run and unlinks the recorded segments that still exist. Nothing else is touched: a process is
ended only if its pid *and* start time match a record, a segment only if a process of this run registered it.
A driver killed with SIGKILL cannot clean its own ledger: the next run's `open_ledger` does, once the
driver recorded in it (pid and start time) is gone.

The ledger reaches the processes of the driver's machine only; on a multi-node cluster the clean shutdown
of the engines at the end of training (`PipelinedPPOTrainer.fit`) is what frees the other nodes.
No verl or Ray import: vLLM's processes load this through `verl_pipeline.vllm_plugin`.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from dataclasses import dataclass, field

LEDGER_ENV = "VERL_PIPELINE_ENGINE_LEDGER"
_SHM_DIR = "/dev/shm"
# resource-tracker type -> file name under /dev/shm (glibc maps sem_open("/x") to /dev/shm/sem.x)
_SEGMENT_FILE = {"shared_memory": "{}", "semaphore": "sem.{}"}


@dataclass
class Leftovers:
    processes_ended: list[int] = field(default_factory=list)
    segments_removed: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.processes_ended or self.segments_removed)

    def __str__(self) -> str:
        return (f"ended {len(self.processes_ended)} leftover vLLM process(es) {self.processes_ended}, "
                f"removed {len(self.segments_removed)} /dev/shm segment(s)")


_PREFIX = "verl_pipeline-engines-"


def open_ledger() -> str:
    """A fresh ledger directory for one run (the driver exports `run_environment(ledger)`), after cleaning up
    the ledgers of runs whose driver is gone: a driver killed with SIGKILL never reaches its own `clean`."""
    for stale in _ledgers_of_dead_drivers():
        clean(stale)
    ledger = tempfile.mkdtemp(prefix=_PREFIX)
    os.mkdir(os.path.join(ledger, "ipc"))
    pid = os.getpid()
    _append(ledger, f"driver {pid} {_start_time(pid)}")
    return ledger


def _ledgers_of_dead_drivers() -> list[str]:
    """Ledgers in the temp dir whose recorded driver (pid and start time) no longer runs. A ledger without a
    driver record is left alone: nothing says whose it is."""
    root = tempfile.gettempdir()
    try:
        paths = [os.path.join(root, n) for n in os.listdir(root) if n.startswith(_PREFIX)]
    except OSError:
        return []
    stale = []
    for path in paths:
        driver = _read(path).driver
        if driver is not None and _start_time(driver[0]) != driver[1]:
            stale.append(path)
    return stale


def run_environment(ledger: str) -> dict[str, str]:
    """What every process of the run gets: the ledger, and the directory vLLM binds its ZeroMQ sockets in
    (by default one socket file per engine in /tmp, never removed, even on a clean shutdown; inside the
    ledger they go with it). A `VLLM_RPC_BASE_PATH` the user set is kept."""
    env = {LEDGER_ENV: ledger}
    if "VLLM_RPC_BASE_PATH" not in os.environ:
        env["VLLM_RPC_BASE_PATH"] = os.path.join(ledger, "ipc")
    return env


def _start_time(pid: int) -> str | None:
    """Field 22 of /proc/PID/stat (clock ticks since boot): with the pid, it names one process for good."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            stat = f.read()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return None if fields[0] in ("Z", "X") else fields[19]  # a zombie is already gone: only its parent can reap it


def _append(ledger: str, line: str) -> None:
    # one write per line with O_APPEND: records of concurrent processes never interleave
    fd = os.open(os.path.join(ledger, "records"), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.write(fd, (line + "\n").encode())
    finally:
        os.close(fd)


def install() -> None:
    """In a vLLM process of a ledgered run: record this process and every segment it will register."""
    ledger = os.environ.get(LEDGER_ENV)
    if not ledger or not os.path.isdir(ledger):
        return
    from multiprocessing import resource_tracker

    if getattr(resource_tracker.register, "_verl_pipeline_ledger", None) == ledger:
        return  # plugins load more than once in a process
    pid = os.getpid()
    _append(ledger, f"process {pid} {_start_time(pid)}")
    original = resource_tracker.register

    def register(name, rtype):
        if rtype in _SEGMENT_FILE:
            _append(ledger, f"{rtype} {name.lstrip('/')}")
        return original(name, rtype)

    register._verl_pipeline_ledger = ledger
    resource_tracker.register = register


@dataclass
class _Records:
    driver: tuple[int, str] | None = None
    processes: dict[int, str] = field(default_factory=dict)
    segments: list[str] = field(default_factory=list)


def _read(ledger: str) -> _Records:
    records = _Records()
    try:
        with open(os.path.join(ledger, "records")) as f:
            lines = f.read().splitlines()
    except OSError:  # none yet, or another user's ledger (mkdtemp makes it 0700)
        return records
    for line in lines:
        kind, _, rest = line.partition(" ")
        if kind in ("driver", "process"):
            pid, start = rest.split()
            if kind == "driver":
                records.driver = (int(pid), start)
            else:
                records.processes[int(pid)] = start
        elif kind in _SEGMENT_FILE:
            records.segments.append(_SEGMENT_FILE[kind].format(rest))
    return records


def clean(ledger: str, grace_s: float = 10.0) -> Leftovers:
    """End the recorded processes still running (SIGTERM: vLLM's engine core then unlinks its own segments;
    SIGKILL after `grace_s`), unlink the recorded segments still present, remove the ledger."""
    records = _read(ledger)
    processes, segments = records.processes, records.segments
    running = [pid for pid, start in processes.items() if pid != os.getpid() and _start_time(pid) == start]
    for pid in running:
        _signal(pid, signal.SIGTERM)
    alive = list(running)
    deadline = time.monotonic() + grace_s
    while alive and time.monotonic() < deadline:
        time.sleep(0.1)
        alive = [pid for pid in alive if _start_time(pid) == processes[pid]]
    for pid in alive:
        _signal(pid, signal.SIGKILL)
    left = Leftovers(processes_ended=running)
    for name in dict.fromkeys(segments):
        try:
            os.unlink(os.path.join(_SHM_DIR, name))
            left.segments_removed.append(name)
        except FileNotFoundError:
            pass
    shutil.rmtree(ledger, ignore_errors=True)
    return left


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass
