"""The headline metrics on hand-made scores: the numbers can be worked out on paper."""

from __future__ import annotations

import pytest

from duality_bench.data.records import PromptItem
from duality_bench.evaluation.metrics import breakdown, headline, score_frame
from duality_bench.results import ItemScore


def _item(n: int, category: str, source: str = "curated", family: str = "zero-shot") -> PromptItem:
    return PromptItem(
        id=f"p{n}|t|a->b",
        pair_id=f"p{n}",
        template_id="t",
        category=category,
        source=source,
        pos="a",
        cue="cue",
        target="dual",
        distractor="cue",
        other_duals=("other",),
        prompt=f"prompt {n}",
        corrupted_prompt=f"corrupted {n}",
        direction="a->b",
        control="control",
        family=family,
    )


def _score(item: PromptItem, target: float, cue: float, control: float, other: float) -> ItemScore:
    return ItemScore(
        item_id=item.id,
        target_logit=target,
        distractor_logit=cue,
        target_logprob=target,
        distractor_logprob=cue,
        logit_diff=target - cue,
        target_rank=0 if target >= max(cue, control, other) else 1,
        top1=target >= max(cue, control, other),
        single_token=True,
        control_logprob=control,
        control_diff=target - control,
        other_dual="other",
        other_dual_logprob=other,
    )


def test_the_duality_score_weighs_categories_alike_and_control_and_any_dual_are_reported_apart():
    # A big curated category the model gets right, a small one it gets wrong, and a WordNet one at half.
    items = [_item(n, "big") for n in range(8)] + [_item(8, "small"), _item(9, "wordnet-a", "wordnet")]
    items += [_item(10, "wordnet-a", "wordnet"), _item(11, "wordnet-affix", "wordnet", "few-shot")]
    scores = [_score(i, -1.0, -2.0, -3.0, -9.0) for i in items[:8]]  # right
    scores += [_score(items[8], -2.0, -1.0, -3.0, -0.5)]  # wrong, but another dual beats the cue
    scores += [_score(items[9], -1.0, -2.0, -0.5, -9.0), _score(items[10], -2.0, -1.0, -3.0, -9.0)]
    scores += [_score(items[11], -1.0, -1.0, -1.0, -9.0)]  # ties: half credit each
    m = headline(score_frame(items, scores), n_boot=50)
    assert m["duality_accuracy"] == pytest.approx(9.5 / 12)  # the item-level share
    assert m["duality_score"] == pytest.approx((1 + 0 + 0.5 + 0.5) / 4)  # per category, then the mean
    assert m["curated_score"] == pytest.approx(0.5) and m["wordnet_score"] == pytest.approx(0.5)
    assert m["affix_accuracy"] == pytest.approx(0.5)
    assert m["control_accuracy"] == pytest.approx(10.5 / 12)
    assert m["control_score"] == pytest.approx((1 + 1 + 0.5 + 0.5) / 4)
    assert m["any_dual_accuracy"] == pytest.approx(10.5 / 12)
    assert m["family_score"] == {"few-shot": 0.5, "zero-shot": pytest.approx((1 + 0 + 0.5) / 3)}


def test_top1_and_rank_count_single_token_items_only():
    items = [_item(n, "c") for n in range(3)]
    scores = [_score(items[0], -1.0, -2.0, -3.0, -9.0), _score(items[1], -3.0, -2.0, -1.0, -9.0)]
    multi = _score(items[2], -5.0, -6.0, -7.0, -9.0)
    scores.append(ItemScore(**{**multi.__dict__, "single_token": False, "target_rank": None, "top1": None}))
    frame = score_frame(items, scores)
    m = headline(frame, n_boot=50)
    assert m["n"] == 3 and m["n_single_token"] == 2 and m["top1_accuracy"] == pytest.approx(0.5)
    row = breakdown(frame, "category")["c"]
    assert row["top1_accuracy"] == pytest.approx(0.5) and row["duality_accuracy"] == pytest.approx(2 / 3)


def _foiled(
    item: PromptItem, target: float, cue: float, control: float | None, related: float | None, calibrated: float | None
) -> ItemScore:
    """A score with the newer foils; `calibrated` stands for (target - cue) less the same after the neutral prompt."""
    base = _score(item, target, cue, control if control is not None else 0.0, -9.0)
    neutral = None if calibrated is None else (target - cue) - calibrated  # target_neutral - cue_neutral
    return ItemScore(
        **{
            **base.__dict__,
            "control_logprob": control,
            "control_diff": None if control is None else target - control,
            "related_logprob": related,
            "related_diff": None if related is None else target - related,
            "target_neutral_logprob": None if neutral is None else neutral,
            "distractor_neutral_logprob": None if neutral is None else 0.0,
            "calibrated_diff": calibrated,
        }
    )


def test_related_choice_and_calibrated_metrics_on_paper():
    items = [_item(n, "a") for n in range(4)] + [_item(n, "b") for n in range(4, 6)]
    scores = [
        _foiled(items[0], -1.0, -2.0, -3.0, -4.0, 0.5),  # above every foil: choice 1; calibrated right
        _foiled(items[1], -1.0, -2.0, -3.0, -0.5, -0.5),  # the related word wins: choice 0; calibrated wrong
        _foiled(items[2], -1.0, -1.0, -3.0, -1.0, 0.0),  # ties the cue and the related word: choice 1/3
        _foiled(items[3], -1.0, -2.0, None, None, None),  # an old-style item: the cue is its only foil
        _foiled(items[4], -1.0, -3.0, -1.0, None, 2.0),  # ties the control: choice 1/2; related: none
        _foiled(items[5], -2.0, -1.0, -3.0, -3.0, 1.0),  # the cue wins, yet calibrated right
    ]
    frame = score_frame(items, scores)
    m = headline(frame, n_boot=50)
    assert m["related_accuracy"] == pytest.approx((1 + 0 + 0.5 + 1) / 4)  # items 0, 1, 2, 5 have one
    assert m["related_score"] == pytest.approx(((1 + 0 + 0.5) / 3 + 1) / 2)  # per category, then the mean
    assert m["choice_accuracy"] == pytest.approx((1 + 0 + 1 / 3 + 1 + 0.5 + 0) / 6)
    assert m["choice_chance"] == pytest.approx((1 / 4 + 1 / 4 + 1 / 4 + 1 / 2 + 1 / 3 + 1 / 4) / 6)
    assert m["calibrated_accuracy"] == pytest.approx((1 + 0 + 0.5 + 1 + 1) / 5)  # item 3 has no neutral prompt
    assert m["calibrated_score"] == pytest.approx(((1 + 0 + 0.5) / 3 + 1) / 2)
    a, b = breakdown(frame, "category")["a"], breakdown(frame, "category")["b"]
    assert a["related_accuracy"] == pytest.approx(0.5) and b["related_accuracy"] == pytest.approx(1.0)
    assert a["choice_accuracy"] == pytest.approx((1 + 0 + 1 / 3 + 1) / 4) and b["choice_accuracy"] == 0.25
    assert a["choice_chance"] == pytest.approx((3 / 4 + 1 / 2) / 4) and b["choice_chance"] == pytest.approx(7 / 24)
    assert a["calibrated_accuracy"] == pytest.approx(0.5) and b["calibrated_accuracy"] == 1.0


def test_items_without_related_words_or_neutral_prompts_give_none_not_zero():
    items = [_item(n, "c") for n in range(3)]
    scores = [_score(i, -1.0, -2.0, -3.0, -9.0) for i in items]  # every new field left at its default
    frame = score_frame(items, scores)
    m = headline(frame, n_boot=50)
    assert m["related_accuracy"] is m["related_score"] is m["calibrated_accuracy"] is m["calibrated_score"] is None
    assert m["choice_accuracy"] == 1.0 and m["choice_chance"] == pytest.approx(1 / 3)  # cue and control
    row = breakdown(frame, "category")["c"]
    assert row["related_accuracy"] is None and row["calibrated_accuracy"] is None and row["choice_accuracy"] == 1.0
