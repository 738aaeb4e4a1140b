"""Write the leaderboard's two reference rows as real results files.

- chance (`baseline/random-gpt2-small`): GPT-2 Small's architecture (transformers' `GPT2Config()`)
  with random weights from a fixed seed and GPT-2's real tokenizer, evaluated by
  `duality_bench.evaluation.run.evaluate` exactly like any other model.
- word frequency (`baseline/frequency`): a unigram model over English word frequencies (the
  wordfreq package). It scores a word by its log frequency and never reads the prompt, so it
  always prefers the more frequent word of a pair.
- copy (`baseline/copy`): always prefers the cue, the word it just read, and has no preference
  among the others: 0 on "dual above the cue", a tie (half credit) on "dual above the control".
  It shows how much of a score is merely not copying.

The word-level rows' metrics come from the same `duality_bench.evaluation.metrics` functions, through the
evaluator's own result builder.

    python scripts/make_baselines.py --config all --out leaderboard/results

Then `duality-bench leaderboard` ranks them with the models.
"""

from __future__ import annotations

import argparse
import bisect
import math
import sys
from pathlib import Path
from types import SimpleNamespace

from duality_bench.data.records import ItemScore, PromptItem

REPO = Path(__file__).resolve().parents[1]
GPT2_TOKENIZER = REPO / "data" / "gpt2-tokenizer"
SEED = 0
CHANCE_ID = "baseline/random-gpt2-small"
FREQUENCY_ID = "baseline/frequency"
COPY_ID = "baseline/copy"
ROWS = ("frequency", "copy", "chance")
FLOOR = 1e-9  # frequency of a word wordfreq does not know (its lists stop near 1e-8)


def chance_baseline(config: str, out: Path, tokenizer_dir: Path = GPT2_TOKENIZER, seed: int = SEED) -> Path:
    """Evaluate a random-weight GPT-2 Small with GPT-2's tokenizer; return the results file."""
    import tempfile
    from dataclasses import replace

    import torch
    from transformers import GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

    from duality_bench.evaluation.models import load_model
    from duality_bench.evaluation.run import EvalConfig, evaluate
    from duality_bench.results import default_result_path

    if not (Path(tokenizer_dir) / "vocab.json").exists():
        sys.exit(f"error: no GPT-2 tokenizer folder at {tokenizer_dir} (vocab.json + merges.txt); pass --tokenizer")
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(GPT2Config())
    tokenizer = GPT2TokenizerFast.from_pretrained(tokenizer_dir)
    path = default_result_path(CHANCE_ID, config, out)
    with tempfile.TemporaryDirectory(prefix="random-gpt2-") as folder:
        model.save_pretrained(folder)
        tokenizer.save_pretrained(folder)
        del model
        loaded = load_model(folder, dtype="float32")
        loaded = replace(
            loaded,
            id=CHANCE_ID,
            spec="GPT2Config() with random weights",
            revision=f"random init: GPT2Config(), torch.manual_seed({seed}), torch {torch.__version__}",
        )
        evaluate(loaded, EvalConfig(config=config, output=path, overwrite=True))
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
        target, distractor, control = (self.logprob(w) for w in (item.target, item.distractor, item.control))
        others = sorted(((self.logprob(w), w) for w in item.other_duals), reverse=True)
        rank = self.rank(item.target)
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
            control_diff=target - control,
            other_dual=others[0][1] if others else None,
            other_dual_logprob=others[0][0] if others else None,
        )


def copy_score(item: PromptItem) -> ItemScore:
    """The cue gets all the probability; every other word the same small share."""
    low = math.log(FLOOR)
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
        control_logprob=low,
        control_diff=0.0,
        other_dual=item.other_duals[0] if item.other_duals else None,
        other_dual_logprob=low if item.other_duals else None,
    )


def word_baseline(row: str, config: str, out: Path, dataset_dir: Path | None = None) -> Path:
    """Score every item of `config` with a word-level row (frequency or copy); write a results file."""
    from importlib.metadata import version

    from duality_bench.data.dataset import file_sha256, load_items, parquet_path
    from duality_bench.evaluation.run import EvalConfig, items_digest, summarize_run
    from duality_bench.results import default_result_path, items_path, save_result, write_items_file

    items = load_items(config, dataset_dir)
    dataset_sha = file_sha256(parquet_path(config, dataset_dir))
    if row == "frequency":
        unigram = Unigram()
        scores = [unigram.score(item) for item in items]
        model_id, spec, revision = FREQUENCY_ID, "wordfreq unigram", f"wordfreq=={version('wordfreq')} (en, best)"
        architecture = f"unigram over {unigram.n_words} English words (wordfreq)"
    else:
        scores = [copy_score(item) for item in items]
        model_id, spec, revision, architecture = COPY_ID, "prefers the cue", "1", "always prefers the cue"
    path = default_result_path(model_id, config, out)
    model = SimpleNamespace(
        id=model_id,
        spec=spec,
        revision=revision,
        dtype="float64",
        device="cpu",
        n_params=None,  # not a network: kept off the parameter-count axis
        architecture=architecture,
    )
    eval_config = EvalConfig(config=config, output=path, dataset_dir=dataset_dir, overwrite=True)
    header = {
        "fingerprint": {
            "model": model_id,
            "revision": revision,
            "config": config,
            "items_sha256": items_digest(items),
            "dataset_sha256": dataset_sha,
        },
        "complete": True,
    }
    write_items_file(items_path(path), header, scores)
    result = summarize_run(model, eval_config, items, scores, [], dataset_sha, items_path(path))
    save_result(result, path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write the chance, word-frequency and copy reference rows.")
    parser.add_argument("--config", default="all", help="dataset config (default: all)")
    parser.add_argument("--out", type=Path, default=Path("leaderboard/results"), help="results folder")
    parser.add_argument("--tokenizer", type=Path, default=GPT2_TOKENIZER, help="GPT-2 tokenizer folder")
    parser.add_argument("--rows", default=",".join(ROWS), help=f"which rows to write (default: {','.join(ROWS)})")
    args = parser.parse_args(argv)
    from duality_bench.data.dataset import check_config
    from duality_bench.errors import DualityBenchError

    try:
        check_config(args.config)
        rows = [r.strip() for r in args.rows.split(",")]
        unknown = sorted(set(rows) - set(ROWS))
        if unknown:
            raise DualityBenchError(f"unknown rows {unknown}; choose from {', '.join(ROWS)}")
        for row in rows:
            if row == "chance":
                print(f"wrote {chance_baseline(args.config, args.out, args.tokenizer)}", flush=True)
            else:
                print(f"wrote {word_baseline(row, args.config, args.out)}", flush=True)
    except DualityBenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
