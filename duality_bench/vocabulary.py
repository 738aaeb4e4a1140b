"""How words become tokens: the one place the word-boundary space is added.

A target is stored as a bare word ("left"); what a model must predict after a prompt is the
prompt followed by a space and the word. We tokenize `prompt + " " + word` and keep the tokens
after the prompt's own, so each tokenizer decides how the space attaches (GPT-2's "Ġleft",
SentencePiece's "▁left") and the prompt's special tokens (Gemma's <bos>) stay where they belong.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from duality_bench.records import PromptItem


def continuation_ids(tokenizer: Any, prompt: str, word: str, prompt_ids: Sequence[int] | None = None) -> list[int]:
    """Token ids of `" " + word` as they follow `prompt` (the prompt's ids are not included)."""
    if prompt_ids is None:
        prompt_ids = tokenizer(prompt)["input_ids"]
    full = tokenizer(prompt + " " + word)["input_ids"]
    n = len(prompt_ids)
    if full[:n] == list(prompt_ids) and len(full) > n:
        return full[n:]
    # The word merged with the prompt's last token; fall back to the word on its own.
    return tokenizer(" " + word, add_special_tokens=False)["input_ids"]


@dataclass(frozen=True)
class TokenizerReport:
    """How well a dataset fits a tokenizer."""

    items: int
    single_token: int  # target and distractor are one token each after the prompt
    aligned: int  # clean and corrupted prompts have the same number of tokens
    single_token_and_aligned: int

    def as_row(self) -> dict[str, int]:
        return {
            "items": self.items,
            "single_token": self.single_token,
            "aligned": self.aligned,
            "single_token_and_aligned": self.single_token_and_aligned,
        }


def report_tokenizer(tokenizer: Any, items: Iterable[PromptItem]) -> TokenizerReport:
    """Count items whose target and distractor are single tokens, and whose prompts align."""
    n = single = aligned = both = 0
    for item in items:
        ids = tokenizer(item.prompt)["input_ids"]
        one = all(len(continuation_ids(tokenizer, item.prompt, w, ids)) == 1 for w in (item.target, item.distractor))
        same = len(tokenizer(item.corrupted_prompt)["input_ids"]) == len(ids)
        n += 1
        single += one
        aligned += same
        both += one and same
    return TokenizerReport(items=n, single_token=single, aligned=aligned, single_token_and_aligned=both)


def load_tokenizer(path_or_id: str) -> Any:
    """A tokenizer from a local folder or hub id (transformers is imported only here)."""
    from pathlib import Path

    from transformers import AutoTokenizer, GPT2TokenizerFast

    from duality_bench.errors import DualityBenchError

    folder = Path(path_or_id)
    try:
        # A bare BPE folder (vocab.json + merges.txt, no config) is GPT-2's; AutoTokenizer
        # cannot tell which class to build from it.
        if (folder / "merges.txt").exists() and not (folder / "tokenizer_config.json").exists():
            return GPT2TokenizerFast.from_pretrained(folder)
        return AutoTokenizer.from_pretrained(path_or_id)
    except (OSError, ValueError) as e:
        first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise DualityBenchError(
            f"cannot load tokenizer {path_or_id!r}: {first} (give a local tokenizer folder or a reachable hub id)"
        ) from None
