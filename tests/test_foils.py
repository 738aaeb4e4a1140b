"""The related-word foil and calibrated (neutral-prompt) scores on tiny random models.

Each log-likelihood is checked against one plain forward pass over prompt + continuation; the
calibrated differences must not move with batch size, must be exactly 0 where the neutral prompt
is the prompt, and each (neutral prompt, word) must be scored once per run, in the batch's own
passes: as a row of the prompt pass, or on the KV cache of an item's prompt that shares its start.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest
import torch

import duality_bench.evaluation.scoring as scoring
from duality_bench.data.records import PromptItem
from duality_bench.data.vocabulary import continuation_ids
from duality_bench.evaluation import neutral
from duality_bench.evaluation.neutral import Row
from duality_bench.evaluation.scoring import prepare, score_all, score_batch
from duality_bench.models.loading import load_model

WENT, WENT_NEUTRAL = "First it went {}, then it went", "First it went somewhere, then it went"
OPPOSITE, OPPOSITE_NEUTRAL = "The opposite of {} is", "The opposite of something is"
FRONT, FRONT_NEUTRAL = "{} was one word and the other was", "something was one word and the other was"


def _item(n: int, template: str, neutral: str, cue: str, target: str, related: str = "", control: str = ""):
    prompt = template.format(cue)
    return PromptItem(
        id=f"item{n}",
        pair_id="-".join(sorted((cue, target))),
        template_id=template,
        category="test",
        source="curated",
        pos="a",
        cue=cue,
        target=target,
        distractor=cue,
        other_duals=(),
        prompt=prompt,
        corrupted_prompt=template.format(target),
        direction="a->b" if cue < target else "b->a",
        control=control,
        related=related,
        neutral_prompt=neutral,
    )


# Two templates whose items share a neutral prompt each (both directions of every pair), words of
# several tokens for GPT-2 (binucleate, trinucleate, multinucleate, unconventionally) among them,
# an item without a neutral prompt or related word, and one whose neutral prompt is its prompt.
ITEMS = [
    _item(0, WENT, WENT_NEUTRAL, "up", "down", "upward", "green"),
    _item(1, WENT, WENT_NEUTRAL, "down", "up", "downward", "table"),
    _item(2, WENT, WENT_NEUTRAL, "left", "right", "leftward"),
    _item(3, WENT, WENT_NEUTRAL, "right", "left", "", "blue"),
    _item(4, WENT, WENT_NEUTRAL, "in", "out", "inside"),
    _item(5, WENT, WENT_NEUTRAL, "out", "in", "outside", "chair"),
    _item(6, OPPOSITE, OPPOSITE_NEUTRAL, "binucleate", "trinucleate", "multinucleate", "hexagonal"),
    _item(7, OPPOSITE, OPPOSITE_NEUTRAL, "trinucleate", "binucleate", "multinucleate"),
    _item(8, OPPOSITE, OPPOSITE_NEUTRAL, "big", "small", "large", "blue"),
    _item(9, OPPOSITE, OPPOSITE_NEUTRAL, "small", "big", "little"),
    _item(10, OPPOSITE, OPPOSITE_NEUTRAL, "conventionally", "unconventionally", "usually"),
    _item(11, OPPOSITE, "", "hot", "cold"),  # an item of an old dataset: no neutral prompt, no related word
    _item(
        12, "hot -> cold\nearly -> late\n{} ->", "hot -> cold\nearly -> late\nsomething ->", "rich", "poor", "wealthy"
    ),
]
# Its neutral prompt shares no first token with a prompt: a row of its own.
ITEMS += [_item(14, FRONT, FRONT_NEUTRAL, "up", "down", "upward"), _item(15, FRONT, FRONT_NEUTRAL, "down", "up")]
SAME = _item(13, "I have two hands, my {} hand and my", "", "right", "left", "correct", "green")
ITEMS.append(replace(SAME, neutral_prompt=SAME.prompt))  # its neutral prompt is its prompt: calibrates to 0


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def tiny(request, tiny_gpt2_dir, tiny_llama_dir):
    folder = tiny_gpt2_dir if request.param == "gpt2" else tiny_llama_dir
    return load_model(str(folder), dtype="float32", device="cpu")


def _plain(model, tokenizer, prompt: str, word: str) -> float:
    """log p(" " + word | prompt) from one forward pass over prompt + continuation: no padding, no cache."""
    prompt_ids = tokenizer(prompt)["input_ids"]
    cont = continuation_ids(tokenizer, prompt, word, prompt_ids)
    with torch.no_grad():
        logprobs = model(torch.tensor([prompt_ids + cont]), use_cache=False).logits[0].float().log_softmax(-1)
    n = len(prompt_ids)
    return sum(float(logprobs[n - 1 + j, t]) for j, t in enumerate(cont))


def _score(tiny, prepared, batch_size: int) -> dict:
    got: list = []
    score_all(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared, batch_size=batch_size, on_batch=got.extend)
    return {s.item_id: s for s in got}


def test_prepare_tokenizes_related_words_and_neutral_prompts(gpt2_tokenizer):
    by_id = {p.item.id: p for p in prepare(gpt2_tokenizer, ITEMS)}
    assert len(by_id["item6"].related_ids) > 1  # multinucleate: several tokens, on the KV-cache pass
    assert by_id["item3"].related_ids == () and len(by_id["item3"].continuations) == 3  # target, cue, control
    assert len(by_id["item0"].continuations) == 4  # target, cue, control, related
    assert by_id["item0"].neutral_ids == by_id["item5"].neutral_ids != by_id["item6"].neutral_ids
    assert by_id["item11"].neutral_keys == () and by_id["item11"].neutral_ids == ()
    assert by_id["item13"].neutral_ids == by_id["item13"].prompt_ids
    assert by_id["item0"].neutral_target_ids == tuple(
        continuation_ids(gpt2_tokenizer, WENT_NEUTRAL, "down", gpt2_tokenizer(WENT_NEUTRAL)["input_ids"])
    )


@pytest.mark.parametrize("batch_size", [1, 5, len(ITEMS)])
def test_related_and_neutral_log_likelihoods_equal_plain_forward_passes(tiny, batch_size):
    scores = _score(tiny, prepare(tiny.tokenizer, ITEMS), batch_size)
    for item in ITEMS:
        s = scores[item.id]
        target, cue = (_plain(tiny.model, tiny.tokenizer, item.prompt, w) for w in (item.target, item.distractor))
        assert (s.target_logprob, s.distractor_logprob) == pytest.approx((target, cue), abs=1e-4)
        if item.related:
            related = _plain(tiny.model, tiny.tokenizer, item.prompt, item.related)
            assert s.related_logprob == pytest.approx(related, abs=1e-4)
            assert s.related_diff == pytest.approx(s.target_logprob - s.related_logprob, abs=1e-6)
        else:
            assert s.related_logprob is None and s.related_diff is None
        if not item.neutral_prompt:
            assert s.target_neutral_logprob is s.distractor_neutral_logprob is s.calibrated_diff is None
            continue
        t_neutral, d_neutral = (
            _plain(tiny.model, tiny.tokenizer, item.neutral_prompt, w) for w in (item.target, item.cue)
        )
        assert s.target_neutral_logprob == pytest.approx(t_neutral, abs=1e-4)
        assert s.distractor_neutral_logprob == pytest.approx(d_neutral, abs=1e-4)
        calibrated = (s.target_logprob - s.target_neutral_logprob) - (
            s.distractor_logprob - s.distractor_neutral_logprob
        )
        assert s.calibrated_diff == pytest.approx(calibrated, abs=1e-6)
        assert s.calibrated_diff == pytest.approx((target - t_neutral) - (cue - d_neutral), abs=2e-4)
    # A random model still tells the contexts apart: the calibration is not a constant.
    assert len({round(scores[i.id].calibrated_diff, 3) for i in ITEMS if i.neutral_prompt}) > 5


def test_calibrated_scores_do_not_depend_on_batch_size(tiny):
    prepared = prepare(tiny.tokenizer, ITEMS)
    runs = {bs: _score(tiny, prepared, bs) for bs in (1, 7, len(ITEMS))}
    fields = ("calibrated_diff", "target_neutral_logprob", "distractor_neutral_logprob", "related_logprob")
    for bs in (7, len(ITEMS)):
        for item_id, ref in runs[1].items():
            for field in fields:
                a, b = getattr(runs[bs][item_id], field), getattr(ref, field)
                assert (a is None) == (b is None), (bs, item_id, field)
                assert a is None or a == pytest.approx(b, abs=1e-4), (bs, item_id, field)


def test_a_neutral_prompt_equal_to_the_prompt_calibrates_to_exactly_zero(tiny):
    prepared = prepare(tiny.tokenizer, ITEMS)
    for bs in (1, 7, len(ITEMS)):
        s = _score(tiny, prepared, bs)["item13"]
        assert s.calibrated_diff == 0.0, bs
        assert (s.target_neutral_logprob, s.distractor_neutral_logprob) == (s.target_logprob, s.distractor_logprob)
    # Where the item's neutral prompt gives the words other log-likelihoods, its difference is not 0.
    assert _score(tiny, prepared, 7)["item0"].calibrated_diff != 0.0


def _count_passes(monkeypatch) -> list[tuple[list, list]]:
    """Record the rows and extensions of every scoring pass."""
    passes: list[tuple[list, list]] = []
    real = scoring.continuation_logprobs

    def counting(model, pad_id, device, batch, extensions=()):
        passes.append((list(batch), list(extensions)))
        return real(model, pad_id, device, batch, extensions)

    monkeypatch.setattr(scoring, "continuation_logprobs", counting)
    return passes


def test_each_neutral_prompt_and_word_is_scored_once_per_run(tiny, monkeypatch):
    prepared = prepare(tiny.tokenizer, ITEMS)
    wanted = {key for p in prepared for key in p.neutral_keys}
    own = {(p.prompt_ids, c) for p in prepared for c in p.continuations}
    neutral_of = {p.item.id: p.neutral_ids for p in prepared}
    few_shot, front = neutral_of["item12"], neutral_of["item14"]
    for bs in (1, 4, len(ITEMS)):
        passes = _count_passes(monkeypatch)
        _score(tiny, prepared, bs)
        assert len(passes) == -(-len(ITEMS) // bs)  # one pass per batch: the neutral prompts ride along
        rows = [(r.prompt_ids, c) for batch, _ in passes for r in batch if isinstance(r, Row) for c in r.continuations]
        # An extension goes on from its item's first tokens: together with its stem, they are the neutral prompt.
        extended = [(batch[e.row].prompt_ids[: e.keep] + e.stem, e.cont) for batch, ext in passes for e in ext]
        scored = rows + extended
        assert len(scored) == len(set(scored))  # nothing twice, across batches too
        assert set(scored) == wanted - own  # item13's words are read from its own prompt's row
        # The few-shot neutral prompt shares all but two tokens with its item's prompt: it goes on from
        # that prompt's cache. The one that shares no first token with any prompt is a row of its own.
        assert few_shot in {prompt for prompt, _ in extended} and few_shot not in {prompt for prompt, _ in rows}
        assert front in {prompt for prompt, _ in rows} and front not in {prompt for prompt, _ in extended}
        for batch, ext in passes:  # one place to go on from per neutral prompt in a batch: one stem for its words
            starts = {(e.row, e.keep, e.stem) for e in ext}
            assert len(starts) == len({batch[e.row].prompt_ids[: e.keep] + e.stem for e in ext})
        for batch, _ in passes:  # at most one row per distinct neutral prompt in a batch
            prompts = [r.prompt_ids for r in batch if isinstance(r, Row)]
            assert len(prompts) == len(set(prompts))
    # Every item of a template shares one neutral prompt: 5 prompts for the 15 items that have one.
    assert len({p.neutral_ids for p in prepared if p.neutral_ids}) == 5


def test_score_batch_alone_scores_the_neutral_prompts_it_needs(tiny):
    """Without a run's cache (as tests and scripts call it), a batch still fills in every calibrated score."""
    prepared = prepare(tiny.tokenizer, ITEMS)
    alone = {s.item_id: s for s in score_batch(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared)}
    run = _score(tiny, prepared, 3)
    for item in ITEMS:
        a, b = alone[item.id].calibrated_diff, run[item.id].calibrated_diff
        assert (a is None) == (not item.neutral_prompt) and (a is None or a == pytest.approx(b, abs=1e-4))


@dataclass(frozen=True)
class _Fake:
    """What `neutral.plan` reads of an item: its prompt, its continuations and its neutral keys."""

    prompt_ids: tuple[int, ...]
    continuations: tuple[tuple[int, ...], ...]
    neutral_keys: tuple[tuple[tuple[int, ...], tuple[int, ...]], ...]


def _fake(prompt: tuple[int, ...], neutral: tuple[int, ...]) -> _Fake:
    return _Fake(prompt, ((1,), (2,)), ((neutral, (1,)), (neutral, (2,))))


def test_plan_weighs_a_long_stem_against_the_padding_it_would_cause():
    """Eight items whose neutral prompts differ from their prompts in the last token (stem 1) and one
    whose neutral prompt differs after its first token (stem 11): alone, that one goes on from its
    prompt's cache; among the eight, it would pad their eight rows to 11 tokens, so it is a row."""
    short = [_fake((7, 8, 9, n), (7, 8, 9, 500 + n)) for n in range(8)]
    long = _fake(tuple(range(100, 112)), (100, *range(200, 211)))
    rows, extensions = neutral.plan([long], set())
    assert rows == [] and [e.stem for _, e in extensions] == [tuple(range(200, 211))] * 2
    rows, extensions = neutral.plan([long, *short], set())
    assert [r.prompt_ids for r in rows] == [long.neutral_keys[0][0]]
    assert {e.stem for _, e in extensions} == {(500 + n,) for n in range(8)} and len(extensions) == 16
    assert {e.keep for _, e in extensions} == {3}  # the first three tokens are shared
    # Once the eight are scored (earlier in the run), nothing is left to pad: the long one goes on from its cache.
    rows, extensions = neutral.plan([long, *short], {key for p in short for key in p.neutral_keys})
    assert rows == [] and {(e.row, e.keep, e.stem) for _, e in extensions} == {(0, 1, tuple(range(200, 211)))}
