"""The reward benchmarks still run end to end (they import verl's prime_code, whose API can move)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    assert out.startswith("40 tests of A+B each"), out
    rows = {name: [float(x) for x in cols.split()] for name, cols in re.findall(
        r"^(bare fork\+exit|bare fork\+run|sandbox)(?: \(\w+\))?((?:\s+-?[\d.]+){4})\s*$", out, re.MULTILINE)}
    assert set(rows) == {"bare fork+exit", "bare fork+run", "sandbox"}, out
    # columns grader, parent, child, total (ms per test, 3 decimals): the total is their sum, and only the
    # sandbox has a grader thread
    for name, (grader, parent, child, total) in rows.items():
        assert total == pytest.approx(grader + parent + child, abs=0.0025), (name, out)
    assert rows["bare fork+exit"][0] == rows["bare fork+run"][0] == 0.0, out
    # the summary line compares the sandbox with the bare fork+run floor from the same rows
    ratio, added = map(float, re.search(r"sandbox / bare fork\+run: ([\d.]+)x; .* add per test: (-?[\d.]+) ms",
                                        out).groups())
    sandbox, floor = rows["sandbox"][3], rows["bare fork+run"][3]
    assert added == pytest.approx(sandbox - floor, abs=0.003), out
    assert ratio == pytest.approx(sandbox / floor, rel=0.02, abs=0.01), out
    assert "what isolation and the protocol add per test" in out


def test_reward_ab_prints_both_checkouts_and_their_ratio_per_workload():
    repo = str(BENCHMARKS.parent)
    out = run("reward_ab.py", "--rounds", "1", f"a={repo}", f"b={repo}")
    rows = {name: [float(x) for x in cols.split()] for name, cols in re.findall(
        r"^((?:trivial-5|rl-15|real)(?::parent)?)((?:\s+[\d.]+){4})\s*$", out, re.MULTILINE)}
    assert set(rows) == {f"{w}{part}" for w in ("trivial-5", "rl-15", "real") for part in ("", ":parent")}, out
    for name, (a, b, ratio, per_round) in rows.items():
        assert a > 0 and b > 0 and ratio == pytest.approx(a / b, rel=0.01), (name, out)
        assert per_round == ratio, (name, out)  # one round: its ratio is the ratio of the medians


@pytest.mark.skipif(len(__import__("os").sched_getaffinity(0)) < 2, reason="needs two cores")
def test_core_interference_prints_each_kernel_alone_and_loaded_with_their_ratio():
    out = run("core_interference.py")
    rows = dict((name, (float(alone), float(loaded), float(ratio))) for name, alone, loaded, ratio in re.findall(
        r"^\s*(matmul|stream)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)x\s*$", out, re.MULTILINE))
    assert set(rows) == {"matmul", "stream"}, out
    for name, (alone, loaded, ratio) in rows.items():
        # the times print to 3 decimals, the ratio (of the unrounded times) to 2: the most that rounding can move
        # loaded / alone, plus the ratio's own rounding
        slack = 0.0005 * (1 / alone + loaded / alone ** 2) + 0.005
        assert alone > 0 and ratio == pytest.approx(loaded / alone, abs=slack), (name, out)


@pytest.mark.skipif(len(__import__("os").sched_getaffinity(0)) < 2, reason="needs two cores")
def test_core_interference_json_gives_each_kernel_alone_loaded_and_ratio():
    # benchmarks/long_tail.py --rounds reads this before every round
    import json

    probe = json.loads(run("core_interference.py", "--json"))
    assert set(probe) == {"matmul", "stream"}, probe
    for name, kernel in probe.items():
        assert kernel["alone_s"] > 0 and kernel["ratio"] == pytest.approx(kernel["loaded_s"] / kernel["alone_s"]), probe


def long_tail():
    """benchmarks/long_tail.py as a module (it imports its sibling cpu_vllm, so benchmarks/ goes on the path)."""
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import long_tail
    finally:
        sys.path.remove(str(BENCHMARKS))
    return long_tail


def test_long_tail_spread_says_when_no_scheduler_could_clear_the_batch_level_bar(capsys):
    # round 1: batch-level 1.6x the ideal, partial at it (both bars met); round 2: batch-level already within 1.2x
    # of the ideal, so even partial at the ideal is 1.2x over it: the ceiling column and the count say so
    print_spread = long_tail().print_spread
    rows = []
    for round_, (batch, partial) in enumerate([(8.0, 5.0), (6.0, 5.0)]):
        sized = {"workload": {"tail_factor": 16 + 8 * round_}, "tail_to_train": 1.7}
        rows += [{"config": "sync", "max_staleness": 0, "round": round_, "step_s": 10.0, "ideal_s": 5.0} | sized,
                 {"config": "batch", "max_staleness": 2, "round": round_, "step_s": batch, "ideal_s": 5.0} | sized,
                 {"config": "partial", "max_staleness": 2, "round": round_, "step_s": partial, "ideal_s": 5.0} | sized]
    print_spread(rows)
    out = capsys.readouterr().out
    # each round's tail factor and tail over training, as its sizing run set them
    assert re.search(r"^\s+1\s+x16\s+1\.70\s.*\s100%\s+1\.60x\s+1\.60x\s+yes$", out, re.MULTILINE), out
    assert re.search(r"^\s+2\s+x24\s+1\.70\s.*\s100%\s+1\.20x\s+1\.20x\s+no$", out, re.MULTILINE), out
    assert "both bars met in 1 of 2 rounds; the 1.3x bar out of reach (ceiling under it) in 1" in out, out


def test_long_tail_sizing_scales_the_tail_factor_to_the_asked_tail_over_training_within_its_range():
    TAIL_FACTORS, sized_tail_factor = long_tail().TAIL_FACTORS, long_tail().sized_tail_factor
    # tail 4 s over training 4 s at x16: 1.0, so x16 * 1.7 = x27 for 1.7; a tail twice the target halves it
    assert sized_tail_factor(16, tail_s=4.0, train_s=4.0, target=1.7) == 27
    assert sized_tail_factor(32, tail_s=13.6, train_s=4.0, target=1.7) == 16
    # a machine so slow or fast that the factor would leave the workload's range is held at its edge
    assert sized_tail_factor(16, tail_s=40.0, train_s=4.0, target=1.7) == TAIL_FACTORS[0]
    assert sized_tail_factor(16, tail_s=0.4, train_s=4.0, target=1.7) == TAIL_FACTORS[1]
