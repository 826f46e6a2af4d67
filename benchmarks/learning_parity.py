"""Does pipelining cost learning? Reward per step of the toy task under different staleness settings.

Runs the `toy_learning` recipe (tiny random Qwen2, "repeat the digit D", dense exact reward; full pipeline:
rollout pool, streaming reward, trainer pool, weight sync) for each configuration and seed, with the same data
order everywhere, and compares reward *per training step*:

- `k0`            max_staleness=0 (synchronous, on-policy: the reference)
- `k1-tis`/`k1-none`  one-step-off pipelining with / without the off-policy correction (truncated IS)
- `k2-tis`/`k2-none`  two steps stale

Writes every run's per-step mean reward as JSON lines, draws one PNG (mean and spread over seeds per
configuration) and prints, per configuration, the steps needed to reach 90% of the synchronous run's final
reward, and the ratio to the synchronous run's steps.

    python benchmarks/learning_parity.py                       # all five configurations, 3 seeds: ~25 min on 2 cores
    python benchmarks/learning_parity.py --configs k0 k1-tis --seeds 0 1 --steps 30
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
CONFIGS = {
    "k0": ["pipeline.max_staleness=0", "pipeline.off_policy_correction=tis"],
    "k1-tis": ["pipeline.max_staleness=1", "pipeline.off_policy_correction=tis"],
    "k1-none": ["pipeline.max_staleness=1", "pipeline.off_policy_correction=none"],
    "k2-tis": ["pipeline.max_staleness=2", "pipeline.off_policy_correction=tis"],
    "k2-none": ["pipeline.max_staleness=2", "pipeline.off_policy_correction=none"],
}


def run(config: str, seed: int, steps: int) -> list[float]:
    with tempfile.TemporaryDirectory(prefix=f"parity-{config}-{seed}-") as tmp:
        workdir = Path(tmp)
        overrides = [
            "+recipe=toy_learning",
            *CONFIGS[config],
            f"trainer.total_training_steps={steps}",
            f"trainer.default_local_dir={workdir / 'ckpt'}",
            "trainer.logger=[console,file]",
            # a distinct sampling stream per seed (request-seeded); the data order is the same for every run
            "actor_rollout_ref.rollout.full_determinism=True",
            f"actor_rollout_ref.rollout.seed={seed}",
            "+actor_rollout_ref.rollout.engine_kwargs.hf.max_batch=64",
            # two PPO epochs make training slower than sampling, so the rollout really runs ahead to the bound
            # (with sampling the bottleneck, every bound >= 1 behaves like 1)
            "actor_rollout_ref.actor.ppo_epochs=2",
        ]
        env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(workdir / "metrics.jsonl")}
        proc = subprocess.run([sys.executable, "-m", "verl_pipeline.main", *overrides], cwd=workdir, env=env,
                              capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{config} seed {seed} failed:\n{(proc.stdout + proc.stderr)[-4000:]}")
        rows = [json.loads(line) for line in (workdir / "metrics.jsonl").read_text().splitlines()]
        by_step = {r["step"]: r["data"] for r in rows if "critic/score/mean" in r["data"]}
        steps = sorted(by_step)
        return [by_step[s]["critic/score/mean"] for s in steps], [by_step[s]["pipeline/staleness"] for s in steps]


def smooth(curve: np.ndarray, window: int) -> np.ndarray:
    """Trailing moving average (the first points average what exists so far)."""
    out = np.empty_like(curve)
    for i in range(len(curve)):
        out[i] = curve[max(0, i - window + 1) : i + 1].mean()
    return out


def steps_to(curve: np.ndarray, threshold: float) -> int | None:
    hits = np.nonzero(curve >= threshold)[0]
    return int(hits[0]) + 1 if len(hits) else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--steps", type=int, default=40)
    parser.add_argument("--window", type=int, default=5, help="moving-average window for steps-to-threshold")
    parser.add_argument("--fraction", type=float, default=0.9, help="threshold = fraction x sync's final reward")
    parser.add_argument("--out", type=Path, default=HERE / "results" / "learning_parity")
    parser.add_argument("--resume", action="store_true", help="keep the runs already in <out>.jsonl, run the rest")
    args = parser.parse_args()
    if "k0" not in args.configs:
        args.configs = ["k0", *args.configs]
    args.out.parent.mkdir(parents=True, exist_ok=True)

    done: dict[tuple[str, int], tuple[list[float], list[float]]] = {}
    if args.resume and Path(f"{args.out}.jsonl").exists():
        for line in Path(f"{args.out}.jsonl").read_text().splitlines():
            record = json.loads(line)
            if len(record["reward_per_step"]) == args.steps and "staleness_per_step" in record:
                done[(record["config"], record["seed"])] = (record["reward_per_step"], record["staleness_per_step"])
    curves: dict[str, np.ndarray] = {}
    lags: dict[str, float] = {}
    with open(f"{args.out}.jsonl", "w") as f:
        for config in args.configs:
            runs, staleness = [], []
            for seed in args.seeds:
                if (config, seed) in done:
                    rewards, lag = done[(config, seed)]
                else:
                    print(f"running {config} seed {seed} ...", flush=True)
                    rewards, lag = run(config, seed, args.steps)
                runs.append(rewards)
                staleness += lag
                f.write(json.dumps({"config": config, "seed": seed, "overrides": CONFIGS[config],
                                    "reward_per_step": rewards, "staleness_per_step": lag}) + "\n")
                f.flush()
            curves[config] = np.array(runs)  # [seeds, steps]
            lags[config] = float(np.mean(staleness))

    sync_mean = smooth(curves["k0"].mean(0), args.window)
    threshold = args.fraction * sync_mean[-1]
    sync_steps = steps_to(sync_mean, threshold)
    print(f"\nthreshold: {args.fraction:.0%} of the synchronous run's final reward "
          f"({sync_mean[-1]:.3f}, {args.window}-step average over {len(args.seeds)} seeds) = {threshold:.3f}")
    print(f"{'config':>9} {'mean staleness':>15} {'final reward':>13} {'steps to threshold':>19} {'vs sync':>8}")
    summary = {}
    for config, runs in curves.items():
        mean = smooth(runs.mean(0), args.window)
        n = steps_to(mean, threshold)
        ratio = (n / sync_steps) if (n and sync_steps) else None
        summary[config] = {"mean_staleness": lags[config], "final_reward": float(mean[-1]),
                           "steps_to_threshold": n, "vs_sync": ratio}
        print(f"{config:>9} {lags[config]:>15.2f} {mean[-1]:>13.3f} {str(n) if n else 'not reached':>19} "
              f"{f'{ratio:.2f}x' if ratio else '-':>8}")
    Path(f"{args.out}-summary.json").write_text(json.dumps(
        {"threshold": threshold, "fraction": args.fraction, "window": args.window, "seeds": args.seeds,
         "steps": args.steps, "configs": summary}, indent=2))

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    steps = np.arange(1, args.steps + 1)
    for config, runs in curves.items():
        mean, std = runs.mean(0), runs.std(0)
        (line,) = ax.plot(steps[: len(mean)], mean, label=config, linestyle="-" if "none" not in config else "--")
        ax.fill_between(steps[: len(mean)], mean - std, mean + std, alpha=0.15, color=line.get_color())
    ax.axhline(threshold, color="grey", linewidth=0.8, linestyle=":", label=f"{args.fraction:.0%} of sync final")
    ax.set_xlabel("training step")
    ax.set_ylabel("mean reward (toy task)")
    ax.set_title(f"Reward per step by staleness, mean +- std over {len(args.seeds)} seeds")
    ax.legend()
    fig.tight_layout()
    fig.savefig(f"{args.out}.png", dpi=120)
    print(f"\nwrote {args.out}.jsonl, {args.out}-summary.json and {args.out}.png")


if __name__ == "__main__":
    main()
