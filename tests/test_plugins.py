"""verl_pipeline registers itself in every process that imports verl (the `verl.plugins` entry point), not only
in the driver, and doing so stays cheap."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import ray

CHECK = """
import os, verl
from verl.plugin.platform.platform_manager import PlatformRegistry
from verl.workers.rollout.base import _ROLLOUT_REGISTRY
from verl.workers.rollout.replica import RolloutReplicaRegistry
from verl.checkpoint_engine import CheckpointEngineRegistry
from verl.experimental.reward_loop.reward_manager.registry import REWARD_MANAGER
import verl.utils.distributed as distributed

report = {
    "pid": os.getpid(),
    "platform_cpu": PlatformRegistry.get("cpu") is not None,
    "rollout_hf": ("hf", "async") in _ROLLOUT_REGISTRY,
    "replica_hf": "hf" in RolloutReplicaRegistry._registry,
    "checkpoint_engine_ray_store": "ray_store" in CheckpointEngineRegistry._registry,
    "reward_manager_deepcoder_code": "deepcoder_code" in REWARD_MANAGER,
    "process_group_patched": getattr(distributed.initialize_global_process_group_ray,
                                     "_verl_pipeline_cpu_backend", False),
}
"""


@pytest.mark.ray
def test_plugin_is_active_in_ray_task_and_actor_processes(monkeypatch):
    # No VERL_USE_EXTERNAL_MODULES: only the installed entry point can have loaded us in the workers.
    monkeypatch.delenv("VERL_USE_EXTERNAL_MODULES", raising=False)
    check = CHECK

    def _inspect_process() -> dict:  # defined here so Ray ships it by value, not by this test module's name
        scope: dict = {}
        exec(check, scope)
        return scope["report"]

    ray.init(num_cpus=2, include_dashboard=False, runtime_env={"env_vars": {"VERL_PLATFORM": "cpu"}})
    try:
        task_report = ray.get(ray.remote(_inspect_process).remote())

        @ray.remote
        class Probe:
            def report(self):
                return _inspect_process()

        actor_report = ray.get(Probe.remote().report.remote())
    finally:
        ray.shutdown()
    for report in (task_report, actor_report):
        assert report.pop("pid") != os.getpid()
        assert all(report.values()), report


def test_the_plugin_module_stays_import_light():
    """Loading the plugin (on `import verl`, in every process) must not drag in verl's trainer or engines."""
    code = (
        "import sys, verl, verl_pipeline.plugins as p; assert p.LOADED; "
        "heavy = [m for m in ('verl.trainer.ppo.ray_trainer', 'verl.workers.engine', 'verl.workers.engine_workers', "
        "'verl_pipeline.pipeline.trainer', 'verl_pipeline.reward.manager', 'transformers.models.qwen2') "
        "if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "[]"
