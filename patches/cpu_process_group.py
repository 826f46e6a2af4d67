"""Patch: verl's default process-group backend string is invalid on the CPU platform."""

from __future__ import annotations

import functools
from types import ModuleType

TARGET = "verl.utils.distributed"
_MARK = "_verl_pipeline_cpu_backend"


def patch_cpu_process_group_backend(distributed: ModuleType) -> None:
    """Use a plain `cpu:gloo` backend for verl's global process group on the CPU platform.

    Symptom: every trainer worker dies at start-up with
        ValueError: Duplicate device type cpu in backend string: cpu:gloo,cpu:gloo
    Cause: `verl.utils.distributed.initialize_global_process_group_ray` (and `initialize_global_process_group`)
        build `f"cpu:gloo,{get_device_name()}:{get_nccl_backend()}"`, which names `cpu` twice when the device
        itself is the CPU.
    Upstream: verl 0.9.1 `verl/utils/distributed.py:89`; no upstream issue filed yet (CPU is not a verl target).
    Checked: verl 0.9.1.
    Delete when: verl builds the backend string without duplicating the device (e.g. `cpu:gloo` when the device
        is cpu), or ships a CPU platform of its own.
    """
    from verl.utils.device import get_device_name

    for name in ("initialize_global_process_group_ray", "initialize_global_process_group"):
        original = getattr(distributed, name)
        if getattr(original, _MARK, False):
            continue

        if name == "initialize_global_process_group_ray":

            @functools.wraps(original)
            def patched(timeout_second=None, backend=None, _original=original):
                if backend is None and get_device_name() == "cpu":
                    backend = "cpu:gloo"
                return _original(timeout_second=timeout_second, backend=backend)

        else:

            @functools.wraps(original)
            def patched(timeout_second=36000, _original=original):
                if get_device_name() != "cpu":
                    return _original(timeout_second=timeout_second)
                import os
                from datetime import timedelta

                import torch.distributed

                torch.distributed.init_process_group(
                    backend="cpu:gloo",
                    timeout=timedelta(seconds=timeout_second),
                    init_method=os.environ.get("DIST_INIT_METHOD", None),
                )
                return int(os.environ["LOCAL_RANK"]), int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])

        setattr(patched, _MARK, True)
        setattr(distributed, name, patched)
