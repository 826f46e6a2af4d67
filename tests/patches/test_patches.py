"""Each patch in patches/ fixes a failure that happens without it (run in fresh interpreters, CPU platform)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap

import pytest

from verl_pipeline.patches import PATCHES


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run(code: str, skip: str = "") -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "VERL_PLATFORM": "cpu",
        "VERL_PIPELINE_SKIP_PATCHES": skip,
        "RANK": "0", "WORLD_SIZE": "1", "LOCAL_RANK": "0",
        "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": str(_free_port()),
    }
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True,
                          timeout=300)


PROCESS_GROUP = """
    import verl, torch
    from verl.utils.distributed import initialize_global_process_group_ray
    initialize_global_process_group_ray()
    print("backend", torch.distributed.get_backend())
"""

FSDP_ENGINE = """
    import verl
    from verl.workers.engine.base import EngineRegistry
    import verl.workers.engine.fsdp.transformer_impl
    print("engine", EngineRegistry.get_engine_cls("language_model", "fsdp2").__name__)
"""


def test_every_patch_is_listed_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "patches" / "README.md").read_text()
    for patch, target in PATCHES:
        assert patch.__name__ in readme and target in readme
        doc = patch.__doc__ or ""
        for section in ("Symptom:", "Cause:", "Upstream:", "Checked:", "Delete when:"):
            assert section in doc, f"{patch.__name__} docstring lacks {section}"


@pytest.mark.parametrize(
    "patch_name,code,ok,failure",
    [
        ("patch_cpu_process_group_backend", PROCESS_GROUP, "backend cpu:gloo", "Duplicate device type cpu"),
        ("patch_fsdp_engine_for_cpu", FSDP_ENGINE, "engine FSDPEngineWithLMHead", "No engine registered for device='cpu'"),
    ],
)
def test_patch_fixes_the_failure_it_names(patch_name, code, ok, failure):
    patched = _run(code)
    assert patched.returncode == 0 and ok in patched.stdout, patched.stderr[-3000:]
    unpatched = _run(code, skip=patch_name)
    assert unpatched.returncode != 0 and failure in unpatched.stderr, unpatched.stderr[-3000:]


def test_patches_are_idempotent():
    from verl_pipeline.patches import cpu_process_group

    import verl.utils.distributed as distributed

    cpu_process_group.patch_cpu_process_group_backend(distributed)
    once = distributed.initialize_global_process_group_ray
    cpu_process_group.patch_cpu_process_group_backend(distributed)
    assert distributed.initialize_global_process_group_ray is once


def test_post_import_hook_runs_before_importers_bind_names(tmp_path, monkeypatch):
    (tmp_path / "vp_hook_target.py").write_text("def f():\n    return 'original'\n")
    (tmp_path / "vp_hook_user.py").write_text("from vp_hook_target import f\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    from verl_pipeline.patches.import_hook import when_imported

    seen = []

    def patch(module):
        seen.append(module.__name__)
        module.f = lambda: "patched"

    when_imported("vp_hook_target", patch)
    import vp_hook_user

    assert seen == ["vp_hook_target"] and vp_hook_user.f() == "patched"
    # an already-imported module is patched at once
    when_imported("vp_hook_target", lambda m: seen.append("again"))
    assert seen[-1] == "again"
