"""The one problem schema every published format is normalised to, and the error a malformed row raises.

A `Problem` keeps its tests in the *published* format of its `data_source` (TACO dict, LiveCodeBench list,
PrimeIntellect list, LeetCode `check` function, ...), because that is what the code reward parses for that
data source: `json.dumps(problem.tests)` is the `ground_truth` written to the parquet. The reward builds
the same record when it reads a ground truth back, with the decoded tests in `cases`. Nothing here runs
code or reads files, and nothing imports verl or Ray.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from verl_pipeline.data.sources import NAMES

# The data_source names the code reward routes on (verl_pipeline.reward); curated rows use only these.
DATA_SOURCES = NAMES

_VALUE_CHARS = 120


def truncate(value: Any, limit: int = _VALUE_CHARS) -> str:
    """repr() of a value, cut to `limit` characters so a reason stays one readable line."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class MalformedRow(ValueError):
    """A row that cannot become a Problem. The message names the field, the (truncated) value and why."""

    def __init__(self, field_name: str, value: Any, why: str):
        self.field_name = field_name
        super().__init__(f"{field_name}={truncate(value)}: {why}")


@dataclass
class Problem:
    """One coding problem, whatever file and format it came from: the one record curation
    (``verl_pipeline.data``) and the code reward (``verl_pipeline.reward``) share.

    `tests` is always in the published format of `data_source` (what curation writes as `ground_truth` and
    the reward reads back); `cases` are those tests decoded for judging (``reward.formats.Test``, filled by
    ``reward.formats.parse_problem``; curation leaves it empty). `origin_file` + `row` locate a curated
    row (file path relative to the input argument, 0-based row); together with `data_source` they are the
    stable sort key, so outputs do not depend on input order. The reward knows none of the curation fields.
    """

    data_source: str
    tests: Any  # published test format of data_source, JSON-serialisable
    fn_name: str | None = None  # call-based problems: the function/method the tests call
    cases: list = field(default_factory=list)  # the decoded tests the reward runs (reward.formats.Test)
    source_id: str = ""  # the published id (LiveCodeBench question_id, PrimeIntellect problem_id, ...) or "file#row"
    statement: str = ""  # the problem text, publisher boilerplate (e.g. PrimeIntellect's instruction) removed
    num_tests: int = 0
    origin_file: str = ""
    row: int = 0
    starter_code: str = ""
    solutions: list[str] = field(default_factory=list)  # reference solutions (plain code or fenced)
    difficulty: str | None = None
    date: str | None = None  # YYYY-MM-DD (LiveCodeBench contest_date, TACO date)
    title: str | None = None

    @property
    def mode(self) -> str:
        """How the decoded tests run: ``stdio`` or ``call`` (all of one problem's tests run the same way)."""
        if not self.cases:
            raise ValueError(f"{self.data_source} problem {self.source_id or '?'} has no decoded tests (cases)")
        return self.cases[0].kind

    @property
    def uid(self) -> str:
        return f"{self.data_source}/{self.source_id}"

    @property
    def origin(self) -> str:
        return f"{self.origin_file}#{self.row}"

    @property
    def sort_key(self) -> tuple[str, str, int]:
        return (self.data_source, self.origin_file, self.row)


@dataclass(frozen=True)
class Drop:
    """A problem (or row) removed by a curation step, with the reason the report shows."""

    step: str
    uid: str  # the problem's uid, or "file#row" for a row that never became a Problem
    data_source: str
    reason: str
