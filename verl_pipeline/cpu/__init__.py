"""The CPU backend: a `cpu` platform for verl's platform registry (see `platform.py`).

Together with the `hf` rollout (`verl_pipeline.workers.hf_rollout`), the `ray_store` weight-sync engine
(`verl_pipeline.workers.weight_sync`) and the patches in `verl_pipeline.patches`, it lets verl's real worker
groups, dispatch and FSDP2 training run with no GPU.
"""
