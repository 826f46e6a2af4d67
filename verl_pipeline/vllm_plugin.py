"""vLLM general plugin (entry point `vllm.general_plugins`): vLLM loads it in every one of its processes.

verl's vLLM server spawns its engine core and workers as fresh processes that never import verl, so our
`verl.plugins` entry point does not reach them; vLLM's own plugin group does. Two things live here: the
engine ledger (every platform: what a killed engine leaves in /dev/shm is removed by the driver,
`verl_pipeline.engine_ledger`) and the CPU patch.
"""

from __future__ import annotations


def register() -> None:
    from verl_pipeline import engine_ledger

    engine_ledger.install()

    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    from verl_pipeline.patches import skipped_patches
    from verl_pipeline.patches.import_hook import when_imported
    from verl_pipeline.patches.vllm_cpu_keep_weights import TARGET, patch_vllm_cpu_keep_linear_weights

    if patch_vllm_cpu_keep_linear_weights.__name__ not in skipped_patches():
        when_imported(TARGET, patch_vllm_cpu_keep_linear_weights)
