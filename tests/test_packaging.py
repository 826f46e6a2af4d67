"""A wheel ships everything a run needs: recipes, patches, primary config, bundled problems; it composes a recipe
from any working directory (no cwd-relative config paths)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from vp_testing import REPO


@pytest.fixture(scope="module")
def wheel_site(tmp_path_factory):
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", str(REPO), "-w", str(out)], check=True,
                   capture_output=True, timeout=600)
    (wheel,) = out.glob("verl_pipeline-*.whl")
    site = out / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
                   check=True, capture_output=True, timeout=600)
    return site


def _python(site, code: str, *args: str, cwd) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *(["-c", code] if code else []), *args], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def test_wheel_ships_recipes_patches_config_and_data(wheel_site, tmp_path):
    proc = _python(wheel_site, (
        "import verl_pipeline, verl_pipeline.main as m, verl_pipeline.patches as p;"
        "from importlib import resources;"
        "print(verl_pipeline.__file__); print(m.recipes_dir()); print(sorted(m.available_recipes()));"
        "print(p.__file__);"
        "print(resources.files('verl_pipeline.conf').joinpath('pipeline.yaml').is_file());"
        "print(resources.files('verl_pipeline.assets').joinpath('problems/bundled_problems.jsonl').is_file())"
    ), cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    package, recipes, names, patches, conf, data = proc.stdout.split("\n")[:6]
    assert package.startswith(str(wheel_site)) and recipes.startswith(str(wheel_site))
    assert patches.startswith(str(wheel_site))
    assert "smoke" in names and "deepcoder_14b" in names and "deepcoder_14b_32k" in names
    assert conf == "True" and data == "True"


def test_installed_package_composes_a_recipe_from_any_directory(wheel_site, tmp_path):
    proc = _python(wheel_site, "", "-m", "verl_pipeline.main", "+recipe=deepcoder_14b", "--cfg", "job", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "DeepSeek-R1-Distill-Qwen-14B" in proc.stdout and "max_staleness: 1" in proc.stdout
