"""`python -m verl_pipeline.eval plot`: a metric (default pass@1) over training checkpoints.

Each results file (from `eval score` / `eval generate`) is one point. Its x value is the `step` field the
file carries (`eval generate` records `global_step_N` from the model path), else the first `global_step_N`
/ `step_N` / `checkpoint-N` in the file's path, else its position among the files given. Uses the Agg
backend: no display needed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

_STEP = re.compile(r"(?:global_step|step|checkpoint)[_-]?(\d+)", re.I)


def checkpoint_step(path: Path, results: dict[str, Any]) -> int | None:
    """The training step a results file belongs to, when it can be told."""
    if isinstance(results.get("step"), int):
        return results["step"]
    match = _STEP.search(str(path))
    return int(match.group(1)) if match else None


def collect(paths: list[Path], metric: str) -> list[tuple[float, float | None, str]]:
    """(x, metric value, label) per file, sorted by x."""
    points = []
    for position, path in enumerate(paths):
        try:
            results = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            raise ValueError(f"{path}: not a results JSON file ({e})") from e
        if metric not in results:
            have = sorted(k for k in results if k.startswith("pass@"))
            raise ValueError(f"{path}: no {metric!r}; --metric can be one of {have}")
        step = checkpoint_step(Path(path), results)
        points.append((float(step if step is not None else position), results[metric], str(path)))
    return sorted(points, key=lambda p: (p[0], p[2]))


def plot(paths: list[Path], output: Path, metric: str = "pass@1", title: str | None = None) -> list[tuple]:
    """Write a line plot of `metric` (in percent) against checkpoint step to `output`; returns the points."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = collect(paths, metric)
    xs = [x for x, y, _ in points if y is not None]
    ys = [100 * y for _, y, _ in points if y is not None]
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.plot(xs, ys, marker="o")
    ax.set_xlabel("training step")
    ax.set_ylabel(f"{metric} (%)")
    ax.set_title(title or f"{metric} over checkpoints")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(output, dpi=120)
    plt.close(fig)
    return points
