"""The tiny assets built in code: a tokenizer whose vocabulary can match a real model's embedding size."""

from __future__ import annotations

import pytest
from transformers import AutoTokenizer

from verl_pipeline.assets.tiny import build_tokenizer

TEXT = "import sys\nprint(sum(map(int, sys.stdin.read().split())))\n"


def test_padded_vocabulary_has_exactly_the_model_size_and_encodes_as_before(tmp_path):
    build_tokenizer(tmp_path / "plain", 512)
    build_tokenizer(tmp_path / "padded", 512, pad_vocab_to=151936)
    plain = AutoTokenizer.from_pretrained(tmp_path / "plain")
    padded = AutoTokenizer.from_pretrained(tmp_path / "padded")
    assert len(padded) == 151936
    assert padded.encode(TEXT) == plain.encode(TEXT)
    # every id a model of that size can sample decodes (the fillers included)
    assert padded.decode([151935, 200]) == "<f151935>" + plain.decode([200])
    assert padded.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False) == \
        plain.apply_chat_template([{"role": "user", "content": "hi"}], tokenize=False)


def test_padding_below_the_learned_vocabulary_is_refused(tmp_path):
    with pytest.raises(ValueError, match="pad_vocab_to=10"):
        build_tokenizer(tmp_path / "t", 512, pad_vocab_to=10)
