"""Evaluation: pass@k on verl RL parquets (LiveCodeBench protocol), generation, Codeforces (CodeElo) rating.

Run as `python -m verl_pipeline.eval score|generate|codeforces|plot`. Imports neither verl nor Ray; vLLM
only when `generate --backend vllm` asks for it.
"""
