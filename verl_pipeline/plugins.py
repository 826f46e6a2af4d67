"""The one place verl_pipeline plugs into verl. Loaded by verl itself in every process that imports verl.

verl 0.9.1's `verl/__init__.py` loads every entry point of the `verl.plugins` group (ours is declared in
pyproject.toml), so this module runs in the driver, the TaskRunner, every trainer/rollout/reward worker and
every agent-loop worker. Registries are per process: a registration made only in the driver would be invisible
to the Ray workers that look names up.

It must stay import-light (it runs while `verl/__init__` is still executing, in every process): everything
heavy is registered through post-import hooks that fire when verl imports the registry's own module.
"""

from __future__ import annotations

import logging

from verl_pipeline.patches import apply_patches
from verl_pipeline.patches.import_hook import when_imported

logger = logging.getLogger(__name__)

LOADED = False


def _register_platform() -> None:
    from verl.plugin.platform.platform_manager import PlatformRegistry

    from verl_pipeline.cpu.platform import PlatformCPU

    if PlatformRegistry.get("cpu") is None:
        PlatformRegistry.register(platform="cpu")(PlatformCPU)


def _register_rollout_adapter(_rollout_base) -> None:
    from verl_pipeline.verl_compat import register_rollout_adapter

    register_rollout_adapter("hf", "async", "verl_pipeline.workers.hf_rollout.HFServerAdapter")


def _register_rollout_replica(replica_module) -> None:
    def load():
        from verl_pipeline.workers.hf_rollout import HFReplica

        return HFReplica

    replica_module.RolloutReplicaRegistry.register("hf", load)


def _register_checkpoint_engine(_checkpoint_engine_base) -> None:
    import verl_pipeline.workers.weight_sync  # noqa: F401  (registers "ray_store")


def _register_reward_manager(_registry) -> None:
    import sys

    if "verl_pipeline.reward.manager" in sys.modules:
        # The manager module is being imported right now (it imports this registry first): it registers
        # itself when it finishes, so importing it again here would only see it half-initialised.
        module = sys.modules["verl_pipeline.reward.manager"]
        if hasattr(module, "register_reward_manager"):
            module.register_reward_manager()
        return
    try:
        from verl_pipeline.reward.manager import register_reward_manager
    except ImportError:  # the reward package is optional at this layer; say so instead of failing silently
        logger.warning("verl_pipeline: reward manager 'deepcoder_code' not available", exc_info=True)
        return
    register_reward_manager()


def register() -> None:
    """Apply patches and register our platform, rollout, checkpoint engine and reward manager."""
    global LOADED
    if LOADED:
        return
    apply_patches()
    _register_platform()
    when_imported("verl.workers.rollout.base", _register_rollout_adapter)
    when_imported("verl.workers.rollout.replica", _register_rollout_replica)
    when_imported("verl.checkpoint_engine.base", _register_checkpoint_engine)
    when_imported("verl.experimental.reward_loop.reward_manager.registry", _register_reward_manager)
    LOADED = True


register()
