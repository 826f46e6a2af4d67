"""Pipelined PPO/GRPO+: the rollout samples batch k+1 while the trainer updates on batch k.

- `gate.py`: the staleness bound and when weights may move (pure threading; no verl, no Ray).
- `grpo_plus.py`: overlong filtering and the per-step pipeline metrics (pure torch).
- `agent_loop.py`: verl's agent loop with per-sample timestamps (sample finished, reward known).
- `rollouter.py`: the producer thread that samples batches under the gate.
- `trainer.py`: `PipelinedPPOTrainer`, the consumer loop on verl's worker groups.
"""
