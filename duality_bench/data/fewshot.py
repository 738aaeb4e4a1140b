"""Few-shot templates: the standard in-context antonym format, k demonstrations then the cue.

    hot -> cold
    early -> late
    fast -> slow
    up ->

Demonstrations are curated pairs of the cue's part of speech (never an affix pair, which would
teach morphology, and never one sharing a word with the item's cue, target or their other
duals, in any table), in a random direction. The choice is seeded by the template and the cue, so one cue gets
the same demonstrations under one template whatever its target, and a rebuild gives the same
bytes. The corrupted prompt keeps the demonstrations and puts the target in the cue slot, the
neutral prompt a word that names nothing (`templates.neutral_filler`).
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from duality_bench.data.records import DualPair, PromptItem
from duality_bench.data.templates import TemplateError, neutral_filler, render_pair

FAMILY = "few-shot"


@dataclass(frozen=True)
class FewShotTemplate:
    name: str
    line: str  # one demonstration, with {cue} and {dual}
    query: str  # the item's last line, with {cue}; ends right before the answer
    k: int = 3
    version: int = 1

    @property
    def id(self) -> str:
        return f"{FAMILY}.{self.name}.v{self.version}"


FEW_SHOT_TEMPLATES: tuple[FewShotTemplate, ...] = (
    FewShotTemplate("arrow", "{cue} -> {dual}\n", "{cue} ->"),
    FewShotTemplate("opposite", "The opposite of {cue} is {dual}.\n", "The opposite of {cue} is"),
)


def demonstration_pool(curated: Sequence[DualPair], is_affix) -> dict[str, list[DualPair]]:
    """Curated pairs usable as demonstrations, per part of speech (no affix pairs)."""
    pool: dict[str, list[DualPair]] = {}
    for pair in curated:
        if not is_affix(pair.a, pair.b):
            pool.setdefault(pair.pos, []).append(pair)
    return pool


def render_few_shot(
    template: FewShotTemplate,
    pair: DualPair,
    pool: dict[str, list[DualPair]],
    duals: Mapping[str, set[str]] | None = None,
) -> list[PromptItem]:
    """Both directions of `pair` under a few-shot template. `duals` (word -> every dual it has in
    any table, lower case) keeps every dual of the cue and the target out of the demonstrations."""
    duals = duals or {}

    def prompts(cue: str, target: str, others: tuple[str, ...], target_others: tuple[str, ...]) -> tuple[str, ...]:
        avoid = {w.lower() for w in (cue, target, *others, *target_others)}
        avoid |= duals.get(cue.lower(), set()) | duals.get(target.lower(), set())
        shots = _demonstrations(template, cue, pair.pos, pool, avoid)
        head = "".join(template.line.format(cue=a, dual=b) for a, b in shots)
        query = template.query.format
        return head + query(cue=cue), head + query(cue=target), head + query(cue=neutral_filler(pair))

    return render_pair(pair, template.id, prompts, family=FAMILY)


def _demonstrations(
    template: FewShotTemplate, cue: str, pos: str, pool: dict[str, list[DualPair]], avoid: set[str]
) -> list[tuple[str, str]]:
    # A pair of no known part of speech (a user's) draws from every curated pair.
    candidates = pool.get(pos, ()) if pos else [p for pairs in pool.values() for p in pairs]
    usable = [p for p in candidates if not avoid & {w.lower() for w in _words(p)}]
    if len(usable) < template.k:
        raise TemplateError(
            f"few-shot template {template.id!r}: only {len(usable)} curated {pos!r} pairs can demonstrate "
            f"for cue {cue!r}, {template.k} needed; add curated pairs of that part of speech"
        )
    # A string seed hashes the same in every process (Python's hash() of a str does not).
    seed = int.from_bytes(hashlib.sha256(f"{template.id}|{pos}|{cue}".encode()).digest()[:8], "big")
    rng = random.Random(seed)
    shots = rng.sample(usable, template.k)
    return [(p.a, p.b) if rng.random() < 0.5 else (p.b, p.a) for p in shots]


def _words(pair: DualPair) -> tuple[str, ...]:
    return (pair.a, pair.b, *pair.a_other_duals, *pair.b_other_duals)
