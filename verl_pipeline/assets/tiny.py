"""A tiny Qwen2-architecture model with random weights and a small byte-level BPE tokenizer.

Used by the `smoke` and `toy_learning` recipes, the tests and the CPU benchmarks. The tokenizer is a real
`PreTrainedTokenizerFast` with a ChatML chat template (what verl's agent loop applies to chat prompts), so
every code path that touches a tokenizer runs for real. Both are built deterministically and cached; the
cache key is a hash of the spec, so changing the spec builds a new directory instead of reusing a stale one.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

from verl_pipeline.assets.cache import cache_root
from verl_pipeline.assets.problems import load_bundled_problems

CHATML_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' + message['content'] + '<|im_end|>' + '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]


@dataclass(frozen=True)
class TinyModelSpec:
    """Shape of the tiny model. The defaults train a step in well under a second on one CPU core."""

    vocab_size: int = 1024
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 4096
    seed: int = 0


# vLLM's CPU attention kernels take head_dim 32, 64, 80, 96, 112, 128, 160, ... only: hidden 64 over 2 heads
# (1 KV head) is the default spec at head_dim 32.
VLLM_CPU_SPEC = TinyModelSpec(num_attention_heads=2, num_key_value_heads=1)



def _tokenizer_corpus() -> list[str]:
    """Text the BPE merges are learned from: coding-problem statements and Python, as the model will see."""
    texts = [p["problem"] for p in load_bundled_problems()]
    code = (
        "import sys\ndef main():\n    data = sys.stdin.read().split()\n    n = int(data[0])\n"
        "    print(sum(map(int, data[1:n + 1])))\nif __name__ == '__main__':\n    main()\n"
        "class Solution:\n    def solve(self, nums: list[int]) -> int:\n        return max(nums)\n"
        "for i in range(n):\n    a, b = map(int, input().split())\n    print(a + b)\n"
        "```python\n```\n0123456789 0 1 2 3 4 5 6 7 8 9 10 100 1000\n"
    )
    return texts + [code] * 20


def build_tokenizer(out_dir: Path, vocab_size: int, pad_vocab_to: int | None = None) -> None:
    """A byte-level BPE tokenizer with a ChatML template, learned from the bundled problems.

    `pad_vocab_to` grows the vocabulary to exactly that many ids with filler tokens (`<f123>`) that encoding never
    produces but decoding renders: a real-sized model (Qwen2.5's 151,936 ids) then never samples an id the
    tokenizer does not know, which inference engines' detokenizers do not forgive.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        # all 256 bytes, so any text (code, unicode, binary junk a model may emit) round-trips
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_tokenizer_corpus(), trainer=trainer)
    if pad_vocab_to is not None:
        tok = _pad_vocab(tok, pad_vocab_to)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        bos_token=None,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        unk_token=None,
        model_max_length=1 << 16,
    )
    fast.chat_template = CHATML_TEMPLATE
    fast.save_pretrained(out_dir)


def _pad_vocab(tok, size: int):
    from tokenizers import Tokenizer

    spec = json.loads(tok.to_str())
    vocab = spec["model"]["vocab"]
    if size < len(vocab):
        raise ValueError(f"pad_vocab_to={size} is smaller than the learned vocabulary ({len(vocab)} tokens)")
    vocab.update({f"<f{i}>": i for i in range(len(vocab), size)})
    return Tokenizer.from_str(json.dumps(spec))


def build_model(out_dir: Path, spec: TinyModelSpec, vocab_size: int, eos_token_id: int, pad_token_id: int) -> None:
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    config = Qwen2Config(
        vocab_size=vocab_size,
        hidden_size=spec.hidden_size,
        intermediate_size=spec.intermediate_size,
        num_hidden_layers=spec.num_hidden_layers,
        num_attention_heads=spec.num_attention_heads,
        num_key_value_heads=spec.num_key_value_heads,
        max_position_embeddings=spec.max_position_embeddings,
        tie_word_embeddings=True,
        eos_token_id=eos_token_id,
        pad_token_id=pad_token_id,
        bos_token_id=None,
        torch_dtype="float32",
    )
    torch.manual_seed(spec.seed)
    model = Qwen2ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos_token_id, pad_token_id=pad_token_id)
    model.save_pretrained(out_dir, safe_serialization=True)


def tiny_model_path(spec: TinyModelSpec = TinyModelSpec()) -> str:
    """Return the directory of the tiny model + tokenizer, building it on first use.

    """
    key = hashlib.sha256(json.dumps(asdict(spec), sort_keys=True).encode() + b"v1").hexdigest()[:12]

    def build(out_dir: Path) -> None:
        build_tokenizer(out_dir, spec.vocab_size)
        from transformers import AutoTokenizer

        tokenizer = AutoTokenizer.from_pretrained(out_dir)
        build_model(out_dir, spec, len(tokenizer), tokenizer.eos_token_id, tokenizer.pad_token_id)

    return build_cached(cache_root() / f"tiny-qwen2-{key}", build)


def build_cached(target: Path, build: Callable[[Path], None]) -> str:
    """Return `target`, building it with `build(dir)` first if it is not there yet.

    Safe when several processes ask at once: each builds into a private temp dir and the first atomic rename
    wins; the others discard their copy. A finished directory always has a config.json.
    """
    if (target / "config.json").exists():
        return str(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=target.name + ".tmp", dir=target.parent))
    try:
        build(tmp)
        try:
            os.rename(tmp, target)
        except OSError:  # another process won the race
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return str(target)
