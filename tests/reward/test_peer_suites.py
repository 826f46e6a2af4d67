"""``benchmarks/peer_suites.py`` on a slice of the suites: its accounting adds up and its verdict can fail."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "peer_suites.py"


def run(data_dir: Path, files: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), "--data-dir", str(data_dir), "--files", files, *args],
                          check=False, capture_output=True, text=True, timeout=600)


def test_reference_programs_accepted_and_their_wrong_versions_rejected(fixtures_dir, tmp_path):
    out = tmp_path / "report.json"
    done = run(fixtures_dir, "leetcode_test.json,primeintellect_verify.json", "--limit", "3", "--json", str(out))
    assert done.returncode == 0, done.stdout + done.stderr[-2000:]
    report = json.loads(out.read_text())
    assert set(report["programs"]) == {f"{s}/{r}" for s in ("leetcode", "primeintellect")
                                       for r in ("deepcoder", "livecodebench")}
    for key, counts in report["programs"].items():
        assert counts["programs"] == 3 == counts["accepted"], key
        assert counts["wrong programs rejected"] == 3 and not counts.get("wrong programs accepted"), key
        assert report["wrong_verdicts"][key] == {"WA": 3}, key  # rejected for the changed value, not a crash
    assert report["rejections"] == [] and report["wrong_accepted"] == []


def test_a_rejected_reference_program_without_an_explanation_fails_the_run(fixtures_dir, tmp_path):
    rows = json.loads((fixtures_dir / "leetcode_test.json").read_text())[:2]
    rows[1]["solutions"] = "class Solution:\n    pass\n"  # the suite's program broken: must be counted, not hidden
    (tmp_path / "leetcode_test.json").write_text(json.dumps(rows))
    shutil.copy(fixtures_dir / "primeintellect_verify.json", tmp_path)
    done = run(tmp_path, "leetcode_test.json", "--rules", "deepcoder", "--json", str(tmp_path / "r.json"))
    assert done.returncode == 1
    report = json.loads((tmp_path / "r.json").read_text())
    counts = report["programs"]["leetcode/deepcoder"]
    assert (counts["accepted"], counts["rejected, unexplained"]) == (1, 1)
    assert [(r["id"], r["verdict"]) for r in report["rejections"]] == [("leetcode_test.json#1", "RE")]
    assert "UNEXPLAINED" in done.stdout


def test_unknown_suite_file_is_refused(fixtures_dir):
    done = run(fixtures_dir, "leetcode_tset.json")
    assert done.returncode == 2 and "unknown suite file(s) ['leetcode_tset.json']" in done.stderr
