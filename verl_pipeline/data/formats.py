"""Readers for the published coding-problem formats, each normalised to one `Problem`.

Formats (recognised per row by their columns):
- TACO / APPS (`question`, `solutions`, `input_output`, `starter_code`, `difficulty`, ...): tests stay the
  TACO dict `{"inputs", "outputs", "fn_name"?}` (call-based when `fn_name` is set).
- PrimeIntellect `verifiable-coding-problems` (`prompt`, `gold_standard_solution`, `verification_info`,
  `metadata`, `problem_id`): tests stay the list `[{"type": "stdin_stdout"|"function_call", "input",
  "output", "fn_name"?}]`; PrimeIntellect's instruction wrapper is removed from the statement.
- LiveCodeBench `code_generation_lite` (`question_content`, `public_test_cases`, `private_test_cases`,
  `metadata`, `contest_date`, ...): the private tests (base64 -> zlib -> pickle -> JSON) are decoded and
  appended to the public ones; each test of a functional problem gets `metadata.func_name`.
- DeepCoder-Preview-Dataset columns and the rllm JSON files (`problem`, `tests`, optional `starter_code`,
  `metadata`, `solutions`): `tests` may be an object, a JSON string or a Python-literal string; the data
  source follows from the test format, narrowed by the file path (e.g. `.../codeforces/...`) or by an
  explicit `SOURCE=PATH` input.

Containers: `.json` (a list of objects, or JSON lines), `.jsonl`, `.parquet`; local files only.
Not covered: other languages' solutions (only Python is curated), HF `datasets` Arrow directories.
"""

from __future__ import annotations

import ast
import datetime as dt
import json
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from verl_pipeline.data.problem import DATA_SOURCES, MalformedRow, Problem, truncate
from verl_pipeline.data.sources import PATH_HINT_ORDER, SOURCES, decode_lcb_tests

logger = logging.getLogger(__name__)

EXTENSIONS = (".json", ".jsonl", ".parquet")
_ID_COLUMNS = ("question_id", "problem_id", "id", "task_id")

# Which data sources a test format can belong to; the first is the default when nothing narrows it.
_SOURCES_BY_SHAPE = {
    "io_dict": ("taco", "apps", "code_contests"),
    "check_function": ("leetcode",),
    "typed_list": ("livecodebench", "codeforces"),
    "pi_list": ("primeintellect",),
    "plain_list": ("codeforces",),
}
# Path hints, most specific first (the registry's order).
_PATH_HINTS = tuple((name, SOURCES[name].path_pattern) for name in PATH_HINT_ORDER)

_PI_PREFIX = re.compile(r"^\s*Solve the following coding problem using the programming language python:\s*", re.I)
_PI_SUFFIX = re.compile(
    r"\s*(?:The input will be stdin and you should print your solution to stdout\s*)?"
    r"Now solve the problem and return the code\.?\s*$"
)
_LEETCODE_PREFIX = re.compile(
    r"^\s*Please solve the programming task below using a self-contained code snippet in a markdown code block\.\s*"
)
_LEETCODE_STARTER = re.compile(r"\s*Please complete the following python code precisely:\s*```python\n(.*?)```\s*$", re.S)
_DEF = re.compile(r"^\s*def\s+([A-Za-z_]\w*)\s*\(", re.M)


@dataclass
class RawRow:
    """One row as read from a file, before normalisation (`error` set when the row itself did not parse)."""

    row: int
    record: dict | None
    error: str | None = None


class UnreadableFile(RuntimeError):
    """A file that cannot be read at all (missing, wrong extension, not JSON/parquet)."""


# ---------------------------------------------------------------------------------------------- reading


def iter_rows(path: Path, columns: Sequence[str] | None = None) -> Iterator[RawRow]:
    """Rows of a .json / .jsonl / .parquet file, in file order. Raises UnreadableFile naming the file.

    `columns` limits what is read from parquet (the columns that exist); JSON rows are always whole.
    """
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise UnreadableFile(f"{path}: unsupported extension {suffix!r}; use one of {', '.join(EXTENSIONS)}")
    try:
        if suffix == ".parquet":
            yield from _iter_parquet(path, columns)
            return
        text = path.read_text(encoding="utf-8")
    except UnreadableFile:
        raise
    except Exception as e:  # OSError, ArrowInvalid, UnicodeDecodeError: all mean "cannot read this file"
        raise UnreadableFile(f"{path}: cannot read ({type(e).__name__}: {e})") from e
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            data = None  # HF `to_json` writes JSON lines into .json files: fall through to line parsing
        if data is not None:
            if not isinstance(data, list):
                raise UnreadableFile(f"{path}: expected a JSON list of problem objects, got {type(data).__name__}")
            for i, rec in enumerate(data):
                yield _raw(i, rec)
            return
    yield from _iter_jsonl(text)


def _raw(i: int, rec: Any) -> RawRow:
    if isinstance(rec, dict):
        return RawRow(i, rec)
    return RawRow(i, None, f"row is a {type(rec).__name__} ({truncate(rec, 60)}), not an object")


def _iter_jsonl(text: str) -> Iterator[RawRow]:
    row = 0
    for line in text.splitlines():
        if not line.strip():
            continue
        try:
            yield _raw(row, json.loads(line))
        except json.JSONDecodeError as e:
            yield RawRow(row, None, f"line is not JSON ({e}): {truncate(line, 60)}")
        row += 1


def _iter_parquet(path: Path, columns: Sequence[str] | None) -> Iterator[RawRow]:
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except Exception as e:
        raise UnreadableFile(f"{path}: not a readable parquet file ({type(e).__name__}: {e})") from e
    if columns is not None:
        columns = [c for c in columns if c in pf.schema_arrow.names]
    row = 0
    # batches keep memory bounded: LiveCodeBench test files hold gigabytes of encoded private tests
    for batch in pf.iter_batches(batch_size=64, columns=columns):
        for rec in batch.to_pylist():
            yield RawRow(row, rec)
            row += 1


# ------------------------------------------------------------------------------------------- detection


def detect_format(record: dict) -> str | None:
    """Name of the published format a row is in, from its columns; None when none fits."""
    keys = set(record)
    if {"question_content", "public_test_cases"} <= keys:
        return "livecodebench"
    if "verification_info" in keys and ({"prompt", "problem"} & keys):
        return "primeintellect"
    if {"question", "input_output"} <= keys:
        return "taco"
    if {"problem", "tests"} <= keys:
        return "problem_tests"
    return None


def path_hint(path: str) -> str | None:
    """The data source a file path names (e.g. `deepcoder/lcbv5/test.parquet` -> livecodebench)."""
    low = path.lower()
    for name, pattern in _PATH_HINTS:
        if re.search(pattern, low):
            return name
    return None


# -------------------------------------------------------------------------------------- value parsing


def parse_literal(field_name: str, value: Any) -> Any:
    """A JSON value given as an object, a JSON string or a Python-literal string (rllm's codeforces file)."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except json.JSONDecodeError as json_err:
        try:
            return ast.literal_eval(value)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            raise MalformedRow(field_name, value, f"neither JSON nor a Python literal ({json_err})") from None


def decode_lcb_private_tests(value: Any) -> list:
    """LiveCodeBench `private_test_cases`: base64 -> zlib -> pickle -> JSON list (or plain JSON)."""
    if value is None or value == "" or value == []:
        return []
    if isinstance(value, list):
        return value
    if not isinstance(value, str):
        raise MalformedRow("private_test_cases", value, f"expected a string, got {type(value).__name__}")
    if value.lstrip().startswith("["):
        return parse_literal("private_test_cases", value)
    try:
        data = decode_lcb_tests(value)
    except ValueError as e:
        raise MalformedRow("private_test_cases", value, str(e)) from None
    if not isinstance(data, list):
        raise MalformedRow("private_test_cases", value, f"decoded to a {type(data).__name__}, expected a list")
    return data


def func_name_from_starter(starter_code: str) -> str | None:
    """The method tests call: the first `def` in the starter code that is not a dunder (as the reward does)."""
    for name in _DEF.findall(starter_code or ""):
        if not name.startswith("__"):
            return name
    return None


def parse_solutions(value: Any) -> list[str]:
    """Reference solutions given as a list, a JSON-list string, or one code string."""
    if value is None:
        return []
    if isinstance(value, str):
        stripped = value.strip()
        if stripped.startswith("["):
            try:
                value = json.loads(stripped)
            except json.JSONDecodeError:
                return [value] if stripped else []
        else:
            return [value] if stripped else []
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise MalformedRow("solutions", value, "expected a list of code strings")
    return [s for s in value if s.strip()]


def _text(record: dict, name: str, required: bool = True) -> str:
    value = record.get(name)
    if value is None and not required:
        return ""
    if not isinstance(value, str):
        raise MalformedRow(name, value, "missing" if value is None else f"expected text, got {type(value).__name__}")
    if required and not value.strip():
        raise MalformedRow(name, value, "empty")
    return value


def _optional_str(value: Any) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None


def _date(value: Any) -> str | None:
    """YYYY-MM-DD from an ISO string or a datetime; None when absent or not a date."""
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d")
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", str(value or "").strip())
    return match.group(1) if match else None


def _source_id(record: dict, origin_file: str, row: int) -> str:
    for col in _ID_COLUMNS:
        value = record.get(col)
        if value is not None and str(value).strip():
            return str(value).strip()
    return f"{origin_file}#{row}"


# -------------------------------------------------------------------------------------- test formats


def without_nulls(tests: Any) -> Any:
    """Drop keys whose value is null: parquet gives every struct the union of all rows' keys (a LeetCode
    row read next to TACO rows gets `inputs: null`), and the reward must see only the published keys."""
    if isinstance(tests, dict):
        return {k: v for k, v in tests.items() if v is not None}
    if isinstance(tests, list):
        return [without_nulls(t) if isinstance(t, dict) else t for t in tests]
    return tests


def test_shape(tests: Any) -> str:
    """Which published test format `tests` is in (see _SOURCES_BY_SHAPE); raises MalformedRow otherwise."""
    if isinstance(tests, dict):
        if "functional" in tests:
            return "check_function"
        if "inputs" in tests and "outputs" in tests:
            return "io_dict"
        raise MalformedRow("tests", tests, "a dict needs `inputs`+`outputs` (TACO) or `functional` (LeetCode)")
    if isinstance(tests, list):
        if not tests:
            return "plain_list"  # counted as 0 tests; the min-tests filter drops it
        if not all(isinstance(t, dict) for t in tests):
            raise MalformedRow("tests", tests, "a test list must hold objects with `input` and `output`")
        if any("testtype" in t for t in tests):
            return "typed_list"
        if any("type" in t for t in tests):
            return "pi_list"
        return "plain_list"
    raise MalformedRow("tests", tests, f"expected a list or an object, got {type(tests).__name__}")


def count_tests(shape: str, tests: Any) -> int:
    """Number of test cases, validating the structure the reward will rely on."""
    if shape == "io_dict":
        inputs, outputs = tests["inputs"], tests["outputs"]
        if not isinstance(inputs, list) or not isinstance(outputs, list):
            raise MalformedRow("tests.inputs", inputs, "`inputs` and `outputs` must be lists")
        if len(inputs) != len(outputs):
            raise MalformedRow("tests.outputs", outputs, f"{len(outputs)} outputs for {len(inputs)} inputs")
        return len(inputs)
    if shape == "check_function":
        return _count_asserts(tests["functional"])
    for i, t in enumerate(tests):
        if "input" not in t or "output" not in t:
            raise MalformedRow(f"tests[{i}]", t, "a test needs `input` and `output`")
    return len(tests)


def _count_asserts(code: Any) -> int:
    """LeetCode tests are one `check(candidate)` function: each `assert` in it is one test."""
    if not isinstance(code, str) or not code.strip():
        raise MalformedRow("tests.functional", code, "expected the source of a `check(candidate)` function")
    try:
        tree = ast.parse(code)
    except SyntaxError as e:
        raise MalformedRow("tests.functional", code, f"not valid Python ({e.msg}, line {e.lineno})") from None
    return sum(isinstance(node, ast.Assert) for node in ast.walk(tree))


def _check_lcb_tests(tests: list, func_name: str | None) -> None:
    for i, t in enumerate(tests):
        kind = t.get("testtype")
        if kind not in ("stdin", "functional"):
            raise MalformedRow(f"tests[{i}].testtype", kind, "expected 'stdin' or 'functional'")
        if not isinstance(t.get("input"), str) or not isinstance(t.get("output"), str):
            raise MalformedRow(f"tests[{i}]", t, "LiveCodeBench `input` and `output` must be strings")
        if kind == "functional" and not func_name:
            raise MalformedRow("metadata.func_name", None, "functional tests but no func_name and none in starter_code")


def _with_lcb_metadata(tests: list, func_name: str | None) -> list:
    """Copy `metadata.func_name` into every test, as DeepCoder's data does (the reward reads it per test)."""
    if not func_name:
        return tests
    return [{**t, "metadata": {**(t.get("metadata") or {}), "func_name": func_name}} for t in tests]


def _pi_fn_name(tests: list) -> str | None:
    for i, t in enumerate(tests):
        kind = t.get("type")
        if kind not in ("stdin_stdout", "function_call"):
            raise MalformedRow(f"tests[{i}].type", kind, "expected 'stdin_stdout' or 'function_call'")
        if kind == "function_call" and not t.get("fn_name"):
            raise MalformedRow(f"tests[{i}].fn_name", t.get("fn_name"), "a function_call test needs fn_name")
    return next((t["fn_name"] for t in tests if t.get("type") == "function_call"), None)


def _pick_source(shape: str, path: str, override: str | None) -> str:
    allowed = _SOURCES_BY_SHAPE[shape]
    if override:
        if override not in allowed:
            raise MalformedRow("tests", shape, f"this test format fits {'/'.join(allowed)}, not data_source={override!r}")
        return override
    hint = path_hint(path)
    return hint if hint in allowed else allowed[0]


# ------------------------------------------------------------------------------------------ statements


def clean_primeintellect_statement(text: str) -> str:
    """Drop PrimeIntellect's instruction wrapper; our prompt adds LiveCodeBench's own."""
    return _PI_SUFFIX.sub("", _PI_PREFIX.sub("", text)).strip()


def split_leetcode_statement(text: str) -> tuple[str, str]:
    """rllm's LeetCode text -> (statement, starter code): drop the wrapper, lift out the code to complete.

    Text without the wrapper comes back stripped, with no starter code."""
    text = _LEETCODE_PREFIX.sub("", text)
    match = _LEETCODE_STARTER.search(text)
    if not match:
        return text.strip(), ""
    return text[: match.start()].strip(), match.group(1).rstrip() + "\n"


# Statement column per format, in detection order; enough to read test sets without their (huge) tests.
STATEMENT_COLUMNS = ("question_content", "question", "prompt", "problem")


def statement_of(record: dict) -> tuple[str, str]:
    """(column, statement) of a row of any format, publisher boilerplate removed; tests are not looked at."""
    for column in STATEMENT_COLUMNS:
        if column in record:
            text = _text(record, column)
            if column in ("prompt", "problem"):
                text = split_leetcode_statement(clean_primeintellect_statement(text))[0]
            return column, text.strip()
    raise MalformedRow("columns", sorted(record), f"no statement column (one of {', '.join(STATEMENT_COLUMNS)})")


# ------------------------------------------------------------------------------------------ normalisers


def _problem(rec: dict, origin_file: str, row: int, source: str, shape: str, tests: Any, **fields: Any) -> Problem:
    """A Problem with the fields every format fills the same way; `fields` are the format's own."""
    return Problem(data_source=source, source_id=_source_id(rec, origin_file, row), statement=statement_of(rec)[1],
                   tests=tests, num_tests=count_tests(shape, tests), origin_file=origin_file, row=row, **fields)


def _from_taco(rec: dict, origin_file: str, row: int, path: str, override: str | None) -> Problem:
    tests = without_nulls(parse_literal("input_output", rec.get("input_output")))
    if not isinstance(tests, dict) or test_shape(tests) != "io_dict":
        raise MalformedRow("input_output", rec.get("input_output"), "expected {inputs, outputs, fn_name?}")
    return _problem(
        rec, origin_file, row, _pick_source("io_dict", path, override), "io_dict", tests,
        starter_code=_text(rec, "starter_code", required=False),
        fn_name=tests.get("fn_name") or None,
        solutions=parse_solutions(rec.get("solutions")),
        difficulty=_optional_str(rec.get("difficulty")),
        date=_date(rec.get("date")),
        title=_optional_str(rec.get("name")),
    )


def _from_primeintellect(rec: dict, origin_file: str, row: int, path: str, override: str | None) -> Problem:
    info = parse_literal("verification_info", rec.get("verification_info"))
    if not isinstance(info, dict) or not isinstance(info.get("test_cases"), list):
        raise MalformedRow("verification_info", rec.get("verification_info"), "expected {language, test_cases: [...]}")
    language = str(info.get("language") or "python").lower()
    if language != "python":
        raise MalformedRow("verification_info.language", language, "only Python problems are curated")
    tests = without_nulls(info["test_cases"])
    shape = test_shape(tests)
    if tests and shape != "pi_list":
        raise MalformedRow("verification_info.test_cases", tests, "expected [{type, input, output, fn_name?}]")
    fn_name = _pi_fn_name(tests)
    meta = parse_literal("metadata", rec.get("metadata")) or {}
    return _problem(
        rec, origin_file, row, _pick_source("pi_list", path, override), "pi_list", tests,
        fn_name=fn_name,
        solutions=parse_solutions(rec.get("gold_standard_solution")),
        difficulty=_optional_str(meta.get("difficulty")) if isinstance(meta, dict) else None,
        title=_optional_str(rec.get("in_source_id")),
    )


def _from_lcb(rec: dict, origin_file: str, row: int, path: str, override: str | None) -> Problem:
    public = parse_literal("public_test_cases", rec.get("public_test_cases"))
    if not isinstance(public, list):
        raise MalformedRow("public_test_cases", rec.get("public_test_cases"), "expected a JSON list of tests")
    tests = without_nulls(public + decode_lcb_private_tests(rec.get("private_test_cases")))
    starter = _text(rec, "starter_code", required=False)
    meta = parse_literal("metadata", rec.get("metadata")) or {}
    func_name = (meta.get("func_name") if isinstance(meta, dict) else None) or func_name_from_starter(starter)
    if tests and test_shape(tests) != "typed_list":
        raise MalformedRow("public_test_cases", tests, "LiveCodeBench tests need `testtype`")
    _check_lcb_tests(tests, func_name)
    return _problem(
        rec, origin_file, row, _pick_source("typed_list", path, override or "livecodebench"), "typed_list",
        _with_lcb_metadata(tests, func_name),
        starter_code=starter,
        fn_name=func_name,
        difficulty=_optional_str(rec.get("difficulty")),
        date=_date(rec.get("contest_date")),
        title=_optional_str(rec.get("question_title")),
    )


def _from_problem_tests(rec: dict, origin_file: str, row: int, path: str, override: str | None) -> Problem:
    tests = without_nulls(parse_literal("tests", rec.get("tests")))
    shape = test_shape(tests)
    source = _pick_source(shape, path, override)
    # rllm's LeetCode rows carry the code to complete inside the text, not in starter_code
    starter = _text(rec, "starter_code", required=False) or split_leetcode_statement(_text(rec, "problem"))[1]
    meta = parse_literal("metadata", rec.get("metadata")) or {}
    fn_name = meta.get("func_name") if isinstance(meta, dict) else None
    if source == "primeintellect":
        fn_name = _pi_fn_name(tests) or fn_name
    elif shape == "io_dict":
        fn_name = tests.get("fn_name") or fn_name
    if shape == "typed_list":
        fn_name = fn_name or func_name_from_starter(starter)
        _check_lcb_tests(tests, fn_name)
        tests = _with_lcb_metadata(tests, fn_name)
    elif source == "leetcode":
        fn_name = fn_name or func_name_from_starter(starter)
    return _problem(
        rec, origin_file, row, source, shape, tests,
        starter_code=starter,
        fn_name=fn_name,
        solutions=parse_solutions(rec.get("solutions")),
        difficulty=_optional_str(rec.get("difficulty") or (meta.get("difficulty") if isinstance(meta, dict) else None)),
        date=_date(rec.get("contest_date") or rec.get("date")),
        title=_optional_str(rec.get("question_title") or rec.get("title")),
    )


_NORMALISERS = {
    "taco": _from_taco,
    "primeintellect": _from_primeintellect,
    "livecodebench": _from_lcb,
    "problem_tests": _from_problem_tests,
}


def normalise(record: dict, origin_file: str, row: int, path: str, source_override: str | None = None) -> Problem:
    """One row -> Problem. Raises MalformedRow (field, value, why) when the row does not fit its format."""
    if source_override is not None and source_override not in DATA_SOURCES:
        raise ValueError(f"data source {source_override!r} is not one of {', '.join(DATA_SOURCES)}")
    fmt = detect_format(record)
    if fmt is None:
        raise MalformedRow(
            "columns", sorted(record), "no known format: need problem+tests, question+input_output (TACO), "
            "verification_info (PrimeIntellect) or question_content+public_test_cases (LiveCodeBench)"
        )
    return _NORMALISERS[fmt](record, origin_file, row, path, source_override)


# ------------------------------------------------------------------------------------------ inputs


@dataclass(frozen=True)
class InputSpec:
    """A `--input` argument: a file or directory, optionally forced to one data source (`SOURCE=PATH`)."""

    path: Path
    source: str | None = None

    @classmethod
    def parse(cls, arg: str) -> InputSpec:
        name, sep, rest = arg.partition("=")
        if sep and not Path(arg).exists():
            if name.lower() not in DATA_SOURCES:
                raise ValueError(
                    f"--input {arg!r}: {name!r} is not a data source; write SOURCE=PATH with SOURCE one of "
                    f"{', '.join(DATA_SOURCES)}, or give a plain path"
                )
            return cls(Path(rest), name.lower())
        return cls(Path(arg))

    def files(self) -> list[tuple[Path, str]]:
        """(file, name used in ids) pairs, sorted: a directory is walked for .json/.jsonl/.parquet."""
        if self.path.is_dir():
            found = sorted(
                p for p in self.path.rglob("*")
                if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith(".")
            )
            return [(p, p.relative_to(self.path).as_posix()) for p in found]
        if self.path.is_file():
            return [(self.path, self.path.name)]
        raise UnreadableFile(f"{self.path}: no such file or directory")


@dataclass
class Loaded:
    problems: list[Problem]
    malformed: list  # list[Drop]
    files: list[dict]  # per file: name, rows, problems, malformed (or skipped + why)


def load_input(spec: InputSpec) -> Loaded:
    """Read and normalise every row under one input; malformed rows become Drops, never exceptions.

    A file none of whose rows is in a known format is an error when named directly, and is skipped with a
    warning when it was found inside a directory (e.g. an id list next to the data).
    """
    from verl_pipeline.data.problem import Drop

    out = Loaded([], [], [])
    # hints come from the names the user chose (the file, its folder / the folder given), not from where the
    # checkout happens to live: /home/me/taco-experiments/lcb.json is LiveCodeBench, not TACO
    top = spec.path.resolve().name if spec.path.is_dir() else spec.path.resolve().parent.name
    for path, name in spec.files():
        problems, malformed, recognised, rows = [], [], False, 0
        hint_path = f"{top}/{name}"
        guess = spec.source or path_hint(hint_path) or "unknown"
        for raw in iter_rows(path):
            rows += 1
            origin = f"{name}#{raw.row}"
            if raw.record is None:
                malformed.append(Drop("malformed", origin, guess, f"{origin}: {raw.error}"))
                continue
            recognised = recognised or detect_format(raw.record) is not None
            try:
                problems.append(normalise(raw.record, name, raw.row, hint_path, spec.source))
            except MalformedRow as e:
                malformed.append(Drop("malformed", origin, guess, f"{origin}: {e}"))
        if rows and not recognised:
            why = f"no row is in a known coding-problem format ({malformed[0].reason})"
            if not spec.path.is_dir():
                raise UnreadableFile(f"{path}: {why}")
            logger.warning("skipping %s: %s", path, why)
            out.files.append({"file": name, "rows": rows, "skipped": why})
            continue
        out.problems += problems
        out.malformed += malformed
        out.files.append({"file": name, "rows": rows, "problems": len(problems), "malformed": len(malformed)})
        logger.info("%s: %d rows, %d problems, %d malformed", path, rows, len(problems), len(malformed))
    return out


def load_statements(spec: InputSpec) -> tuple[list[tuple[str, str]], int]:
    """(origin, statement) of every row under an input, for decontamination; also the count of rows skipped.

    Only statement columns are read from parquet, and tests are never validated: a test-set problem with
    odd tests is still a problem the training set must not contain.
    """
    out, skipped = [], 0
    for path, name in spec.files():
        for raw in iter_rows(path, columns=STATEMENT_COLUMNS):
            try:
                if raw.record is None:
                    raise MalformedRow("row", None, raw.error or "unreadable")
                out.append((f"{name}#{raw.row}", statement_of(raw.record)[1]))
            except MalformedRow as e:
                skipped += 1
                logger.warning("test set %s row %d skipped: %s", name, raw.row, e)
    return out, skipped
