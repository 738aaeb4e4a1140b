"""The scorer boundary: what the evaluator needs of anything it scores.

Like lm-evaluation-harness's `LM` class, a scorer says what it is (`info`, for provenance),
turns items into requests (`prepare`: tokenizing, for a language model) and scores requests in
batches, handing each batch's `ItemScore`s back as they finish (`score`), so a run can be
resumed from what was handed back. `ModelScorer` is a Hugging Face causal LM; the reference
rows in `evaluation.baselines` are scorers too, and a new backend (vLLM, an API model) is one
class.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from duality_bench.data.records import PromptItem
from duality_bench.evaluation.scoring import prepare, score_all
from duality_bench.models.loading import LoadedModel
from duality_bench.results import ItemScore, ModelInfo

AUTO_BATCH = {"cpu": 64, "mps": 128, "cuda": 512}


class Request(Protocol):
    """One item, ready for its scorer."""

    item: PromptItem

    @property
    def single_token(self) -> bool: ...  # target and distractor are one unit each (token, word) for this scorer


class Scorer(Protocol):
    info: ModelInfo

    def prepare(self, items: Sequence[PromptItem]) -> Sequence[Request]: ...

    def score(self, requests: Sequence[Any], on_batch: Callable[[list[ItemScore]], None]) -> None: ...


@dataclass
class ModelScorer:
    """A loaded Hugging Face causal LM, scored in length-sorted batches with its KV cache."""

    loaded: LoadedModel
    batch_size: int | None = None  # None: start large and halve on out-of-memory

    @property
    def info(self) -> ModelInfo:
        m = self.loaded
        return ModelInfo(m.id, m.spec, m.revision, m.dtype, m.device, m.n_params, m.architecture)

    def prepare(self, items: Sequence[PromptItem]) -> Sequence[Request]:
        return prepare(self.loaded.tokenizer, items)

    def score(self, requests: Sequence[Any], on_batch: Callable[[list[ItemScore]], None]) -> None:
        m = self.loaded
        size = self.batch_size or AUTO_BATCH.get(m.device.split(":")[0], 64)
        auto = self.batch_size is None
        score_all(m.model, m.tokenizer.pad_token_id, m.device, requests, batch_size=size, on_batch=on_batch, auto=auto)
