"""The instruction a coding problem is wrapped in: LiveCodeBench's official wording, as DeepCoder used it.

Two variants: with starter code (LeetCode-style functional problems) the model must complete the given
signature; without, it must write a program that reads stdin and writes stdout. Both ask for one fenced
```python block, which is what the code reward extracts. A third covers call-based problems published
without starter code (some TACO / PrimeIntellect `function_call` rows): LiveCodeBench has no wording for
them, and the stdin wording would be wrong, so the model is told the function name the tests call.
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


_CALL_BASED = (
    "Write a Python function named `{fn_name}`: the tests call it with each test's arguments and compare what "
    "it returns. Enclose your code within delimiters as follows.\n```python\n# YOUR CODE HERE\n```"
)


def build_prompt(problem: str, starter_code: str | None = None, fn_name: str | None = None) -> str:
    """Return the user message for a coding problem (LiveCodeBench format).

    `fn_name` only matters without starter code: it marks a call-based problem (tests call that function).
    """
    body = _PREAMBLE.format(problem=problem.strip())
    if starter_code and starter_code.strip():
        return body + _WITH_STARTER.format(starter_code=starter_code.rstrip())
    if fn_name:
        return body + _CALL_BASED.format(fn_name=fn_name)
    return body + _STDIN


def build_chat(problem: str, starter_code: str | None = None, fn_name: str | None = None) -> list[dict[str, str]]:
    """Chat messages in the form verl's RL dataset expects in its `prompt` column."""
    return [{"role": "user", "content": build_prompt(problem, starter_code, fn_name)}]
