"""`verl_pipeline.workers` exports workers only: each name comes from a module of that package."""

import verl_pipeline.workers as workers


def test_every_export_lives_in_the_workers_package():
    assert {"HFReplica", "HFRolloutServer", "HFServerAdapter", "RayStoreCheckpointEngine"} <= set(workers.__all__)
    for name in workers.__all__:
        assert getattr(workers, name).__module__.startswith("verl_pipeline.workers."), name
    assert "PipelinedPPOTrainer" not in workers.__all__ and "TimestampedAgentLoopManager" not in workers.__all__
