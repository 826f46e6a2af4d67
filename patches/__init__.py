"""Small, named patches to verl 0.9.1, applied from one place (`apply_patches`) in every process.

A patch is the last resort (see README.md in this folder for the list and why each exists). Each one:
- is a single idempotent function whose docstring gives the symptom, the cause, the upstream reference,
  the verl versions checked and when to delete it;
- targets one verl module and runs when that module is first imported (`import_hook.when_imported`), so the
  plugin that applies them stays import-light;
- has a test that fails without it (tests/patches/).

`VERL_PIPELINE_SKIP_PATCHES=name1,name2` leaves named patches out (the tests use it to show the failure).
"""

from __future__ import annotations

import os
from typing import Callable

from verl_pipeline.patches import cpu_process_group, fsdp_engine_cpu, vllm_cpu_version
from verl_pipeline.patches.import_hook import when_imported

# (patch function, the verl module it patches)
PATCHES: list[tuple[Callable, str]] = [
    (cpu_process_group.patch_cpu_process_group_backend, cpu_process_group.TARGET),
    (fsdp_engine_cpu.patch_fsdp_engine_for_cpu, fsdp_engine_cpu.TARGET),
]

_applied = False


def skipped_patches() -> set[str]:
    return {n.strip() for n in os.environ.get("VERL_PIPELINE_SKIP_PATCHES", "").split(",") if n.strip()}


def apply_patches() -> None:
    """Arrange for every patch to run when its target module is imported. Safe to call many times."""
    global _applied
    if _applied:
        return
    _applied = True
    skip = skipped_patches()
    for patch, target in PATCHES:
        if patch.__name__ not in skip:
            when_imported(target, patch)
    # runs before its targets execute, not after (they read the version at import time)
    if vllm_cpu_version.patch_vllm_cpu_version_lookup.__name__ not in skip:
        vllm_cpu_version.patch_vllm_cpu_version_lookup()
    # patch_vllm_cpu_keep_linear_weights (vllm_cpu_keep_weights.py) runs inside vLLM's processes: verl_pipeline/vllm_plugin.py
