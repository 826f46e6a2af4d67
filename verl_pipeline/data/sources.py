"""The registry of code data sources, shared by curation (``verl_pipeline.data``) and the reward
(``verl_pipeline.reward``): each source's name and the other spellings peers use for it, the path
spellings that name it, its per-test time limit, and the one decoder of LiveCodeBench's compressed
tests. Standard library only (no verl, no Ray): both packages import it on their CPU-only paths.
Both packages also share one problem record, ``data.problem.Problem``.
"""

from __future__ import annotations

import base64
import io
import json
import pickle
import zlib
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Source:
    name: str
    path_pattern: str  # a regex matched against a lower-cased file path (see data.formats.source_from_path)
    time_limit_s: float  # per test, wall clock (DeepCoder/rLLM: 6 s for LiveCodeBench, 12 s for the rest)
    aliases: tuple[str, ...] = ()  # other data_source spellings peers write for the same format


SOURCES = {
    s.name: s
    for s in (
        Source("livecodebench", r"livecodebench|lcb", 6.0),
        Source("taco", r"taco", 12.0),
        Source("apps", r"(?<![a-z])apps(?![a-z])", 12.0),
        Source("code_contests", r"code_?contests", 12.0, aliases=("codecontests",)),  # verl's default_compute_score
        Source("codeforces", r"codeforces", 12.0),
        Source("primeintellect", r"primeintellect|prime_intellect|synthetic", 12.0),
        Source("leetcode", r"leetcode", 12.0),
    )
}
# the order path patterns are tried in, most specific first ("code_contests" before anything it contains)
PATH_HINT_ORDER = ("code_contests", "codeforces", "livecodebench", "leetcode", "primeintellect", "taco", "apps")
NAMES = tuple(SOURCES)
# every accepted data_source spelling (lower case) -> the source's name
BY_NAME = {spelling: s.name for s in SOURCES.values() for spelling in (s.name, *s.aliases)}


class _StringOnlyUnpickler(pickle.Unpickler):
    """LiveCodeBench pickles a JSON *string*; refusing every global keeps unpickling from running code."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}: only a pickled string is expected")


def decode_lcb_tests(value: str) -> Any:
    """LiveCodeBench's ``private_test_cases``: base64 -> zlib -> pickle (a string) -> JSON.

    Raises ``ValueError`` (with the cause) for anything not in that encoding; callers turn it into
    their own error (``MalformedRow`` in curation, ``BadTests`` in the reward)."""
    try:
        blob = zlib.decompress(base64.b64decode(value, validate=True))
        text = _StringOnlyUnpickler(io.BytesIO(blob)).load()
        return json.loads(text) if isinstance(text, (str, bytes)) else text
    except Exception as e:  # binascii, zlib, pickle and json errors all mean "not the published encoding"
        raise ValueError(f"not base64+zlib+pickle encoded JSON ({type(e).__name__}: {e})") from None
