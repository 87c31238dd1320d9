"""Build a tiny, deterministic Qwen3-family model for offline CPU runs.

The model is random and useless for real work; it exists so that `swift sft`,
`swift export` and `swift deploy` can run for real on a 2-core machine with no
network. Same inputs give byte-identical files, so the pipeline's fingerprints
are stable across machines.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tokenizers import Tokenizer

# Bumped whenever the builder's output changes, so older builds are rebuilt.
VERSION = 2
MARKER = "swiftpipe-tiny.json"
MODEL_TYPE = "qwen3"
TEMPLATE = "qwen3"

# The ChatML markers must be single tokens or the qwen3 template tokenises badly.
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<think>", "</think>"]

# A fixed corpus so the BPE merges are the same everywhere: ASCII, some
# Chinese and German, digits, and the role words the chat template emits.
_CORPUS = [
    "system user assistant tool You are a helpful assistant.",
    "The quick brown fox jumps over the lazy dog. 0123456789 + - * / = ?",
    "What is the capital of France? The capital of France is Paris.",
    "Wie geht es dir? Mir geht es gut, danke. Die Antwort ist richtig.",
    "你好，我最近压力很大，睡不着觉。别担心，我们一起想办法。谢谢你的倾听。",
    "Let me think step by step. First, second, therefore the answer is A B C D.",
    "def add(a, b): return a + b  # python code {\"json\": [1, 2, 3]}",
]

_CHAT_TEMPLATE = (
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


def train_bpe(corpus: list[str], vocab_size: int) -> Tokenizer:
    """A byte-level BPE tokenizer with the ChatML specials, trained on `corpus` (deterministic)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    bpe = Tokenizer(models.BPE(unk_token=None))
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    bpe.train_from_iterator(corpus, trainer=trainer)
    return bpe


def build_tiny_model(out_dir: Path, *, seed: int = 0) -> Path:
    """Write a tokenizer and a 2-layer Qwen3 model into `out_dir`; return it.

    Imports torch/transformers lazily: the CLI must stay fast without them.
    """
    import torch
    from transformers import PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    out_dir.mkdir(parents=True, exist_ok=True)
    bpe = train_bpe(_CORPUS * 4, vocab_size=512)
    tok = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>"
    )
    tok.chat_template = _CHAT_TEMPLATE
    tok.save_pretrained(out_dir)

    torch.manual_seed(seed)
    config = Qwen3Config(
        vocab_size=len(tok),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=2048,
        # Larger than the usual 0.02: with tied embeddings behind a fixed RMSNorm, small
        # embeddings cap the logits near +-1, and LoRA alone could never fit anything.
        initializer_range=0.1,
        tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
        dtype="float32",
    )
    Qwen3ForCausalLM(config).save_pretrained(out_dir, safe_serialization=True)
    _write_marker(out_dir, seed)
    return out_dir


def _write_marker(out_dir: Path, seed: int) -> None:
    # Written last: its presence means the directory is complete.
    marker = {"builder": "swiftpipe.msswift.tinymodel", "version": VERSION, "seed": seed, "model_type": MODEL_TYPE}
    (out_dir / MARKER).write_text(json.dumps(marker, indent=2) + "\n")


def is_current(out_dir: Path) -> bool:
    """True when `out_dir` holds a complete tiny model from this version of the builder."""
    try:
        marker = json.loads((out_dir / MARKER).read_text())
    except (OSError, ValueError):
        return False
    return isinstance(marker, dict) and marker.get("version") == VERSION
