"""The README's two quick-start commands are what CI runs, verbatim."""

from __future__ import annotations

import re

from vp_testing import REPO


def _quick_start_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    return [block.strip() for block in re.findall(r"```bash\n(.*?)```", section.split("### ", 1)[0], re.S)]


def test_readme_has_exactly_two_quick_start_commands():
    commands = _quick_start_commands()
    assert len(commands) == 2 and all("\n" not in c for c in commands), commands
    assert "+recipe=smoke" in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_commands_in_order():
    ci = (REPO / ".ci" / "run").read_text().splitlines()
    install, test = _quick_start_commands()
    assert install in ci and test in ci and ci.index(install) < ci.index(test)
