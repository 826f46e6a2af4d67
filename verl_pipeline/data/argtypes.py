"""argparse value types whose errors name the flag, the value and the fix (curate and eval CLIs)."""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Callable


def at_least(flag: str, minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}={text!r} is not an integer") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag}={value} must be >= {minimum}")
        return value
    return parse


def fraction(flag: str) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}={text!r} is not a number") from None
        if not 0.0 < value <= 1.0:
            raise argparse.ArgumentTypeError(f"{flag}={value} must be in (0, 1]; 1.0 keeps only exact duplicates")
        return value
    return parse


def iso_date(flag: str) -> Callable[[str], dt.date]:
    def parse(text: str) -> dt.date:
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag}={text!r} is not a date; write YYYY-MM-DD, e.g. 2024-07-31") from None
    return parse
