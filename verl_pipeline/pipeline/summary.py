"""One readable line per training step (the full metrics go to verl's tracking backends)."""

from __future__ import annotations

from typing import Any


def _fmt(value: Any, spec: str) -> str:
    try:
        return format(float(value), spec)
    except (TypeError, ValueError):
        return "-"


def format_step_summary(step: int, total: int, m: dict[str, Any]) -> str:
    """e.g. `step 3/8 | 4.1s (gen 2.0 train 1.2 sync 0.1 tail 0.0) | reward 0.125 | loss -0.0031 gnorm 0.52 | ...`."""
    return (
        f"[verl_pipeline] step {step}/{total}"
        f" | {_fmt(m.get('timing_s/step'), '.2f')}s"
        f" (gen {_fmt(m.get('timing_s/gen'), '.2f')}"
        f" train {_fmt(m.get('timing_s/update_actor'), '.2f')}"
        f" sync {_fmt(m.get('timing_s/update_weights'), '.2f')}"
        f" reward-tail {_fmt(m.get('timing_s/reward_tail'), '.2f')})"
        f" | reward {_fmt(m.get('critic/score/mean'), '.3f')}"
        f" | pg_loss {_fmt(m.get('actor/pg_loss'), '.4g')} grad_norm {_fmt(m.get('actor/grad_norm'), '.3g')}"
        f" | staleness {_fmt(m.get('pipeline/staleness'), '.2f')}"
        f" rollout v{_fmt(m.get('pipeline/rollout_version'), '.0f')}"
        f" | idle trainer {_fmt(m.get('pipeline/trainer_idle_s'), '.2f')}s"
        f" rollout {_fmt(m.get('pipeline/rollout_idle_s'), '.2f')}s"
        f" | resp len {_fmt(m.get('response_length/mean'), '.0f')} clipped {_fmt(m.get('response_length/clip_ratio'), '.2f')}"
    )
