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

from duality_bench.data.records import PromptItem
from duality_bench.errors import DualityBenchError


def continuation_ids(tokenizer: Any, prompt: str, word: str, prompt_ids: Sequence[int] | None = None) -> list[int]:
    """Token ids of `" " + word` as they follow `prompt` (the prompt's ids are not included)."""
    if prompt_ids is None:
        prompt_ids = tokenizer(prompt)["input_ids"]
    return continuation_ids_batch(tokenizer, [(prompt, prompt_ids, word)])[0]


def continuation_ids_batch(tokenizer: Any, requests: Sequence[tuple[str, Sequence[int], str]]) -> list[list[int]]:
    """`continuation_ids` for many (prompt, prompt_ids, word) at once, in one tokenizer call."""
    if not requests:
        return []
    fulls = tokenizer([prompt + " " + word for prompt, _, word in requests])["input_ids"]
    out = []
    for (_, prompt_ids, word), full in zip(requests, fulls, strict=True):
        n = len(prompt_ids)
        if full[:n] == list(prompt_ids) and len(full) > n:
            out.append(full[n:])
        else:
            # The word merged with the prompt's last token; fall back to the word on its own.
            out.append(tokenizer(" " + word, add_special_tokens=False)["input_ids"])
    return out


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
    items = list(items)
    clean = tokenizer([i.prompt for i in items])["input_ids"]
    corrupted = tokenizer([i.corrupted_prompt for i in items])["input_ids"]
    requests = [(i.prompt, ids, w) for i, ids in zip(items, clean, strict=True) for w in (i.target, i.distractor)]
    lengths = [len(c) for c in continuation_ids_batch(tokenizer, requests)]
    single = [lengths[2 * n] == 1 == lengths[2 * n + 1] for n in range(len(items))]
    aligned = [len(a) == len(b) for a, b in zip(clean, corrupted, strict=True)]
    return TokenizerReport(
        items=len(items),
        single_token=sum(single),
        aligned=sum(aligned),
        single_token_and_aligned=sum(s and a for s, a in zip(single, aligned, strict=True)),
    )


def load_tokenizer(path_or_id: str) -> Any:
    """A tokenizer from a local folder or hub id (transformers is imported only here)."""
    from pathlib import Path

    from transformers import AutoTokenizer, GPT2TokenizerFast

    folder = Path(path_or_id)
    if not folder.exists() and (path_or_id.startswith((".", "/", "~")) or path_or_id.count("/") > 1):
        raise DualityBenchError(f"no tokenizer folder {path_or_id}; give a tokenizer folder or a hub id")
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
