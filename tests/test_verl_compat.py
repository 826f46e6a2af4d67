"""verl_compat is the one seam to verl's private API: every entry exists with the parameters we pass (fails
here, naming it, on a verl upgrade), and no other module calls, reads or overrides a private verl name unlisted."""

from __future__ import annotations

import ast
import importlib
import inspect
import re
from pathlib import Path

import pytest

import verl_pipeline.verl_compat as compat
from verl_pipeline.verl_compat import INSTANCE_ATTRIBUTES, PRIVATE_SEAMS, InstanceAttribute, Seam, missing

REPO = Path(__file__).resolve().parent.parent
OUR_FILES = [p for folder in ("verl_pipeline", "patches") for p in sorted((REPO / folder).rglob("*.py"))]
# modules whose classes subclass verl's (vLLM's processes are another engineer's and import no verl class)
SUBCLASSING_MODULES = [
    "verl_pipeline.pipeline.trainer",
    "verl_pipeline.pipeline.agent_loop",
    "verl_pipeline.workers.hf_rollout",
    "verl_pipeline.workers.weight_sync",
    "verl_pipeline.cpu.platform",
    "verl_pipeline.reward.manager",
]


def _verl_source() -> str:
    import verl

    root = Path(verl.__file__).parent
    return "\n".join(p.read_text(errors="replace") for p in root.rglob("*.py"))


def test_every_private_verl_seam_exists_with_our_signature():
    assert missing() == []


def test_the_check_names_a_seam_that_disappeared_or_changed(monkeypatch):
    monkeypatch.setattr(compat, "PRIVATE_SEAMS", [
        *PRIVATE_SEAMS,
        Seam("verl.workers.rollout.base", "_NO_SUCH_THING", None, "nobody"),
        Seam("verl.experimental.agent_loop.agent_loop", "AgentLoopWorker._compute_score", ("renamed",), "nobody"),
    ])
    monkeypatch.setattr(compat, "INSTANCE_ATTRIBUTES", [
        *INSTANCE_ATTRIBUTES,
        InstanceAttribute("verl.experimental.separation.ray_trainer", "SeparateRayPPOTrainer._init_worker_groups",
                          "no_such_field", "nobody"),
    ])
    problems = compat.missing()
    assert len(problems) == 3, problems
    assert "verl.workers.rollout.base._NO_SUCH_THING (used by nobody): not found" in problems[0]
    assert "AgentLoopWorker._compute_score" in problems[1] and "expected ('renamed',) first" in problems[1]
    assert "self.no_such_field" in problems[2] and "no longer sets it" in problems[2]


def test_the_trainer_stages_call_only_listed_seams():
    called = set(re.findall(r"self\.(_\w+)\(", inspect.getsource(compat.VerlTrainerStages)))
    listed = {s.path.split(".")[-1] for s in PRIVATE_SEAMS}
    assert called and called <= listed, called - listed


def test_no_other_module_uses_a_private_verl_name():
    """A private name (`x._y`, `from verl... import _y`) used outside verl_compat must be one we define."""
    ours, uses = set(), []
    for path in OUR_FILES:
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                ours.add(node.name)
            elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
                ours.add(node.attr)
            elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                ours.add(node.id)
            if path.name == "verl_compat.py":
                continue
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
                uses.append((path, node.lineno, node.attr))
            elif isinstance(node, ast.ImportFrom) and re.match(r"verl(\.|$)", node.module or ""):
                uses += [(path, node.lineno, a.name) for a in node.names if a.name.startswith("_")]
    verl_source = _verl_source()
    leaks = [f"{p.relative_to(REPO)}:{line} {name}" for p, line, name in uses
             if name not in ours and re.search(rf"\b{re.escape(name)}\b", verl_source)]
    assert leaks == [], "private verl names used outside verl_pipeline/verl_compat.py"


@pytest.mark.parametrize("module_name", SUBCLASSING_MODULES)
def test_every_private_verl_method_we_override_is_listed(module_name):
    """Overrides must stay in the subclass; the seam list names each, so the first test checks it still exists."""
    module = importlib.import_module(module_name)
    listed = {(s.module, s.path) for s in PRIVATE_SEAMS}
    unlisted = []
    for cls in vars(module).values():
        if not (inspect.isclass(cls) and cls.__module__ == module_name):
            continue
        verl_bases = [b for b in cls.__mro__[1:] if b.__module__.startswith("verl.")]
        for name in vars(cls):
            if not name.startswith("_") or name.startswith("__") or name == "_abc_impl":  # ABCMeta's own
                continue
            owners = [b for b in verl_bases if name in vars(b)]
            if owners and (owners[0].__module__, f"{owners[0].__name__}.{name}") not in listed:
                unlisted.append(f"{cls.__name__}.{name} overrides {owners[0].__module__}.{owners[0].__name__}")
        # a private field a verl base class keeps on self is set through verl_compat, not by the subclass
        for name in set(re.findall(r"self\.(_[a-z]\w*)\s*=(?!=)", inspect.getsource(cls))):
            owners = [b for b in verl_bases if re.search(rf"self\.{name}\b", inspect.getsource(b))]
            if owners:
                unlisted.append(f"{cls.__name__} sets self.{name} of {owners[0].__module__}.{owners[0].__name__}")
    assert unlisted == []
