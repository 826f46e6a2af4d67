"""Tiny assets built in code: a random Qwen2 model, its tokenizer, and bundled coding problems.

There is no model or dataset hub on CPU CI machines, so everything a laptop run needs is created on
first use in a cache directory (``$VERL_PIPELINE_CACHE``, default ``~/.cache/verl_pipeline``).
"""
