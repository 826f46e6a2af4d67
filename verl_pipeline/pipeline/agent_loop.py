"""verl's agent loop, stamping when each sample finished and when its reward was known.

Rewards are computed per sample inside verl's agent loop, in reward-loop worker processes, as soon as the
sample's generation ends (verl's "streaming reward"). The two timestamps let the trainer report
`timing_s/reward_tail`: the time from the last sample finishing to the last reward being known.
"""

from __future__ import annotations

import time

import ray
from verl.experimental.agent_loop.agent_loop import AgentLoopManager, AgentLoopWorker


class TimestampedAgentLoopWorker(AgentLoopWorker):
    # verl's private per-sample reward hook (listed in verl_compat.PRIVATE_SEAMS)
    async def _compute_score(self, outputs, kwargs) -> None:
        final = outputs[-1]
        # a rollout server may stamp the exact end of its batch; otherwise generation ended just now
        final.extra_fields.setdefault("gen_done_ts", time.time())
        await super()._compute_score(outputs, kwargs)
        final.extra_fields["reward_done_ts"] = time.time()


class TimestampedAgentLoopManager(AgentLoopManager):
    agent_loop_workers_class = ray.remote(TimestampedAgentLoopWorker)
