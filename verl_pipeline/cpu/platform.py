"""A `cpu` platform for verl's `PlatformRegistry`.

verl 0.9.1 reaches the device through `get_platform()` everywhere (`get_torch_device().empty_cache()`,
`init_device_mesh(get_device_name())`, the process-group backend, Ray resource names). Without a registered
CPU platform it falls back to "nvidia" and calls `torch.cuda.*`, which fails on a machine with no GPU.

Design choices:
- `ray_resource_name()` is "GPU": verl's `ResourcePoolManager` counts only GPU/NPU resources and puts one
  "GPU" in every placement-group bundle, so a CPU run declares logical GPUs (`ray_init.num_gpus`) and each
  worker process takes one of them as its slot. Ray then sets CUDA_VISIBLE_DEVICES, which CPU torch ignores.
- The device module is `torch.cpu` plus no-op stand-ins for the CUDA memory/stream calls verl makes.
"""

from __future__ import annotations

import os
import types
from contextlib import contextmanager, nullcontext
from typing import Any, Optional

import torch
from verl.plugin.platform.platform_base import PlatformBase


def _cpu_device_module() -> types.ModuleType:
    """`torch.cpu` with the extra attributes verl calls on `get_torch_device()` (memory stats, RNG, IPC)."""
    mod = types.ModuleType("verl_pipeline_cpu_device")
    for name in dir(torch.cpu):
        if not name.startswith("_"):
            setattr(mod, name, getattr(torch.cpu, name))

    def _zero(*_args, **_kwargs) -> int:
        return 0

    def _none(*_args, **_kwargs) -> None:
        return None

    def mem_get_info(*_args, **_kwargs) -> tuple[int, int]:
        page = os.sysconf("SC_PAGE_SIZE")
        return os.sysconf("SC_AVPHYS_PAGES") * page, os.sysconf("SC_PHYS_PAGES") * page

    mod.empty_cache = _none
    mod.ipc_collect = _none
    mod.set_per_process_memory_fraction = _none
    mod.reset_peak_memory_stats = _none
    mod.memory_allocated = _zero
    mod.max_memory_allocated = _zero
    mod.memory_reserved = _zero
    mod.max_memory_reserved = _zero
    mod.mem_get_info = mem_get_info
    mod.get_rng_state = lambda *a, **k: torch.get_rng_state()
    mod.set_rng_state = lambda state, *a, **k: torch.set_rng_state(state)
    mod.manual_seed = lambda seed: torch.manual_seed(seed)
    mod.manual_seed_all = lambda seed: torch.manual_seed(seed)
    mod.get_device_name = lambda *a, **k: "cpu"
    mod.set_device = _none
    mod.device_count = lambda: 1
    mod.is_available = lambda: True
    return mod


class PlatformCPU(PlatformBase):
    """verl platform backend for CPU-only machines (gloo collectives, no device memory)."""

    _device_module: types.ModuleType | None = None

    @property
    def device_name(self) -> str:
        return "cpu"

    @property
    def vendor_name(self) -> str:
        return "cpu"

    @property
    def device_module(self) -> types.ModuleType:
        if PlatformCPU._device_module is None:
            PlatformCPU._device_module = _cpu_device_module()
        return PlatformCPU._device_module

    def is_available(self) -> bool:
        return True

    def is_platform_available(self, use_smi_check: bool = False) -> bool:
        # Registered after verl's accelerators, so auto-detection reaches it only when none of them is present.
        return True

    def current_device(self) -> str:
        # verl passes this straight to `.to(...)`; an int would mean "accelerator 0" to torch.
        return "cpu"

    def device_count(self) -> int:
        return 1

    def set_device(self, device_index: int) -> None:
        return None

    def synchronize(self, device_index: Optional[int] = None) -> None:
        return None

    def manual_seed(self, seed: int) -> None:
        torch.manual_seed(seed)

    def manual_seed_all(self, seed: int) -> None:
        torch.manual_seed(seed)

    def set_allocator_settings(self, settings: str) -> None:
        return None

    def empty_cache(self) -> None:
        return None

    def get_device_capability(self, device_index: int = 0) -> tuple[Optional[int], Optional[int]]:
        return None, None

    def communication_backend_name(self) -> str:
        return "gloo"

    def visible_devices_envvar(self) -> str:
        return "CUDA_VISIBLE_DEVICES"

    @contextmanager
    def nvtx_range(self, msg: str):
        with nullcontext():
            yield

    def profiler_start(self) -> None:
        return None

    def profiler_stop(self) -> None:
        return None

    def ray_resource_name(self) -> str:
        return "GPU"

    def ray_resource_options(self, num_gpus: float) -> dict[str, Any]:
        return {"num_gpus": num_gpus}

    def ray_noset_envvars(self) -> list[str]:
        return []

    def is_ipc_supported(self) -> bool:
        return False

    def cudart(self) -> Any:
        return None
