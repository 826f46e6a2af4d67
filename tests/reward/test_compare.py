"""Output comparison: LiveCodeBench's rules, exact for integers, safe for floats and types."""

from __future__ import annotations

import pytest

from verl_pipeline.reward.compare import compare_result, compare_stdout, values_equal


@pytest.mark.parametrize(
    "got, want",
    [
        (b"3\n", "3"),
        (b"  3  \n\n", "3\n"),
        (b"1 2\r\n3\r\n", "1 2\n3\n"),
        (b"1   2\n", "1 2\n"),  # token-wise
        (b"0.3333333\n", "0.333333333\n"),  # within 1e-6
        (b"1e3\n", "1000.0\n"),
        (b"007\n", "7\n"),  # integers by value
        (b"-0\n", "0\n"),
        (b"2\n", "2.0\n"),  # an integer may stand for a decimal value
        (b"2.0000000000\n", "2\n"),  # and a decimal for an integer, when equal in value exactly
        (b"1e3\n", "1000\n"),
        (b"123456789012345678901234567890.000\n", "123456789012345678901234567890\n"),
        (b"123456789012345678901234567890\n", "123456789012345678901234567890\n"),
    ],
)
def test_stdout_matches(got, want):
    assert compare_stdout(got, want) is None


@pytest.mark.parametrize(
    "got, want",
    [
        (b"4\n", "3\n"),
        (b"-100000\n", "-100001\n"),  # prime_code's np.allclose accepts this one
        (b"123456789012345678901234567891\n", "123456789012345678901234567890\n"),  # no float rounding
        (b"3.0000001\n", "3\n"),  # an integer answer is that integer exactly, not within 1e-6
        (b"1000000000000.0\n", "1000000000001\n"),  # in value, with no float rounding
        (b"NO\n", "YES\n"),  # same token count, different word (rLLM's TACO comparator passes it)
        (b"1 2\n", "1\n2\n"),  # line count
        (b"1\n2\n", "1 2\n"),
        (b"nan\n", "0.5\n"),
        (b"inf\n", "1e308\n"),
        (b"0x10\n", "16\n"),
        (b"1_000\n", "1000\n"),
        (b"0.3334\n", "0.3333\n"),
        (b"\xff\n", "\xff\n"),  # not UTF-8
        (b"", "0\n"),
    ],
)
def test_stdout_mismatches(got, want):
    assert compare_stdout(got, want) is not None


def test_zero_tolerance_is_exact():
    assert compare_stdout(b"0.3333333\n", "0.333333333\n", tol=0) is not None
    assert compare_stdout(b"0.5\n", "0.50\n", tol=0) is None


def test_relative_tolerance_for_large_numbers():
    assert compare_stdout(b"1000000.5\n", "1000000.0\n", tol=1e-6) is None
    assert compare_stdout(b"1000002.0\n", "1000000.0\n", tol=1e-6) is not None


@pytest.mark.parametrize(
    "got, want, equal",
    [
        (True, True, True),
        (True, 1, False),
        (1, True, False),
        (0, False, False),
        (2.0, 2, True),
        (2.5, 2, False),
        (1, 1.0000001, True),
        ("1", 1, False),
        (None, 0, False),
        ([1, [2, 3]], [1, [2, 3]], True),
        ([1, 2], [1, 2, 3], False),
        ({"a": 1}, {"a": 1}, True),
        ({"a": 1}, {"a": 1, "b": 2}, False),
        ({"$list": [1, 2]}, {"$list": [1, 2]}, True),
        ({"$tree": [1, None, 2]}, {"$tree": [1, 2]}, False),
    ],
)
def test_values_equal_by_value_and_type(got, want, equal):
    assert values_equal(got, want) is equal


def test_result_json_with_nan_is_rejected():
    assert "not valid JSON" in compare_result(b"NaN", 0.5)


def test_taco_alternative_accepts_the_unwrapped_value():
    assert compare_result(b"3", [3], alternatives=(3,)) is None
    assert compare_result(b"4", [3], alternatives=(3,)) is not None


def test_missing_result_is_a_mismatch():
    assert "returned nothing" in compare_result(b"", 3)


def test_deeply_nested_result_is_a_mismatch_not_a_crash():
    deep = b"[" * 100_000 + b"]" * 100_000
    assert compare_result(deep, [1]) is not None
