"""Write the leaderboard's two reference rows as real results files.

- chance (`baseline/random-gpt2-small`): GPT-2 Small's architecture (transformers' `GPT2Config()`)
  with random weights from a fixed seed and GPT-2's real tokenizer, evaluated by
  `duality_bench.evaluation.run.evaluate` exactly like any other model.
- word frequency (`baseline/frequency`): a unigram model over English word frequencies (the
  wordfreq package). It scores a word by its log frequency and never reads the prompt, so it
  always prefers the more frequent word of a pair.
- copy (`baseline/copy`): always prefers the cue, the word it just read, and has no preference
  among the others: 0 on "dual above the cue", a tie (half credit) on "dual above the control"
  and "dual above the related word". It shows how much of a score is merely not copying.

The related word is scored like the control word by both word-level rows. Calibrated scores
(after the neutral prompt, which holds no cue): the frequency row ignores every context, so its
words score the same after the neutral prompt and its calibrated difference is 0, a tie; the
copy row has no cue to copy there and gives every word the same small share, so its calibrated
difference is what it was, the cue far above the dual.

The word-level rows are scorers (`evaluation.scorer.Scorer`), so all three go through
`evaluate` like any model:

    duality-bench baselines --config all --out leaderboard/results

Then `duality-bench leaderboard` ranks them with the models.
"""

from __future__ import annotations

import bisect
import math
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from duality_bench.data.dataset import check_config
from duality_bench.data.records import PromptItem
from duality_bench.errors import DualityBenchError
from duality_bench.evaluation.run import EvalConfig, evaluate
from duality_bench.models.loading import load_model
from duality_bench.results import REFERENCE_PREFIX, ItemScore, ModelInfo, default_result_path

GPT2_TOKENIZER = Path("data/gpt2-tokenizer")  # the checkout's copy, relative to the working directory
SEED = 0
CHANCE_ID = f"{REFERENCE_PREFIX}random-gpt2-small"
FREQUENCY_ID = f"{REFERENCE_PREFIX}frequency"
COPY_ID = f"{REFERENCE_PREFIX}copy"
ROWS = ("frequency", "copy", "chance")
FLOOR = 1e-9  # frequency of a word wordfreq does not know (its lists stop near 1e-8)


def save_random_gpt2(folder: str | Path, tokenizer_dir: Path = GPT2_TOKENIZER, seed: int = SEED) -> Path:
    """GPT-2 Small's architecture (`GPT2Config()`) with random weights from `seed` and GPT-2's
    real tokenizer, saved as a model folder: chance, and GPT-2 Small's exact cost."""
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    if not (Path(tokenizer_dir) / "vocab.json").exists():
        raise DualityBenchError(
            f"no GPT-2 tokenizer folder at {tokenizer_dir} (vocab.json + merges.txt); pass --tokenizer"
        )
    torch.manual_seed(seed)
    GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
    GPT2TokenizerFast.from_pretrained(tokenizer_dir).save_pretrained(folder)
    return Path(folder)


def chance_baseline(config: str, out: Path, tokenizer_dir: Path = GPT2_TOKENIZER, seed: int = SEED) -> Path:
    """Evaluate a random-weight GPT-2 Small with GPT-2's tokenizer; return the results file."""
    import torch

    path = default_result_path(CHANCE_ID, config, out)
    with tempfile.TemporaryDirectory(prefix="random-gpt2-") as folder:
        loaded = load_model(str(save_random_gpt2(folder, tokenizer_dir, seed)), dtype="float32")
        loaded = replace(
            loaded,
            id=CHANCE_ID,
            spec="GPT2Config() with random weights",
            revision=f"random init: GPT2Config(), torch.manual_seed({seed}), torch {torch.__version__}",
        )
        evaluate(loaded, EvalConfig(dataset=config, output=path, overwrite=True))
    return path


class Unigram:
    """English word frequencies as a language model that ignores its context."""

    def __init__(self) -> None:
        import wordfreq

        self.wordfreq = wordfreq
        self.sorted_freqs = sorted(wordfreq.get_frequency_dict("en").values())  # ascending
        self._logprob: dict[str, float] = {}

    @property
    def n_words(self) -> int:
        return len(self.sorted_freqs)

    def logprob(self, word: str) -> float:
        if word not in self._logprob:
            self._logprob[word] = math.log(self.wordfreq.word_frequency(word, "en", minimum=FLOOR))
        return self._logprob[word]

    def rank(self, word: str) -> int:
        """How many words of the list are more frequent than `word` (0: the most frequent)."""
        freq = self.wordfreq.word_frequency(word, "en", minimum=FLOOR)
        return self.n_words - bisect.bisect_right(self.sorted_freqs, freq)

    def score(self, item: PromptItem) -> ItemScore:
        target, distractor = self.logprob(item.target), self.logprob(item.distractor)
        control, related = (self.logprob(w) if w else None for w in (item.control, item.related))  # None: no such word
        others = sorted(((self.logprob(w), w) for w in item.other_duals), reverse=True)
        rank = self.rank(item.target)
        neutral = bool(item.neutral_prompt)  # no context changes a unigram's log-likelihoods
        return ItemScore(
            item_id=item.id,
            target_logit=target,
            distractor_logit=distractor,
            target_logprob=target,
            distractor_logprob=distractor,
            logit_diff=target - distractor,
            target_rank=rank,
            top1=rank == 0,
            single_token=True,  # the unigram model's units are whole words
            control_logprob=control,
            control_diff=target - control if control is not None else None,
            other_dual=others[0][1] if others else None,
            other_dual_logprob=others[0][0] if others else None,
            related_logprob=related,
            related_diff=target - related if related is not None else None,
            target_neutral_logprob=target if neutral else None,
            distractor_neutral_logprob=distractor if neutral else None,
            calibrated_diff=0.0 if neutral else None,
        )


def copy_score(item: PromptItem) -> ItemScore:
    """The cue gets all the probability; every other word the same small share (and, after the
    neutral prompt, which has no cue, every word does)."""
    low = math.log(FLOOR)
    neutral = bool(item.neutral_prompt)
    return ItemScore(
        item_id=item.id,
        target_logit=low,
        distractor_logit=0.0,
        target_logprob=low,
        distractor_logprob=0.0,
        logit_diff=low,
        target_rank=1,
        top1=False,
        single_token=True,
        control_logprob=low if item.control else None,
        control_diff=0.0 if item.control else None,
        other_dual=item.other_duals[0] if item.other_duals else None,
        other_dual_logprob=low if item.other_duals else None,
        related_logprob=low if item.related else None,
        related_diff=0.0 if item.related else None,
        target_neutral_logprob=low if neutral else None,
        distractor_neutral_logprob=low if neutral else None,
        calibrated_diff=(low - low) - (0.0 - low) if neutral else None,
    )


@dataclass(frozen=True)
class WordRequest:
    """An item for a word-level scorer: its units are whole words, so every item is 'single-token'."""

    item: PromptItem
    single_token: bool = True


class WordScorer:
    """A reference row that scores whole words without a network: `Unigram` or the copy row."""

    def __init__(self, row: str) -> None:
        from importlib.metadata import version

        if row == "frequency":
            unigram = Unigram()
            self.score_item = unigram.score
            revision = f"wordfreq=={version('wordfreq')} (en, best)"
            self.info = ModelInfo(
                FREQUENCY_ID, "wordfreq unigram", revision, "float64", "cpu", None,
                f"unigram over {unigram.n_words} English words (wordfreq)",
            )  # fmt: skip
        elif row == "copy":
            self.score_item = copy_score
            self.info = ModelInfo(COPY_ID, "prefers the cue", "1", "float64", "cpu", None, "always prefers the cue")
        else:
            raise DualityBenchError(f"unknown word-level row {row!r}; choose frequency or copy")

    def prepare(self, items: Sequence[PromptItem]) -> list[WordRequest]:
        return [WordRequest(item) for item in items]

    def score(self, requests: Sequence[WordRequest], on_batch: Callable[[list[ItemScore]], None]) -> None:
        for start in range(0, len(requests), 4096):
            on_batch([self.score_item(r.item) for r in requests[start : start + 4096]])


def word_baseline(row: str, config: str, out: Path, dataset_dir: Path | None = None) -> Path:
    """Score every item of `config` with a word-level row (frequency or copy); write a results file."""
    scorer = WordScorer(row)
    path = default_result_path(scorer.info.id, config, out)
    options = EvalConfig(dataset=config, output=path, dataset_dir=dataset_dir, overwrite=True, progress=False)
    evaluate(scorer, options)
    return path


def write_baselines(rows: Sequence[str], dataset: str, out: Path, tokenizer_dir: Path = GPT2_TOKENIZER) -> list[Path]:
    """Write the named reference rows' results files (frequency, copy, chance) under `out`."""
    check_config(dataset)
    unknown = sorted(set(rows) - set(ROWS))
    if unknown:
        raise DualityBenchError(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
    return [
        chance_baseline(dataset, out, tokenizer_dir) if row == "chance" else word_baseline(row, dataset, out)
        for row in rows
    ]
