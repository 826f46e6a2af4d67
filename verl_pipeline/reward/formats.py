"""Turn each dataset's test format into one list of ``Test`` and pick the tests to run.

Covered (data sources matched case-insensitively):

* ``livecodebench``: ``[{input, output, testtype: stdin|functional, metadata?}]``; functional input is
  one JSON value per line, output is JSON; the function name comes from ``metadata.func_name`` (in
  the test, or in ``extra_info``) or is derived from ``starter_code``;
* ``taco``, ``apps``, ``code_contests``: ``{inputs, outputs, fn_name?}``; call-based inputs are
  argument lists and an expected ``[x]`` also accepts ``x`` (TACO's rule); stdin inputs/outputs may
  be lists of lines;
* ``codeforces``: ``[{input, output}]``;
* ``primeintellect``: ``[{type: stdin_stdout|function_call, input, output, fn_name?}]`` (function
  calls follow TACO's rules);
* ``leetcode``: ``{functional: "def check(candidate): assert candidate(...) == ...\\ncheck(Solution().f)"}``.
  The asserts are parsed here, never run: each becomes a call test whose expected value stays
  with the grader, so an ``__eq__`` that always says yes, or an ``os._exit(0)`` before the asserts,
  gets nothing. Supported: ``assert candidate(args) == value`` and
  ``assert is_same_list/is_same_tree(candidate(args), list_node/tree_node([...]))``, with literal
  arguments and ``list_node``/``tree_node`` calls.

The ground truth may be parsed already or a string: JSON, a Python literal, or LiveCodeBench's
compressed private tests (base64 + zlib + pickle, unpickled with every class refused). Anything
else is ``BadTests`` with a reason. Not covered: kodcode/humanevalplus (pytest files), interactive
problems, special judges (problems that accept several answers).
"""

from __future__ import annotations

import ast
import json
import math
import re
import threading
from dataclasses import dataclass, field
from typing import Any

from verl_pipeline.data.problem import Problem
from verl_pipeline.data.sources import BY_NAME, SOURCES, decode_lcb_tests

from . import runner

# The reward manager parses tests on several threads. CPython 3.11 keeps the depth counter of its AST-to-object
# conversion in per-interpreter state, so two concurrent ast.parse calls can corrupt it and raise
# "SystemError: AST constructor recursion depth mismatch" (seen in CI, ending a training run); one at a time.
_AST_PARSE_LOCK = threading.Lock()

# default per-test time limits (s): DeepCoder/rLLM use 6 s for LiveCodeBench, 12 s for the rest
TIME_LIMITS = {s.name: s.time_limit_s for s in SOURCES.values()}  # the shared registry's
KNOWN_SOURCES = tuple(TIME_LIMITS)
DEFAULT_MAX_TESTS = 15
_MAX_LITERAL_CHARS = 64 << 20


class BadTests(ValueError):
    """The dataset's tests cannot be judged; the message says why."""


@dataclass(frozen=True)
class Test:
    """One test. ``kind`` is ``stdio`` (``stdin`` -> stdout) or ``call`` (``args``/``kwargs`` -> value)."""

    kind: str
    expected: Any
    stdin: str = ""
    args: list = field(default_factory=list)
    kwargs: dict = field(default_factory=dict)
    alternatives: tuple = ()  # other accepted values (TACO: [x] also accepts x)

    def size(self) -> int:
        """How long the input is; the longest inputs are kept when tests are capped (DeepCoder)."""
        if self.kind == "stdio":
            return len(self.stdin)
        return len(json.dumps([self.args, self.kwargs]))

    def payload(self) -> bytes:
        """What the sandbox receives for this test: the input and nothing else."""
        if self.kind == "stdio":
            return self.stdin.encode("utf-8", "surrogatepass")
        return json.dumps([self.args, self.kwargs]).encode()


def canonical_source(data_source: str) -> str:
    """The known data source ``data_source`` names (or an alias of); ``ValueError`` listing the known ones otherwise."""
    name = str(data_source).strip().lower()
    if name not in BY_NAME:
        raise ValueError(f"unknown code data source {data_source!r}; known: {', '.join(KNOWN_SOURCES)} "
                         f"(aliases: {', '.join(sorted(set(BY_NAME) - set(KNOWN_SOURCES)))})")
    return BY_NAME[name]


def parse_problem(data_source: str, ground_truth: Any, extra_info: dict | None = None) -> Problem:
    """One problem as the reward judges it: its published tests and, in ``cases``, those tests decoded
    in dataset order. Raises ``BadTests``."""
    source = canonical_source(data_source)
    extra = _plain(extra_info) if isinstance(extra_info, dict) else {}
    raw = _plain(_load(ground_truth))
    if source == "leetcode":
        tests, fn_name = _leetcode(raw)
    elif isinstance(raw, dict) and ("inputs" in raw or "outputs" in raw):
        tests, fn_name = _taco(raw)
    elif isinstance(raw, list):
        tests, fn_name = _test_list(raw, extra)
    else:
        raise BadTests(f"{source} tests must be a list of test dicts or an {{inputs, outputs}} dict, got {_kind(raw)}")
    if not tests:
        raise BadTests("the problem has no tests")
    kinds = {t.kind for t in tests}
    if len(kinds) > 1:
        raise BadTests("the problem mixes stdin and function-call tests")
    if kinds == {"call"} and not fn_name:
        raise BadTests("function-call tests without a function name (no fn_name, func_name or starter_code)")
    starter = extra.get("starter_code")
    return Problem(source, raw, fn_name if kinds == {"call"} else None, cases=tests, num_tests=len(tests),
                   starter_code=starter if isinstance(starter, str) else "")


def select_tests(tests: list[Test], max_tests: int | None) -> list[int]:
    """Indices of the tests to run, in dataset order: all, or the ``max_tests`` longest inputs."""
    if not max_tests or len(tests) <= max_tests:
        return list(range(len(tests)))
    longest = sorted(range(len(tests)), key=lambda i: (-tests[i].size(), i))[:max_tests]
    return sorted(longest)


# -- ground truth decoding ----------------------------------------------------------------------
def _load(gt: Any) -> Any:
    if isinstance(gt, bytes):
        gt = gt.decode("utf-8", "replace")
    if not isinstance(gt, str):
        return gt
    try:
        return json.loads(gt)
    except (ValueError, RecursionError):
        pass
    if len(gt) <= _MAX_LITERAL_CHARS:
        try:
            with _AST_PARSE_LOCK:  # literal_eval parses
                return ast.literal_eval(gt)  # rLLM's files store some tests as Python reprs
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
            pass
    try:
        return decode_lcb_tests(gt)
    except ValueError:  # not this encoding either
        pass
    raise BadTests("ground truth is neither JSON, a Python literal, nor LiveCodeBench's compressed tests")



def _plain(x: Any, depth: int = 0) -> Any:
    """Plain Python data: numpy arrays (from parquet) become lists, tuples lists."""
    if depth > 100:
        raise BadTests("tests are nested too deeply")
    if isinstance(x, dict):
        return {k: _plain(v, depth + 1) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v, depth + 1) for v in x]
    if hasattr(x, "tolist") and not isinstance(x, (str, bytes)):
        return _plain(x.tolist(), depth + 1)
    return x


def _kind(x: Any) -> str:
    return type(x).__name__


# -- stdin/stdout and LiveCodeBench/PrimeIntellect test lists -----------------------------------
def _text(x: Any, what: str) -> str:
    if isinstance(x, str):
        return x
    if isinstance(x, list) and all(isinstance(v, str) for v in x):
        return "\n".join(x)
    if isinstance(x, (int, float)) and not isinstance(x, bool):
        return str(x)
    raise BadTests(f"{what} must be a string, got {_kind(x)}")


def _stdin(x: Any, what: str) -> str:
    """A test's input; ``None`` is no input (as verl's sandbox_fusion reads it). An output is never
    optional: a missing expected output would let any program pass."""
    return "" if x is None else _text(x, what)


def _test_list(raw: list, extra: dict) -> tuple[list[Test], str | None]:
    tests: list[Test] = []
    fn_name = _fn_name(extra)
    for i, t in enumerate(raw):
        if not isinstance(t, dict):
            raise BadTests(f"test {i} is a {_kind(t)}, not a dict")
        if "input" not in t or "output" not in t:
            raise BadTests(f"test {i} lacks 'input' or 'output' (keys: {sorted(t)[:6]})")
        kind = str(t.get("testtype", t.get("type", "stdin"))).lower()
        if kind in ("stdin", "stdin_stdout", "stdio"):
            tests.append(Test("stdio", _text(t["output"], f"test {i} output"), stdin=_stdin(t["input"], f"test {i} input")))
        elif kind == "functional":  # LiveCodeBench: one JSON argument per line, JSON output
            fn_name = fn_name or _fn_name(_metadata(t)) or _fn_name(t)
            args = _json_lines(t["input"], i)
            tests.append(Test("call", _json_value(t["output"], f"test {i} output"), args=args))
        elif kind == "function_call":  # PrimeIntellect: TACO's call-based rules
            fn_name = fn_name or _fn_name(t)
            tests.append(_taco_call(t["input"], t["output"], i))
        else:
            raise BadTests(f"test {i} has unknown type {kind!r}")
    return tests, fn_name


def _metadata(d: dict) -> dict:
    meta = d.get("metadata")
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return {}
    return meta if isinstance(meta, dict) else {}


_DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.MULTILINE)


def _fn_name(d: dict) -> str | None:
    """The function to call, from ``fn_name``/``func_name``/metadata, else from ``starter_code``."""
    for key in ("fn_name", "func_name"):
        if isinstance(d.get(key), str) and d[key].strip():
            return d[key].strip()
    meta = _metadata(d)
    if meta and meta is not d:
        name = _fn_name(meta)
        if name:
            return name
    starter = d.get("starter_code")
    if isinstance(starter, str):
        names = [n for n in _DEF.findall(starter) if n != "__init__"]
        if names:
            return names[0]
    return None


def _json_value(x: Any, what: str) -> Any:
    if isinstance(x, str):
        try:
            x = json.loads(x)
        except (ValueError, RecursionError) as e:
            raise BadTests(f"{what} is not JSON: {str(e)[:80]}") from None
    return _finite(x, what)


def _json_lines(x: Any, i: int) -> list:
    if isinstance(x, list):
        return [_finite(v, f"test {i} input") for v in x]
    if not isinstance(x, str):
        raise BadTests(f"test {i} input must be JSON lines, got {_kind(x)}")
    return [_json_value(line, f"test {i} input line {j + 1}") for j, line in enumerate(x.strip("\n").split("\n"))]


def _finite(x: Any, what: str) -> Any:
    """Reject values a program could never match (NaN/inf) and non-JSON data."""
    if isinstance(x, float) and not math.isfinite(x):
        raise BadTests(f"{what} contains a non-finite number")
    if isinstance(x, list):
        return [_finite(v, what) for v in x]
    if isinstance(x, dict):
        if not all(isinstance(k, str) for k in x):
            raise BadTests(f"{what} has non-string dict keys")
        return {k: _finite(v, what) for k, v in x.items()}
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise BadTests(f"{what} contains a {_kind(x)}")


# -- TACO / APPS / code_contests -----------------------------------------------------------------
def _taco(raw: dict) -> tuple[list[Test], str | None]:
    inputs, outputs = raw.get("inputs"), raw.get("outputs")
    if not isinstance(inputs, list) or not isinstance(outputs, list):
        raise BadTests("'inputs' and 'outputs' must both be lists")
    if len(inputs) != len(outputs):
        raise BadTests(f"{len(inputs)} inputs but {len(outputs)} outputs")
    fn_name = raw.get("fn_name")
    if fn_name is not None and (not isinstance(fn_name, str) or not fn_name.strip()):
        raise BadTests(f"fn_name must be a non-empty string, got {fn_name!r}")
    if fn_name:
        return [_taco_call(x, y, i) for i, (x, y) in enumerate(zip(inputs, outputs))], fn_name.strip()
    tests = [
        Test("stdio", _text(y, f"test {i} output"), stdin=_stdin(x, f"test {i} input"))
        for i, (x, y) in enumerate(zip(inputs, outputs))
    ]
    return tests, None


def _taco_call(inp: Any, out: Any, i: int) -> Test:
    if isinstance(inp, str):
        args = _json_lines(inp, i)
    elif isinstance(inp, list):
        args = _finite(inp, f"test {i} input")
    else:
        raise BadTests(f"test {i}: call-based input must be an argument list, got {_kind(inp)}")
    if isinstance(out, str):
        try:
            out = json.loads(out)
        except ValueError:
            pass  # a plain string result
    expected = _finite(out, f"test {i} output")
    # TACO wraps the return value in a list; a function returning x passes for [x], as in TACO
    alternatives = (expected[0],) if isinstance(expected, list) and len(expected) == 1 else ()
    return Test("call", expected, args=args, alternatives=alternatives)


# -- LeetCode check() functions ------------------------------------------------------------------
def _leetcode(raw: Any) -> tuple[list[Test], str]:
    source = raw.get("functional") if isinstance(raw, dict) else raw
    if not isinstance(source, str):
        raise BadTests("leetcode tests must be {'functional': '<python source of check()>'}")
    try:
        with _AST_PARSE_LOCK:
            module = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError) as e:
        raise BadTests(f"leetcode check() does not parse: {str(e)[:80]}") from None
    check = next((n for n in module.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None or len(check.args.args) != 1:
        raise BadTests("leetcode tests have no 'def check(candidate):'")
    candidate = check.args.args[0].arg
    tests = []
    for stmt in check.body:
        if (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)) or isinstance(stmt, ast.Pass):
            continue  # docstring
        call, expected = _leetcode_assert(stmt, candidate)
        if any(isinstance(a, ast.Starred) for a in call.args):
            raise BadTests(f"unsupported *args in: {_snippet(stmt)}")
        if any(k.arg is None for k in call.keywords):
            raise BadTests(f"unsupported **kwargs in: {_snippet(stmt)}")
        args = [_leetcode_value(a, stmt) for a in call.args]
        kwargs = {k.arg: _leetcode_value(k.value, stmt) for k in call.keywords}
        tests.append(Test("call", expected, args=args, kwargs=kwargs))
    return tests, _leetcode_entry(module)


def _leetcode_assert(stmt: ast.stmt, candidate: str) -> tuple[ast.Call, Any]:
    def is_candidate_call(node: ast.AST) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == candidate

    if isinstance(stmt, ast.Assert):
        test = stmt.test
        if (
            isinstance(test, ast.Compare)
            and len(test.ops) == 1
            and isinstance(test.ops[0], ast.Eq)
            and is_candidate_call(test.left)
        ):
            return test.left, _leetcode_value(test.comparators[0], stmt)
        if (
            isinstance(test, ast.Call)
            and isinstance(test.func, ast.Name)
            and test.func.id in ("is_same_list", "is_same_tree")
            and len(test.args) == 2
            and not test.keywords
            and is_candidate_call(test.args[0])
        ):
            return test.args[0], _leetcode_value(test.args[1], stmt)
    raise BadTests(f"unsupported statement in check(): {_snippet(stmt)}")


def _leetcode_value(node: ast.AST, stmt: ast.stmt) -> Any:
    """A literal, or a ``list_node([...])``/``tree_node([...])`` call, as wire data."""
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_leetcode_value(e, stmt) for e in node.elts]
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("list_node", "tree_node"):
        if len(node.args) != 1 or node.keywords:
            raise BadTests(f"{node.func.id} takes one list in: {_snippet(stmt)}")
        values = _leetcode_value(node.args[0], stmt)
        if not isinstance(values, list):
            raise BadTests(f"{node.func.id} needs a list in: {_snippet(stmt)}")
        build = runner.list_node if node.func.id == "list_node" else runner.tree_node
        return runner.to_wire(build(values))
    try:
        value = ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        raise BadTests(f"not a literal in: {_snippet(stmt)}") from None
    return _finite(_plain(value), f"check() value in {_snippet(stmt)}")


def _leetcode_entry(module: ast.Module) -> str:
    """The method under test, from the trailing ``check(Solution().name)``."""
    for node in module.body:
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Call)
            and isinstance(node.value.func, ast.Name)
            and node.value.func.id == "check"
            and len(node.value.args) == 1
        ):
            target = node.value.args[0]
            if isinstance(target, ast.Attribute):
                return target.attr
            if isinstance(target, ast.Name):
                return target.id
    raise BadTests("leetcode tests do not say what to check (no 'check(Solution().method)')")


def _snippet(node: ast.AST) -> str:
    text = ast.unparse(node)
    return text if len(text) <= 80 else text[:77] + "..."
