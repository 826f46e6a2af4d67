"""Decide whether a program's output is the expected one. Pure functions, no I/O.

stdout (LiveCodeBench's rules, made exact and safe):
  the output must be valid UTF-8; strip the whole text, split on newlines, strip each line; the
  line counts must be equal; each line must be identical or, token by token, numerically equal.
  A token whose expected form is an integer matches only an integer of the same value (exactly,
  at any size: no float rounding, so -100000 never passes for -100001). A decimal/float token
  matches a number within ``tol`` absolute or relative (``tol=0``: exactly equal). ``nan``, ``inf``
  and hex/underscore spellings are not numbers here, and non-finite values never match.

function results (JSON that left the sandbox): parsed with NaN/Infinity refused, then compared by
value and type: ``True`` is not ``1``, a string is not a number, lists compare element-wise, dicts
by keys; ints and floats compare as numbers (an integral float equals the int), floats with
``tol``. Linked lists and trees arrive as ``{"$list": [...]}``/``{"$tree": [...]}`` and compare as
data. Nothing of the program runs here: no ``__eq__`` it defined can be called.

Each function returns None for a match, else a short reason for the logs.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any

from .runner import UNUSABLE  # what the sandbox sends for a returned value that has no JSON form

DEFAULT_TOL = 1e-6
_INT = re.compile(r"[+-]?\d+\Z")
_DECIMAL = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?\Z")


def _short(x: Any, n: int = 60) -> str:
    text = x if isinstance(x, str) else json.dumps(x, ensure_ascii=False)
    return repr(text if len(text) <= n else text[: n - 3] + "...")


def _same_int(a: str, b: str) -> bool:
    """Integer tokens equal by value, compared as digit strings (no size limit, no float)."""

    def norm(s: str) -> tuple[bool, str]:
        neg = s.startswith("-")
        digits = s.lstrip("+-").lstrip("0") or "0"
        return (neg and digits != "0", digits)

    return norm(a) == norm(b)


def _close(a: float, b: float, tol: float) -> bool:
    if not (math.isfinite(a) and math.isfinite(b)):
        return False
    if tol <= 0:
        return a == b
    diff = abs(a - b)
    return diff <= tol or diff <= tol * abs(b)


def _token_matches(got: str, want: str, tol: float) -> bool:
    if got == want:
        return True
    if _INT.match(want):
        if _INT.match(got):
            return _same_int(got, want)
        # "2.0000000000" or "1e3" for 2 or 1000: the same value exactly, in decimal (no float, so
        # 1000000000000.0 never passes for 1000000000001)
        return bool(_DECIMAL.match(got)) and Decimal(got) == Decimal(want)
    if _DECIMAL.match(want) and _DECIMAL.match(got):
        return _close(float(got), float(want), tol)
    return False


def _stripped_lines(output: bytes, expected: str) -> list[tuple[str, str]] | str:
    """(got, want) pairs of stripped lines of the stripped texts, or why they cannot be paired."""
    try:
        text = output.decode("utf-8")
    except UnicodeDecodeError:
        return "output is not valid UTF-8"
    got_lines = [line.strip() for line in text.strip().split("\n")]
    want_lines = [line.strip() for line in expected.strip().split("\n")]
    if len(got_lines) != len(want_lines):
        return f"expected {len(want_lines)} lines, got {len(got_lines)}"
    return list(zip(got_lines, want_lines))


def compare_stdout(output: bytes, expected: str, tol: float = DEFAULT_TOL) -> str | None:
    lines = _stripped_lines(output, expected)
    if isinstance(lines, str):
        return lines
    for n, (got, want) in enumerate(lines, 1):
        if got == want:
            continue
        got_tokens, want_tokens = got.split(), want.split()
        if len(got_tokens) != len(want_tokens) or not all(
            _token_matches(g, w, tol) for g, w in zip(got_tokens, want_tokens)
        ):
            return f"line {n}: expected {_short(want)}, got {_short(got)}"
    return None


def _decimals(line: str) -> list[Decimal] | None:
    try:
        return [Decimal(token) for token in line.split()]
    except (InvalidOperation, ValueError):
        return None


def compare_stdout_lcb(output: bytes, expected: str) -> str | None:
    """LiveCodeBench's official stdout rule: stripped text, stripped lines, equal line counts; each
    line identical, or its whitespace-separated tokens all Decimals equal to the expected ones
    (exact: ``0.30000000000000004`` is not ``0.3``; ``5.0`` is ``5``; ``inf`` is ``Infinity``)."""
    lines = _stripped_lines(output, expected)
    if isinstance(lines, str):
        return lines
    for n, (got, want) in enumerate(lines, 1):
        if got == want:
            continue
        got_d, want_d = _decimals(got), _decimals(want)
        if got_d is None or want_d is None or got_d != want_d:
            return f"line {n}: expected {_short(want)}, got {_short(got)}"
    return None


def _untag(d: dict) -> Any:
    """``runner.to_wire(..., tagged_tuples=True)`` undone for one dict: a tuple again, or the dict
    with the ``$`` it added to its ``$`` keys removed."""
    if len(d) == 1 and "$tuple" in d and isinstance(d["$tuple"], list):
        return tuple(d["$tuple"])
    return {k[1:] if k.startswith("$$") else k: v for k, v in d.items()}


def _returned_value(result: bytes, tagged_tuples: bool = False) -> tuple[Any, str | None]:
    """The value a call-based program returned (as the sandbox serialised it), or why there is none."""
    if not result:
        return None, "the function returned nothing (the process ended before returning)"
    try:
        got = json.loads(result, parse_constant=_reject_constant, object_hook=_untag if tagged_tuples else None)
    except (ValueError, RecursionError) as e:
        return None, f"result is not valid JSON: {str(e)[:60]}"
    if isinstance(got, dict) and set(got) == {UNUSABLE}:
        return None, f"unusable return value: {got[UNUSABLE]}"
    return got, None


def compare_result_lcb(result: bytes, expected: Any) -> str | None:
    """LiveCodeBench's call-based rule: Python ``==`` between the returned value and the expected
    JSON (``True == 1``, ``2.0 == 2``; floats exact). The result must come from
    ``to_wire(..., tagged_tuples=True)``: a returned top-level tuple becomes a list (LiveCodeBench's
    one conversion), a nested tuple stays a tuple and so never equals the expected list."""
    got, problem = _returned_value(result, tagged_tuples=True)
    if problem is not None:
        return problem
    if isinstance(got, tuple):
        got = list(got)
    try:
        if got == expected:
            return None
    except RecursionError:
        return "result is nested too deeply"
    return f"expected {_short(expected)}, got {_short(got)}"


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a valid result")


def values_equal(got: Any, want: Any, tol: float = DEFAULT_TOL) -> bool:
    """Type-aware equality of JSON data (see the module docstring)."""
    if isinstance(want, bool) or isinstance(got, bool):
        return type(got) is bool and type(want) is bool and got == want
    if isinstance(want, (int, float)):
        if not isinstance(got, (int, float)):
            return False
        if isinstance(want, int) and isinstance(got, int):
            return got == want
        if isinstance(want, int):  # an integral float may stand for an int, exactly
            return math.isfinite(got) and got == want
        return _close(float(got), want, tol)
    if want is None or isinstance(want, str):
        return type(got) is type(want) and got == want
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(
            values_equal(g, w, tol) for g, w in zip(got, want)
        )
    if isinstance(want, dict):
        return isinstance(got, dict) and got.keys() == want.keys() and all(
            values_equal(got[k], want[k], tol) for k in want
        )
    return False


def compare_result(result: bytes, expected: Any, alternatives: tuple = (), tol: float = DEFAULT_TOL) -> str | None:
    got, problem = _returned_value(result)
    if problem is not None:
        return problem
    try:
        if any(values_equal(got, want, tol) for want in (expected, *alternatives)):
            return None
    except RecursionError:
        return "result is nested too deeply"
    return f"expected {_short(expected)}, got {_short(got)}"
