"""Tiny assets built in code: a random Qwen2 model, its tokenizer, and bundled coding problems.

There is no model or dataset hub on CPU CI machines, so everything a laptop run needs is created on
first use in a cache directory (``$VERL_PIPELINE_CACHE``, default ``~/.cache/verl_pipeline``).
"""


def resolve_asset(name: str) -> str:
    """Path of a named asset (the `${vp:NAME}` config resolver), building it on first use."""
    if name == "tiny_model":
        from verl_pipeline.assets.tiny import tiny_model_path

        return tiny_model_path()
    if name == "tiny_model_vllm":
        from verl_pipeline.assets.tiny import VLLM_CPU_SPEC, tiny_model_path

        return tiny_model_path(VLLM_CPU_SPEC)
    if name == "tiny_coder":
        from verl_pipeline.assets.warmup import tiny_coder_path

        return tiny_coder_path()
    if name in ("bundled_train", "bundled_val"):
        from verl_pipeline.assets.problems import bundled_parquet

        return bundled_parquet(name.split("_", 1)[1])
    if name in ("toy_train", "toy_val"):
        from verl_pipeline.assets.problems import write_rows
        from verl_pipeline.assets.toy_task import toy_rows

        return write_rows(name, toy_rows(512, seed=0) if name == "toy_train" else toy_rows(20, seed=1))
    if name == "toy_reward_file":
        from verl_pipeline.assets import toy_task

        return toy_task.__file__
    if name == "smollm2":
        from verl_pipeline.assets.smollm2 import smollm2_path

        return smollm2_path()
    if name in ("easy_code_train", "easy_code_val", "easy_code_val_small"):
        from verl_pipeline.assets.easy_code import easy_parquet

        return easy_parquet(name.removeprefix("easy_code_"))
    if name == "smoke_train":
        from verl_pipeline.assets.warmup import smoke_parquet

        return smoke_parquet()
    raise ValueError(f"unknown asset ${{vp:{name}}}; known: {', '.join(ASSETS)}")


ASSETS = ("tiny_model", "tiny_model_vllm", "tiny_coder", "bundled_train", "bundled_val", "smoke_train", "toy_train", "toy_val",
          "toy_reward_file", "smollm2", "easy_code_train", "easy_code_val", "easy_code_val_small")
