"""The engine ledger: what a run's vLLM processes register is removed at the end of the run, nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from multiprocessing import shared_memory

from verl_pipeline import engine_ledger

# Stands in for a vLLM engine core: it installs the ledger (as verl_pipeline.vllm_plugin does), creates a
# shared-memory queue and a lock the way vLLM does, and then never shuts down.
ENGINE = textwrap.dedent("""
    import multiprocessing, sys, time
    from multiprocessing import shared_memory
    from verl_pipeline import engine_ledger
    engine_ledger.install()
    engine_ledger.install()  # vLLM may load its plugins twice in one process: recorded once
    queue = shared_memory.SharedMemory(create=True, size=1 << 16)
    lock = multiprocessing.get_context("spawn").Lock()
    print(queue.name, lock._semlock.name, flush=True)
    time.sleep(600)
""")


def start_engine(ledger: str) -> tuple[subprocess.Popen, list[str]]:
    env = {**os.environ, engine_ledger.LEDGER_ENV: ledger}
    proc = subprocess.Popen([sys.executable, "-c", ENGINE], env=env, stdout=subprocess.PIPE, text=True)
    queue, sem = proc.stdout.readline().split()
    return proc, [queue, "sem." + sem.lstrip("/")]


def test_clean_ends_the_runs_engine_and_removes_its_segments(tmp_path):
    ledger = engine_ledger.open_ledger()
    proc, files = start_engine(ledger)
    try:
        assert all(os.path.exists(f"/dev/shm/{name}") for name in files)
        records = open(os.path.join(ledger, "records")).read().splitlines()
        assert sum(r.startswith("process ") for r in records) == 1
        left = engine_ledger.clean(ledger, grace_s=5)
        assert proc.wait(timeout=10) is not None
        assert left.processes_ended == [proc.pid]
        assert [name for name in files if os.path.exists(f"/dev/shm/{name}")] == []
        assert not os.path.exists(ledger)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_clean_touches_no_process_and_no_segment_outside_the_ledger(tmp_path):
    ledger = engine_ledger.open_ledger()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    own = shared_memory.SharedMemory(create=True, size=4096)
    try:
        proc, _ = start_engine(ledger)
        engine_ledger.clean(ledger, grace_s=5)
        proc.wait(timeout=10)
        time.sleep(0.2)
        assert bystander.poll() is None
        assert os.path.exists(f"/dev/shm/{own.name}")
    finally:
        bystander.kill()
        bystander.wait()
        own.close()
        own.unlink()


def test_a_recorded_pid_reused_by_another_process_is_not_ended(tmp_path):
    ledger = engine_ledger.open_ledger()
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        # the same pid, another start time: the recorded process is gone and the pid now names someone else
        with open(os.path.join(ledger, "records"), "w") as f:
            f.write(f"process {bystander.pid} 1\n")
        left = engine_ledger.clean(ledger, grace_s=1)
        assert left.processes_ended == [] and bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def test_without_a_ledger_in_the_environment_nothing_is_recorded(monkeypatch):
    from multiprocessing import resource_tracker

    monkeypatch.delenv(engine_ledger.LEDGER_ENV, raising=False)
    before = resource_tracker.register
    engine_ledger.install()
    assert resource_tracker.register is before


def test_vllm_sockets_go_inside_the_ledger_and_leave_with_it(monkeypatch):
    monkeypatch.delenv("VLLM_RPC_BASE_PATH", raising=False)
    ledger = engine_ledger.open_ledger()
    ipc = engine_ledger.run_environment(ledger)["VLLM_RPC_BASE_PATH"]
    assert os.path.dirname(ipc) == ledger and os.path.isdir(ipc)
    engine_ledger.clean(ledger)
    assert not os.path.exists(ipc)
    monkeypatch.setenv("VLLM_RPC_BASE_PATH", "/somewhere/else")
    other = engine_ledger.open_ledger()
    assert "VLLM_RPC_BASE_PATH" not in engine_ledger.run_environment(other)
    engine_ledger.clean(other)


def test_a_new_run_cleans_the_ledger_of_a_run_whose_driver_was_killed():
    """A driver killed with SIGKILL leaves its ledger (and whatever its engines registered); the next run's
    open_ledger removes it, and never the ledger of a driver that still runs."""
    opener = "from verl_pipeline import engine_ledger; print(engine_ledger.open_ledger(), flush=True)"
    alive = subprocess.Popen([sys.executable, "-c", opener + "; import time; time.sleep(60)"],
                             stdout=subprocess.PIPE, text=True)
    segment = shared_memory.SharedMemory(create=True, size=4096)
    try:
        live = alive.stdout.readline().strip()
        dead = subprocess.run([sys.executable, "-c", opener], capture_output=True, text=True,
                              check=True).stdout.strip()
        with open(os.path.join(dead, "records"), "a") as f:
            f.write(f"shared_memory {segment.name}\n")  # as install() records an engine's segment
        assert os.path.isdir(dead) and os.path.isdir(live)
        ours = engine_ledger.open_ledger()
        assert not os.path.exists(dead), "the dead driver's ledger survived"
        assert not os.path.exists(f"/dev/shm/{segment.name}"), "its recorded segment survived"
        assert os.path.isdir(live), "a running driver's ledger was removed"
        engine_ledger.clean(ours)
        engine_ledger.clean(live)
    finally:
        alive.kill()
        alive.wait()
        alive.stdout.close()
        try:
            segment.close()
            segment.unlink()
        except FileNotFoundError:
            pass
