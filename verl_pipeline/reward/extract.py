"""Find the program in a model response: the last fenced Python block after the reasoning.

Covered: everything up to the last ``</think>`` is reasoning and ignored (a response that opens
``<think>`` and never closes it has no answer yet); the answer's last fenced block whose language
tag is empty or Python (``python``, ``py``, ``python3``, ``Python``...) is the program; ``~~~`` fences
work like backticks. Not covered: blocks in other languages (a C++ answer has no Python program:
``None``), unterminated fences (a truncated response has no program), indented fences.

Only the response is searched; the caller must never pass the prompt (a fence in the prompt's
starter code would otherwise be "the answer").
"""

from __future__ import annotations

import re

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
# An opening fence at the start of a line, an optional info string, the body, and a closing fence
# of the same kind at the start of a line (or right after the code, as models sometimes write).
_FENCE = re.compile(
    r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\s`]*)[^\n]*\n(?P<body>.*?)(?:^|\n)?(?P=fence)[ \t]*$",
    re.DOTALL | re.MULTILINE,
)
_PYTHON_TAGS = {"", "python", "py", "python3", "py3", "python2"}


def answer_part(response: str) -> str | None:
    """The text after the reasoning, or None when the reasoning never ended."""
    if THINK_CLOSE in response:
        return response.rsplit(THINK_CLOSE, 1)[1]
    if THINK_OPEN in response:
        return None
    return response


def extract_code(response: str) -> str | None:
    """The last fenced Python block of the answer, or None if there is none."""
    answer = answer_part(response)
    if answer is None:
        return None
    code = None
    for m in _FENCE.finditer(answer):
        if m.group("lang").lower().lstrip("{.").rstrip("}") in _PYTHON_TAGS:
            code = m.group("body")
    if code is None or not code.strip():
        return None
    return code
