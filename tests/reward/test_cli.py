"""``python -m verl_pipeline.reward`` prints the verdict as JSON."""

from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "verl_pipeline.reward", *args], input=stdin,
                          capture_output=True, text=True, timeout=120, check=False)


def test_cli_prints_the_verdict(tmp_path):
    tests = tmp_path / "tests.json"
    tests.write_text(json.dumps([{"input": "[1, 2]", "output": "3", "testtype": "functional"}]))
    response = tmp_path / "response.md"
    response.write_text("```python\nclass Solution:\n    def total(self, nums):\n        return sum(nums)\n```")
    extra = tmp_path / "extra.json"
    extra.write_text(json.dumps({"starter_code": "class Solution:\n    def total(self, nums: List[int]) -> int:\n"}))
    proc = run_cli("--data-source", "livecodebench", "--tests", str(tests), "--extra-info", str(extra), str(response))
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert (out["verdict"], out["score"]) == ("AC", 1.0)


def test_cli_reads_the_response_from_stdin(tmp_path):
    tests = tmp_path / "tests.json"
    tests.write_text(json.dumps({"inputs": ["2\n"], "outputs": ["4\n"]}))
    proc = run_cli("--data-source", "taco", "--tests", str(tests), "--time-limit", "2", "-",
                   stdin="```python\nprint(int(input()) + 1)\n```")
    assert json.loads(proc.stdout)["verdict"] == "WA"


def test_cli_rejects_an_unknown_data_source(tmp_path):
    tests = tmp_path / "tests.json"
    tests.write_text("[]")
    proc = run_cli("--data-source", "nope", "--tests", str(tests), "-", stdin="")
    assert proc.returncode == 2 and "known: livecodebench" in proc.stderr
