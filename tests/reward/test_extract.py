"""Which code block is the program."""

from __future__ import annotations

from verl_pipeline.reward.extract import extract_code


def test_last_python_block_wins():
    response = "```python\nprint(1)\n```\nbetter:\n```python\nprint(2)\n```\n"
    assert extract_code(response) == "print(2)"


def test_untagged_block_counts_as_python():
    assert extract_code("```\nprint(1)\n```") == "print(1)"


def test_other_languages_are_not_python():
    assert extract_code("```python\nprint(1)\n```\n```cpp\nint main() {}\n```") == "print(1)"
    assert extract_code("```cpp\nint main() {}\n```") is None


def test_code_inside_reasoning_is_ignored():
    response = "<think>draft:\n```python\nprint('draft')\n```\n</think>\nNo code in the answer."
    assert extract_code(response) is None


def test_code_after_reasoning_is_found():
    response = "<think>\n```python\nprint('draft')\n```\n</think>\n```python\nprint('final')\n```"
    assert extract_code(response) == "print('final')"


def test_unfinished_reasoning_has_no_answer():
    assert extract_code("<think>\n```python\nprint(1)\n```\nstill thinking") is None


def test_unterminated_fence_is_no_code():
    assert extract_code("```python\nprint(1)\n") is None


def test_no_fence_is_no_code():
    assert extract_code("print(1)") is None


def test_empty_block_is_no_code():
    assert extract_code("```python\n\n```") is None


def test_tilde_fences_and_python3_tag():
    assert extract_code("~~~python3\nprint(1)\n~~~") == "print(1)"


def test_backticks_inside_a_string_do_not_end_the_block_early():
    assert extract_code('```python\nprint("```")\nx = 1\n```') == 'print("```")\nx = 1'
