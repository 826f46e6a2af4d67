"""The instruction a coding problem is wrapped in: LiveCodeBench's official wording, as DeepCoder used it.

Two variants: with starter code (LeetCode-style functional problems) the model must complete the given
signature; without, it must write a program that reads stdin and writes stdout. Both ask for one fenced
```python block, which is what the code reward extracts.
"""

from __future__ import annotations

_PREAMBLE = (
    "You will be given a question (problem specification) and will generate a correct Python program "
    "that matches the specification and passes all tests.\n\nQuestion: {problem}\n\n"
)
_WITH_STARTER = (
    "You will use the following starter code to write the solution to the problem and enclose your code "
    "within delimiters.\n```python\n{starter_code}\n```"
)
_STDIN = (
    "Read the inputs from stdin solve the problem and write the answer to stdout (do not directly test on "
    "the sample inputs). Enclose your code within delimiters as follows. Ensure that when the python program "
    "runs, it reads the inputs, runs the algorithm and writes output to STDOUT.\n```python\n# YOUR CODE HERE\n```"
)


def build_prompt(problem: str, starter_code: str | None = None) -> str:
    """Return the user message for a coding problem (LiveCodeBench format)."""
    body = _PREAMBLE.format(problem=problem.strip())
    if starter_code and starter_code.strip():
        return body + _WITH_STARTER.format(starter_code=starter_code.rstrip())
    return body + _STDIN


def build_chat(problem: str, starter_code: str | None = None) -> list[dict[str, str]]:
    """Chat messages in the form verl's RL dataset expects in its `prompt` column."""
    return [{"role": "user", "content": build_prompt(problem, starter_code)}]
