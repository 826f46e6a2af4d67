"""Readers of each published format -> Problem (fixtures in tests/data/fixtures, see its README)."""

import base64
import pickle
import zlib
from dataclasses import replace
from pathlib import Path

import pytest

from verl_pipeline.data.formats import (
    InputSpec,
    UnreadableFile,
    decode_lcb_private_tests,
    func_name_from_starter,
    load_input,
    load_statements,
    normalise,
    parse_literal,
    path_hint,
    split_leetcode_statement,
)
from verl_pipeline.data.problem import MalformedRow

FIXTURES = Path(__file__).parent / "fixtures"
CONTAINERS = ("json", "jsonl", "parquet")


def _load(rel: str):
    return load_input(InputSpec(FIXTURES / rel))


@pytest.mark.parametrize("stem", ["taco/taco", "primeintellect/primeintellect", "livecodebench/livecodebench",
                                  "deepcoder/deepcoder", "rllm/leetcode_train", "rllm/livecodebench_train",
                                  "rllm/primeintellect_verify"])
def test_json_jsonl_and_parquet_of_the_same_rows_give_the_same_problems(stem):
    def comparable(loaded):
        # origin and file-derived ids name the file, so they differ by extension by design
        problems = [replace(p, origin_file="", source_id=p.source_id.replace(Path(p.origin_file).suffix, ""))
                    for p in loaded.problems]
        return problems, [m.reason.split(":", 1)[1] for m in loaded.malformed]

    results = [comparable(_load(f"{stem}.{ext}")) for ext in CONTAINERS]
    assert results[0][0], "fixture produced no problems"
    assert results[1] == results[0] and results[2] == results[0]


def test_taco_rows_keep_the_taco_dict_and_call_based_fn_name():
    loaded = _load("taco/taco.jsonl")
    by_title = {p.title: p for p in loaded.problems}
    stdin = by_title["Repeat the digit"]
    assert stdin.data_source == "taco" and stdin.num_tests == 9 and stdin.fn_name is None
    assert stdin.tests["inputs"][0] == "1\n" and len(stdin.solutions) == 2 and stdin.date == "2023-12-09"
    call = by_title["minimum operations"]
    assert call.fn_name == "minimumOperations" and call.tests["fn_name"] == "minimumOperations"
    assert call.tests["inputs"][0] == [[1, 2, 3, 4]] and call.tests["outputs"][0] == [3]
    assert call.starter_code.startswith("class Solution:")


def test_truncated_taco_input_output_is_malformed_with_field_value_and_reason():
    [bad] = _load("taco/taco.jsonl").malformed
    assert bad.step == "malformed" and bad.uid == "taco.jsonl#4" and bad.data_source == "taco"
    assert "input_output=" in bad.reason and '{"inputs"' in bad.reason and "neither JSON nor a Python literal" in bad.reason


def test_primeintellect_rows_lose_their_instruction_wrapper_and_keep_function_call_tests():
    loaded = _load("primeintellect/primeintellect.jsonl")
    stdin, call = loaded.problems
    assert stdin.uid == "primeintellect/synthetic_code_0001" and stdin.num_tests == 6
    assert not stdin.statement.startswith("Solve the following coding problem")
    assert not stdin.statement.rstrip().endswith("return the code.")
    assert stdin.solutions[0].startswith("```python")
    assert call.fn_name == "count_substrings" and call.tests[0]["type"] == "function_call"
    [cpp] = loaded.malformed
    assert "verification_info.language='cpp'" in cpp.reason and "only Python" in cpp.reason


def test_livecodebench_private_tests_are_decoded_and_merged_after_the_public_ones():
    problems = {p.source_id: p for p in _load("livecodebench/livecodebench.jsonl").problems}
    three = problems["abc333_a"]
    # 2 public tests + 4 private ones (base64 -> zlib -> pickle -> JSON)
    assert three.num_tests == 6 and [t["input"] for t in three.tests] == ["3\n", "9\n", "1\n", "2\n", "5\n", "7\n"]
    assert three.date == "2023-12-16" and three.title == "Three Threes" and three.difficulty == "easy"


def test_livecodebench_functional_tests_carry_func_name_from_metadata_or_starter_code():
    problems = {p.source_id: p for p in _load("livecodebench/livecodebench.jsonl").problems}
    assert all(t["metadata"] == {"func_name": "removeTrailingZeros"} for t in problems["2819"].tests)
    # metadata "{}": the name comes from the starter code's method
    assert problems["3371"].fn_name == "sumOfTheDigitsOfHarshadNumber"
    assert all(t["metadata"]["func_name"] == "sumOfTheDigitsOfHarshadNumber" for t in problems["3371"].tests)


def test_undecodable_livecodebench_private_tests_make_the_row_malformed():
    [bad] = _load("livecodebench/livecodebench.jsonl").malformed
    assert bad.uid == "livecodebench.jsonl#5" and "private_test_cases=" in bad.reason
    assert "not base64+zlib+pickle encoded JSON" in bad.reason


def test_private_test_decoder_refuses_pickles_that_would_import_code():
    class Evil:
        def __reduce__(self):
            return (print, ("pwned",))

    blob = base64.b64encode(zlib.compress(pickle.dumps(Evil()))).decode()
    with pytest.raises(MalformedRow, match="refusing to load builtins.print"):
        decode_lcb_private_tests(blob)


def test_deepcoder_rows_get_their_data_source_from_the_test_format():
    problems = _load("deepcoder/deepcoder.jsonl").problems
    assert [p.data_source for p in problems] == ["taco", "livecodebench", "primeintellect"]
    lcb = problems[1]
    assert lcb.fn_name == "canConstruct" and lcb.tests[0]["metadata"] == {"func_name": "canConstruct"}
    assert lcb.starter_code.startswith("class Solution:")


def test_rllm_leetcode_rows_count_asserts_and_lift_the_starter_code_out_of_the_statement():
    problems = _load("rllm/leetcode_train.json").problems
    assert [p.num_tests for p in problems] == [2, 5, 5]
    p = problems[1]
    assert p.data_source == "leetcode" and p.fn_name == "maxRepOpt1"
    assert "Please complete the following python code" not in p.statement
    assert not p.statement.startswith("Please solve")
    assert p.starter_code.startswith("class Solution:") and "def maxRepOpt1" in p.starter_code


def test_source_prefix_overrides_the_guess_and_is_checked_against_the_test_format():
    spec = InputSpec.parse(f"code_contests={FIXTURES / 'deepcoder' / 'deepcoder.jsonl'}")
    loaded = load_input(spec)
    # the TACO-shaped row may be code_contests; the LiveCodeBench / PrimeIntellect rows may not
    assert [p.data_source for p in loaded.problems] == ["code_contests"]
    assert len(loaded.malformed) == 2 and all("not data_source='code_contests'" in m.reason for m in loaded.malformed)


def test_unknown_source_prefix_is_a_clear_error():
    with pytest.raises(ValueError, match="'tacoo' is not a data source"):
        InputSpec.parse("tacoo=/tmp/x.json")


def test_missing_file_and_wrong_extension_are_errors_naming_the_file(tmp_path):
    with pytest.raises(UnreadableFile, match="no such file"):
        InputSpec(tmp_path / "nope.json").files()
    bad = tmp_path / "problems.csv"
    bad.write_text("a,b\n")
    with pytest.raises(UnreadableFile, match=r"problems.csv: unsupported extension '.csv'"):
        load_input(InputSpec(bad))
    garbage = tmp_path / "x.parquet"
    garbage.write_text("not parquet")
    with pytest.raises(UnreadableFile, match="x.parquet: not a readable parquet file"):
        load_input(InputSpec(garbage))


def test_a_file_of_non_problems_is_an_error_but_is_skipped_inside_a_directory(tmp_path):
    (tmp_path / "ids.json").write_text("[47, 5289]")
    with pytest.raises(UnreadableFile, match="no row is in a known coding-problem format"):
        load_input(InputSpec(tmp_path / "ids.json"))
    (tmp_path / "good.json").write_text((FIXTURES / "rllm" / "leetcode_train.json").read_text())
    loaded = load_input(InputSpec(tmp_path))
    assert len(loaded.problems) == 3
    assert [f["file"] for f in loaded.files] == ["good.json", "ids.json"] and "skipped" in loaded.files[1]


def test_bad_jsonl_line_is_one_malformed_row_and_the_rest_load(tmp_path):
    rows = (FIXTURES / "rllm" / "leetcode_train.jsonl").read_text().splitlines()
    path = tmp_path / "leetcode.jsonl"
    path.write_text("\n".join([rows[0], "{not json", rows[1]]) + "\n")
    loaded = load_input(InputSpec(path))
    assert len(loaded.problems) == 2
    [bad] = loaded.malformed
    assert bad.uid == "leetcode.jsonl#1" and "line is not JSON" in bad.reason


@pytest.mark.parametrize("record, field, why", [
    ({"problem": "", "tests": "[]"}, "problem", "empty"),
    ({"problem": "x", "tests": 5}, "tests", "expected a list or an object"),
    ({"problem": "x", "tests": {"inputs": ["1"], "outputs": []}}, "tests.outputs", "0 outputs for 1 inputs"),
    ({"problem": "x", "tests": {"functional": "def check(:"}}, "tests.functional", "not valid Python"),
    ({"problem": "x", "tests": [{"input": "1", "output": "2", "testtype": "functional"}]}, "metadata.func_name", "no func_name"),
    ({"problem": "x", "tests": [{"input": "1"}]}, "tests[0]", "needs `input` and `output`"),
    ({"problem": "x", "tests": [{"type": "function_call", "input": [1], "output": [2]}]}, "tests[0].fn_name", "needs fn_name"),
    ({"title": "no known columns"}, "columns", "no known format"),
])
def test_malformed_rows_name_the_field_and_why(record, field, why):
    with pytest.raises(MalformedRow) as err:
        normalise(record, "f.json", 0, "f.json")
    assert err.value.field_name == field and why in str(err.value)


def test_values_in_reasons_are_truncated():
    with pytest.raises(MalformedRow) as err:
        normalise({"problem": "x", "tests": "[" + "1," * 500}, "f.json", 0, "f.json")
    assert len(str(err.value)) < 300 and "..." in str(err.value)


def test_codeforces_tests_as_a_python_literal_string_are_accepted():
    # rllm's original codeforces.json stores tests as repr() of a list of dicts
    assert parse_literal("tests", "[{'input': '1\\n', 'output': '2'}]") == [{"input": "1\n", "output": "2"}]
    p = normalise({"problem": "Add one.", "tests": "[{'input': '1\\n', 'output': '2'}]"}, "codeforces.json", 3,
                  "x/codeforces.json")
    assert p.data_source == "codeforces" and p.num_tests == 1 and p.uid == "codeforces/codeforces.json#3"


def test_parquet_null_keys_are_dropped_from_tests():
    p = normalise({"problem": "x", "tests": {"functional": "def check(c):\n    assert c(1) == 1\n", "inputs": None,
                                              "outputs": None}}, "f.parquet", 0, "leetcode/f.parquet")
    assert p.tests == {"functional": "def check(c):\n    assert c(1) == 1\n"} and p.data_source == "leetcode"


def test_path_hints_read_folder_and_file_names():
    assert path_hint("deepcoder/lcbv5/test-00000.parquet") == "livecodebench"
    assert path_hint("data/code_contests_test.json") == "code_contests"
    assert path_hint("x/apps/train.jsonl") == "apps" and path_hint("x/happy/train.jsonl") is None


def test_func_name_is_the_first_non_dunder_def():
    assert func_name_from_starter("class Solution:\n    def __init__(self): pass\n    def solve(self, a):\n") == "solve"
    assert func_name_from_starter("") is None


def test_leetcode_wrapper_split():
    text = ("Please solve the programming task below using a self-contained code snippet in a markdown code block.\n\n"
            "Add two numbers.\n \nPlease complete the following python code precisely:\n```python\nclass Solution:\n"
            "    def add(self, a: int, b: int) -> int:\n```")
    assert split_leetcode_statement(text) == ("Add two numbers.", "class Solution:\n    def add(self, a: int, b: int) -> int:\n")


def test_test_set_statements_match_the_training_normalisation():
    statements, skipped = load_statements(InputSpec(FIXTURES / "rllm" / "leetcode_train.parquet"))
    assert skipped == 0
    assert [s for _, s in statements] == [p.statement for p in _load("rllm/leetcode_train.json").problems]
