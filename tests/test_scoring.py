"""The scorer on tiny random models: prefix-reuse log-probs equal plain forward passes, batch-size invariance."""

from __future__ import annotations

import pytest
import torch

from duality_bench.data.records import PromptItem
from duality_bench.evaluation.scoring import batches, continuation_logprobs, prepare, score_all, score_batch
from duality_bench.models.loading import load_model


def _item(n: int, prompt: str, target: str, distractor: str, others: tuple[str, ...] = (), control: str = ""):
    return PromptItem(
        id=f"item{n}",
        pair_id=f"{distractor}-{target}",
        template_id="t",
        category="test",
        source="curated",
        pos="a",
        cue=distractor,
        target=target,
        distractor=distractor,
        other_duals=others,
        prompt=prompt,
        corrupted_prompt=prompt.replace(distractor, target),
        direction="a->b",
        control=control,
    )


# Words GPT-2 splits into several tokens (trinucleate, binucleate, unconventionally, ...) next to
# single-token ones; prompts of different lengths, so padding is exercised on both passes.
ITEMS = [
    _item(0, "I have two hands, my right hand and my", "left", "right", ("wrong",), "green"),
    _item(1, "The opposite of binucleate is", "trinucleate", "binucleate", ("unconventionally", "up"), "hexagonal"),
    _item(2, "Hot is to cold as up is to", "down", "up"),
    _item(3, "The cell was not trinucleate; it was", "binucleate", "trinucleate", (), "conventionally"),
    _item(4, "No", "conventionally", "unconventionally", ("yes", "trinucleate")),
    _item(
        5,
        "A long prompt that ends, as everyone who reads it knows, with the opposite of rich, which is",
        "poor",
        "rich",
    ),
    _item(6, "The opposite of big is", "small", "big", ("antidisestablishmentarianism",), "blue"),
    _item(7, "The opposite of inside is", "outside", "inside", (), "table"),
]


@pytest.fixture(scope="module", params=["gpt2", "llama"])
def tiny(request, tiny_gpt2_dir, tiny_llama_dir):
    folder = tiny_gpt2_dir if request.param == "gpt2" else tiny_llama_dir
    return load_model(str(folder), dtype="float32", device="cpu")


@pytest.fixture(scope="module")
def prepared(gpt2_tokenizer):
    return prepare(gpt2_tokenizer, ITEMS)


def test_prepare_tokenizes_every_word(prepared):
    lengths = {len(c) for p in prepared for c in p.continuations}
    assert 1 in lengths and max(lengths) >= 3, lengths
    assert len({len(p.prompt_ids) for p in prepared}) > 2
    by_id = {p.item.id: p for p in prepared}
    assert by_id["item0"].single_token and not by_id["item1"].single_token
    assert len(by_id["item1"].continuations) == 5  # target, distractor, control, two other duals
    assert by_id["item4"].control_ids == () and len(by_id["item4"].continuations) == 4
    assert [w for w, _ in by_id["item1"].other_ids] == ["unconventionally", "up"]


def _plain_logprob(model, prompt_ids, cont) -> float:
    """One full forward pass over prompt + continuation: no padding, no cache."""
    ids = torch.tensor([list(prompt_ids) + list(cont)])
    with torch.no_grad():
        logprobs = model(ids, use_cache=False).logits[0].float().log_softmax(-1)  # [seq, vocab]
    n = len(prompt_ids)
    return sum(float(logprobs[n - 1 + j, t]) for j, t in enumerate(cont))


def test_continuation_logprobs_equal_plain_forward_passes(tiny, prepared):
    _, total = continuation_logprobs(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared)
    conts = [(p.prompt_ids, c) for p in prepared for c in p.continuations]
    assert total.shape == (len(conts),)
    for (prompt_ids, cont), got in zip(conts, total.tolist(), strict=True):
        assert got == pytest.approx(_plain_logprob(tiny.model, prompt_ids, cont), abs=1e-4)


def test_item_scores_match_plain_forward_passes(tiny, prepared):
    scores = score_batch(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared)
    assert [s.item_id for s in scores] == [p.item.id for p in prepared]
    for p, s in zip(prepared, scores, strict=True):
        plain = {w: _plain_logprob(tiny.model, p.prompt_ids, c) for w, c in p.other_ids}
        assert s.target_logprob == pytest.approx(_plain_logprob(tiny.model, p.prompt_ids, p.target_ids), abs=1e-4)
        assert s.distractor_logprob == pytest.approx(
            _plain_logprob(tiny.model, p.prompt_ids, p.distractor_ids), abs=1e-4
        )
        if p.item.control:
            control = _plain_logprob(tiny.model, p.prompt_ids, p.control_ids)
            assert s.control_logprob == pytest.approx(control, abs=1e-4)
            assert s.control_diff == pytest.approx(s.target_logprob - s.control_logprob, abs=1e-6)
        else:
            assert s.control_logprob is None and s.control_diff is None
        if plain:
            assert s.other_dual == max(plain, key=plain.get)
            assert s.other_dual_logprob == pytest.approx(plain[s.other_dual], abs=1e-4)
        else:
            assert s.other_dual is None and s.other_dual_logprob is None


def test_single_and_multi_token_fields(tiny, prepared):
    scores = score_batch(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared)
    assert {s.single_token for s in scores} == {True, False}
    for p, s in zip(prepared, scores, strict=True):
        ids = torch.tensor([p.prompt_ids])
        with torch.no_grad():
            logits = tiny.model(ids).logits[0, -1].float()  # [vocab]
        assert s.target_logit == pytest.approx(float(logits[p.target_ids[0]]), abs=1e-4)
        assert s.distractor_logit == pytest.approx(float(logits[p.distractor_ids[0]]), abs=1e-4)
        if p.single_token:
            assert s.logit_diff == pytest.approx(s.target_logprob - s.distractor_logprob, abs=1e-4)
            assert s.logit_diff == pytest.approx(s.target_logit - s.distractor_logit, abs=1e-6)
            assert s.target_rank == int((logits > logits[p.target_ids[0]]).sum())
            assert s.top1 == (s.target_rank == 0)
        else:
            assert s.target_rank is None and s.top1 is None
            assert s.logit_diff == pytest.approx(s.target_logprob - s.distractor_logprob, abs=1e-6)


def test_scores_do_not_depend_on_batch_size(tiny, prepared):
    runs = {}
    for bs in (1, 3, 64):
        got = []
        score_all(tiny.model, tiny.tokenizer.pad_token_id, "cpu", prepared, batch_size=bs, on_batch=got.extend)
        runs[bs] = {s.item_id: s for s in got}
    assert runs[1].keys() == runs[3].keys() == runs[64].keys() == {p.item.id for p in prepared}
    fields = ("target_logit", "distractor_logit", "target_logprob", "distractor_logprob", "logit_diff")
    for bs in (3, 64):
        for item_id, ref in runs[1].items():
            other = runs[bs][item_id]
            for field in fields:
                assert getattr(other, field) == pytest.approx(getattr(ref, field), abs=1e-4), (bs, item_id, field)
            for field in ("control_logprob", "other_dual_logprob"):
                a, b = getattr(other, field), getattr(ref, field)
                assert (a is None) == (b is None) and (a is None or a == pytest.approx(b, abs=1e-4))
            assert (other.target_rank, other.top1, other.other_dual) == (ref.target_rank, ref.top1, ref.other_dual)


def test_batches_are_length_sorted_and_full(prepared):
    got = list(batches(prepared, 3))
    assert [len(b) for b in got] == [3, 3, 2]
    keys = [(len(p.prompt_ids), max(len(c) for c in p.continuations)) for b in got for p in b]
    assert keys == sorted(keys, reverse=True)
    assert sorted(p.item.id for b in got for p in b) == sorted(p.item.id for p in prepared)


def test_single_token_batch_needs_one_pass(tiny, prepared, monkeypatch):
    """A batch whose continuations are all one token never runs the continuation pass."""
    import duality_bench.evaluation.scoring as scoring

    def no_second_pass(*args, **kwargs):
        raise AssertionError("continuation pass ran")

    monkeypatch.setattr(scoring, "forward_continuations", no_second_pass)
    singles = [p for p in prepared if max(len(c) for c in p.continuations) == 1]
    assert singles
    scores = score_batch(tiny.model, tiny.tokenizer.pad_token_id, "cpu", singles)
    assert all(s.single_token for s in scores)
