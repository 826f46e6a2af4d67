"""The sandbox machinery itself: layers, refusal, process lifetime, pooling, fresh state per test."""

from __future__ import annotations

import json
import os
import tempfile
import time

import pytest

from verl_pipeline.reward import compute_score, isolation, sandbox


def children_of(pid: int, zombies: bool = False) -> list[int]:
    """Processes whose parent is ``pid``: the live ones, or (``zombies=True``) the unreaped ones."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    state, ppid = f.read().rsplit(")", 1)[1].split()[:2]
            except OSError:
                continue
            if int(ppid) == pid and (state == "Z") == zombies:
                out.append(int(entry))
    return out


def zombies_of(pid: int) -> list[int]:
    return children_of(pid, zombies=True)


def judge(code: str, layer: str, tests=(("", "3\n"),), **kwargs) -> dict:
    gt = {"inputs": [i for i, _ in tests], "outputs": [o for _, o in tests]}
    return compute_score("taco", f"```python\n{code}\n```", gt, isolation=layer, **kwargs)


def test_layer_is_reported_in_the_result(layer):
    assert judge("print(3)", layer)["isolation"] == layer


def test_auto_prefers_bubblewrap():
    if isolation.bwrap_path() is None:
        pytest.skip("bubblewrap is not installed")
    assert sandbox.resolve_layer("auto") == "bwrap"


def test_refuses_to_run_without_an_isolation_layer(monkeypatch):
    # pretend this machine has neither bubblewrap nor Landlock
    monkeypatch.setattr(isolation, "bwrap_path", lambda: None)
    monkeypatch.setattr(isolation, "landlock_abi", lambda: 0)
    monkeypatch.setattr(sandbox, "_layers", {})
    with pytest.raises(sandbox.SandboxUnavailable, match="isolation='none'"):
        sandbox.resolve_layer("auto")


def test_explicit_none_runs_with_seccomp_and_rlimits_only(monkeypatch):
    monkeypatch.setattr(sandbox, "_layers", {})
    out = judge("import os\ntry:\n    os.fork()\n    print('forked')\nexcept OSError:\n    print(3)", "none")
    assert out["verdict"] == "AC" and out["isolation"] == "none"


def test_unknown_isolation_is_a_value_error():
    with pytest.raises(ValueError, match="auto, bwrap, landlock, none"):
        sandbox.resolve_layer("docker")


def test_no_process_outlives_a_judgement_without_reuse(layer, no_pool):
    code = "import threading, time\nthreading.Thread(target=time.sleep, args=(100,), daemon=True).start()\nprint(3)"
    assert judge(code, layer, reuse_sandbox=False)["verdict"] == "AC"
    assert judge("import time\ntime.sleep(100)", layer, reuse_sandbox=False, time_limit_s=0.3)["verdict"] == "TLE"
    assert children_of(os.getpid()) == [] and zombies_of(os.getpid()) == []


def test_pooled_sandboxes_are_all_gone_after_close(layer, no_pool):
    for _ in range(3):
        judge("print(3)", layer)
    assert children_of(os.getpid()) != []  # the warm zygote waits for the next program
    sandbox.close_sandboxes()
    assert children_of(os.getpid()) == [] and zombies_of(os.getpid()) == []


def test_idle_sandboxes_are_closed(layer, no_pool, monkeypatch):
    judge("print(3)", layer)
    assert children_of(os.getpid()) != []
    monkeypatch.setattr(sandbox, "IDLE_CLOSE_S", 0.3)
    sandbox._spawner.call(lambda: None)  # wake the spawner so it waits with the new, short timeout
    deadline = time.monotonic() + 5
    while children_of(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert children_of(os.getpid()) == [] and zombies_of(os.getpid()) == []


def test_a_killed_sandbox_leaves_nothing_behind(layer, no_pool):
    limits = sandbox.Limits(time_s=0.3, memory_mb=256)
    with sandbox.program("import time\ntime.sleep(100)", "stdio", None, limits, sandbox.resolve_layer(layer)) as prog:
        prog._sandbox.kill()  # what the grader does when the zygote stops answering
    assert children_of(os.getpid()) == [] and zombies_of(os.getpid()) == []


def test_no_host_temp_files_are_created(layer, tmp_path, monkeypatch):
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    judge("print(3)", layer, reuse_sandbox=False)
    assert list(tmp_path.iterdir()) == []


def test_each_test_gets_fresh_random_numbers(layer):
    limits = sandbox.Limits(time_s=5, memory_mb=256)
    with sandbox.program("import random\nprint(random.random())", "stdio", None, limits, sandbox.resolve_layer(layer)) as prog:
        outputs = {prog.run(b"").output for _ in range(3)}
    assert len(outputs) == 3


def test_each_test_gets_a_fresh_process(layer):
    # module state set by one test is invisible to the next: each runs in a new fork of the zygote
    code = "import sys\nprint('seen' if hasattr(sys, 'marker') else 'fresh')\nsys.marker = 1"
    assert judge(code, layer, tests=[("", "fresh\n")] * 3)["verdict"] == "AC"


def test_threads_from_many_callers_at_once(layer):
    from concurrent.futures import ThreadPoolExecutor

    def one(i: int) -> bool:
        out = judge("a, b = map(int, input().split())\nprint(a * b)", layer, tests=[(f"{i} {i}\n", f"{i * i}\n")])
        return out["verdict"] == "AC"

    with ThreadPoolExecutor(8) as pool:
        assert all(pool.map(one, range(24)))


def test_forked_processes_can_judge(layer):
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    judge("print(3)", layer)  # the parent has a warm pool before forking
    with ctx.Pool(2) as pool:
        results = pool.starmap(judge, [("print(3)", layer)] * 4)
    assert [r["verdict"] for r in results] == ["AC"] * 4
    assert judge("print(3)", layer)["verdict"] == "AC"  # and the parent's pool still works


def test_wall_clock_deadline_is_enforced_from_outside(layer):
    start = time.monotonic()
    out = judge("import time\ntime.sleep(30)", layer, time_limit_s=0.5)
    assert out["verdict"] == "TLE" and time.monotonic() - start < 3


def test_memory_limit_is_configurable(layer):
    code = "x = bytearray(300 << 20)\nprint(3)"
    assert judge(code, layer, memory_limit_mb=1024)["verdict"] == "AC"
    assert judge(code, layer, memory_limit_mb=200)["verdict"] == "MLE"


def test_compile_error_is_reported(layer):
    out = judge("def broken(:\n    pass", layer)
    assert out["verdict"] == "CE" and "SyntaxError" in out["reason"]


def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        kids = [k for p in frontier for k in children_of(p)]
        found += kids
        frontier = kids
    return found


def test_a_dead_zygote_is_a_verdict_not_an_exception(layer, no_pool):
    import signal
    import threading

    results = []
    worker = threading.Thread(target=lambda: results.append(judge("import time\ntime.sleep(20)", layer, time_limit_s=30)))
    worker.start()
    deadline = time.monotonic() + 10
    zygote = None
    while zygote is None and time.monotonic() < deadline:
        for pid in descendants(os.getpid()):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read()
            except OSError:
                continue
            if b"runner.py" in cmdline and b"bwrap" not in cmdline and children_of(pid):
                zygote = pid  # the zygote, with the test process running under it
        time.sleep(0.02)
    assert zygote is not None, "no zygote with a running test found"
    os.kill(zygote, signal.SIGKILL)
    worker.join(timeout=10)
    assert results and results[0]["verdict"] == "SANDBOX_ERROR" and results[0]["score"] == 0.0
    sandbox.close_sandboxes()
    assert children_of(os.getpid()) == []


def test_json_ground_truth_and_parsed_ground_truth_agree(layer):
    gt = {"inputs": ["1 2\n"], "outputs": ["3\n"]}
    code = "```python\nprint(sum(map(int, input().split())))\n```"
    parsed = compute_score("taco", code, gt, isolation=layer)
    text = compute_score("taco", code, json.dumps(gt), isolation=layer)
    assert parsed["verdict"] == text["verdict"] == "AC"


def test_bubblewrap_binds_each_offered_package_and_its_libs_folder_only(tmp_path):
    # what the bwrap layer sees of site-packages: the offered packages (and numpy's bundled shared
    # libraries, found relative to the package), each at a fixed place, never site-packages itself
    from verl_pipeline.reward import isolation

    argv = isolation.bwrap_argv(str(tmp_path / "no-bwrap"), "/usr/bin/python3", "/x/runner.py", 3, 1 << 20)
    binds = {argv[i + 2]: argv[i + 1] for i, a in enumerate(argv) if a == "--ro-bind"}
    offered = {**isolation.preload_packages(), **isolation.on_demand_packages()}
    for name, path in offered.items():
        assert binds[f"{isolation.SANDBOX_PACKAGES}/{name}"] == path
    if "numpy" in offered:
        assert binds[f"{isolation.SANDBOX_PACKAGES}/numpy.libs"].endswith("numpy.libs")
    site_packages = {os.path.dirname(p) for p in offered.values()}
    assert not site_packages & set(binds.values())
