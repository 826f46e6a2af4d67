"""Helpers shared by tests (importable because pyproject sets pytest's pythonpath to tests/)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def compose(overrides: list[str]):
    """The merged config `python -m verl_pipeline.main <overrides>` would run, before validation."""
    from verl_pipeline.main import compose_config

    return compose_config(overrides, validate=False)


def run_main(overrides: list[str], workdir: Path, timeout: int = 600, env: dict | None = None,
             check: bool = True) -> subprocess.CompletedProcess:
    """Run `python -m verl_pipeline.main` in a subprocess (its own Ray cluster), logging metrics to a file."""
    full_env = {**os.environ, "VERL_FILE_LOGGER_PATH": str(workdir / "metrics.jsonl"), "PYTHONUNBUFFERED": "1"}
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "verl_pipeline.main", *overrides],
        cwd=workdir, env=full_env, capture_output=True, text=True, timeout=timeout,
    )
    (workdir / "run.log").write_text(proc.stdout + "\n--- stderr ---\n" + proc.stderr)
    if check and proc.returncode != 0:
        raise AssertionError(f"run failed (rc={proc.returncode}); tail of log:\n{(proc.stdout + proc.stderr)[-6000:]}")
    return proc


def uninterrupted_prompt_order(overrides: list[str], steps: int) -> list[list[int]]:
    """The prompt indices (``extra_info.index``) of each of the first ``steps`` batches an uninterrupted run of
    ``overrides`` trains on: verl's sampler and data loader as ``RayPPOTrainer._create_dataloader`` builds them,
    epoch after epoch, without training anything."""
    from torchdata.stateful_dataloader import StatefulDataLoader
    from transformers import AutoTokenizer
    from verl.trainer.ppo.utils import create_rl_dataset, create_rl_sampler
    from verl.utils.dataset.rl_dataset import collate_fn

    from verl_pipeline.main import compose_config

    cfg = compose_config(overrides)
    data = cfg.data
    tokenizer = AutoTokenizer.from_pretrained(cfg.actor_rollout_ref.model.path)
    dataset = create_rl_dataset(data.train_files, data, tokenizer, None, is_train=True,
                                max_samples=data.get("train_max_samples", -1))
    loader = StatefulDataLoader(dataset=dataset, batch_size=data.get("gen_batch_size") or data.train_batch_size,
                                num_workers=data.dataloader_num_workers, drop_last=True, collate_fn=collate_fn,
                                sampler=create_rl_sampler(data, dataset))
    order: list[list[int]] = []
    while len(order) < steps:
        for batch in loader:
            order.append(sorted(int(e["index"]) for e in batch["extra_info"]))
            if len(order) == steps:
                break
    return order


def read_metrics(workdir: Path) -> list[dict]:
    path = workdir / "metrics.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []


def read_trace(path: Path, event: str | None = None) -> list[dict]:
    """Per-step records of `pipeline.trace_file` (or the records of one `event`, e.g. "placement")."""
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    if event is None:
        return [r for r in records if "step" in r]
    return [r for r in records if r.get("event") == event]


def shared_files() -> set[str]:
    """POSIX shared memory and semaphores of this machine (vLLM's engines keep their queues there), and the
    socket files in the temp dir (vLLM binds its ZeroMQ sockets there unless told otherwise)."""
    import stat
    import tempfile

    tmp = tempfile.gettempdir()
    sockets = set()
    for name in os.listdir(tmp):
        try:
            if stat.S_ISSOCK(os.lstat(os.path.join(tmp, name)).st_mode):
                sockets.add(os.path.join(tmp, name))
        except OSError:
            continue
    return sockets | {name for name in os.listdir("/dev/shm") if name.startswith(("psm_", "sem.mp-"))}


def processes_with_env(marker: str) -> list[str]:
    """Live processes whose environment holds `marker` (a token only one run's processes inherit)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                if marker.encode() not in f.read():
                    continue
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
            found.append(f"{pid}: {cmdline[:120]}")
        except OSError:
            continue
    return found
