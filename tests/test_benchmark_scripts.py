"""The reward benchmarks still run end to end (they import verl's prime_code, whose API can move)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "benchmarks"


def run(script: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(BENCHMARKS / script), *args], check=False, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_reward_throughput_judges_the_rl_workload_and_prints_the_ratio():
    out = run("reward_throughput.py", "--problems", "4", "--rounds", "1", "--workloads", "rl-15",
              "--accepted-fraction", "0.5")
    ours = re.search(r"^rl-15\s+ours\s.*\s(\d+)/4\s*$", out, re.MULTILINE)
    assert ours and ours.group(1) == "2", out  # exactly the correct half is accepted
    assert re.search(r"^rl-15\s+prime_code\s", out, re.MULTILINE), out
    assert re.search(r"^rl-15\s+ratio\s+ours / prime_code: \d+\.\dx problems judged per second", out, re.MULTILINE), out


def test_reward_throughput_refuses_an_unknown_workload():
    done = subprocess.run([sys.executable, str(BENCHMARKS / "reward_throughput.py"), "--workloads", "trivial-99"],
                          check=False, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "unknown workload 'trivial-99'" in done.stderr and "trivial-15" in done.stderr


def test_fork_floor_prints_the_bare_loops_and_the_sandbox():
    out = run("fork_floor.py", "--tests", "40")
    rows = {name: float(total) for name, total in re.findall(r"^(bare fork\+exit|bare fork\+run|sandbox) .*\s([\d.]+)$",
                                                             out, re.MULTILINE)}
    assert set(rows) == {"bare fork+exit", "bare fork+run", "sandbox"}, out
    assert all(total > 0 for total in rows.values()), out
    assert "what isolation and the protocol add per test" in out
