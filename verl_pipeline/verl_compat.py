"""The private verl symbols verl_pipeline overrides, calls or reads, with the parameters it relies on.

verl 0.9.1 has no public API for these; a verl upgrade that renames or reshapes one should fail in
`tests/test_verl_compat.py` (which calls `missing()`), not mid-run. This module is the list, not yet the only
path: the call sites (pipeline/trainer.py, pipeline/agent_loop.py, plugins.py, patches/fsdp_engine_cpu.py) still
reach verl directly, each naming its symbol here.
"""

from __future__ import annotations

import importlib
import inspect

# (module, attribute path, parameters after self in order, or None for a non-callable / any signature)
PRIVATE_SEAMS: list[tuple[str, str, tuple[str, ...] | None]] = [
    # PipelinedPPOTrainer.train_step runs verl's fit stages one by one (pipeline/trainer.py)
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._fit_compute_reward", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._fit_compute_log_prob", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._fit_compute_ref_log_prob", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._fit_compute_advantage", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._fit_update_actor", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._fit_collect_metrics", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._validate", ("merged",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._get_gen_batch", ("batch",)),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._balance_batch",
     ("batch", "metrics", "logging_prefix", "keep_minibatch")),
    ("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._create_dataloader",
     ("train_dataset", "val_dataset", "collate_fn", "train_sampler")),
    # TimestampedAgentLoopWorker wraps the per-sample reward call (pipeline/agent_loop.py)
    ("verl.experimental.agent_loop.agent_loop", "AgentLoopWorker._compute_score", ("outputs", "kwargs")),
    # plugins.py registers the hf rollout adapter; there is no public registration function for it
    ("verl.workers.rollout.base", "_ROLLOUT_REGISTRY", None),
    # patches/fsdp_engine_cpu.py adds the FSDP engines for device cpu
    ("verl.workers.engine.base", "EngineRegistry._engines", None),
]


def _resolve(module: str, path: str):
    obj = importlib.import_module(module)
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def missing() -> list[str]:
    """Each seam that does not exist or no longer takes the parameters we pass, as a readable line."""
    problems = []
    for module, path, params in PRIVATE_SEAMS:
        try:
            obj = _resolve(module, path)
        except (ImportError, AttributeError) as exc:
            problems.append(f"{module}.{path}: not found ({exc})")
            continue
        if params is None:
            continue
        names = tuple(p for p in inspect.signature(obj).parameters if p != "self")
        if names[: len(params)] != params:
            problems.append(f"{module}.{path}: parameters {names}, expected {params} first")
    return problems


def rollout_servers(llm_server_manager) -> list:
    """The server actors of every rollout replica (`RolloutReplica.servers`)."""
    return [server for replica in llm_server_manager.get_replicas() for server in replica.servers]


def shutdown_rollout_engines(llm_server_manager, timeout_s: float = 60.0) -> None:
    """Shut each vLLM server's engine down cleanly (verl has no call for it: `vLLMHttpServer.engine` is its
    `AsyncLLM`). Without it the engines die by Ray's SIGKILL and their /dev/shm segments stay; a server that is
    already dead or has no engine (our `hf` replica) is skipped."""
    import ray

    def shutdown(server):
        engine = getattr(server, "engine", None)
        if engine is not None and hasattr(engine, "shutdown"):
            engine.shutdown()

    calls = [s.__ray_call__.remote(shutdown) for s in rollout_servers(llm_server_manager)]
    ready, _ = ray.wait(calls, num_returns=len(calls), timeout=timeout_s)
    for ref in ready:
        try:
            ray.get(ref)
        except ray.exceptions.RayError:
            pass  # a dead server: the driver's engine ledger removes what it left
