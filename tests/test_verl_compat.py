"""Every private verl symbol we rely on exists with the parameters we pass (fails here on a verl upgrade)."""

from verl_pipeline.verl_compat import PRIVATE_SEAMS, missing


def test_every_private_verl_seam_exists_with_our_signature():
    assert missing() == []


def test_the_check_notices_a_renamed_seam(monkeypatch):
    import verl_pipeline.verl_compat as compat

    monkeypatch.setattr(compat, "PRIVATE_SEAMS", [*PRIVATE_SEAMS, ("verl.workers.rollout.base", "_NO_SUCH_THING", None),
                                                  ("verl.experimental.agent_loop.agent_loop",
                                                   "AgentLoopWorker._compute_score", ("renamed",))])
    problems = compat.missing()
    assert len(problems) == 2 and "_NO_SUCH_THING: not found" in problems[0] and "renamed" in problems[1]
