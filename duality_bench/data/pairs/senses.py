"""How common the senses an antonym pair links are, and the words WordNet relates to each word.

WordNet's antonymy links word *senses*, and a common word may be the antonym of another only in
a rare sense: magnetic/geographic (north, of a compass), sink/source (physics), keep/break (a
law). The sense index counts how often each sense was tagged in a sense-annotated corpus
(`lemma.count()`), which tells a common sense from a rare one. Both tables here are extracted
once with nltk (`scripts/extract_wordnet_pairs.py`) and committed, so a build never needs nltk.

The sense rule (`rare_sense`), chosen by reading the pairs on both sides of each threshold on the
1,377 pairs of the Zipf-filtered core (`scripts/extract_wordnet_pairs.py --near`): a word's
linked sense is rare when the word has at least `MIN_EVIDENCE` tagged uses in the pair's part of
speech, the sense has fewer than `MIN_SENSE_TAGS` of them and under `MIN_SENSE_SHARE` of the
word's uses (magnetic.a.04: 0 of 5; source.n.07: 0 of 70; keep as in observe.v.09: 10 of 346
would pass on its count; break as in transgress.v.01: 5 of 95 passes too), or when the pair's
part of speech is under `MIN_POS_SHARE` of the word's tagged uses in all parts of speech
(multiply as an adverb: 0 of 26; better as a verb: 3 of 151). Words without enough tags to judge
(optimist: 0) are kept: WordNet's sense order carries no frequency where nothing was tagged.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from duality_bench.data.pairs.table import PairsError, read_rows

MIN_EVIDENCE = 5  # tagged uses of the word in the pair's part of speech needed to judge its senses
MIN_SENSE_TAGS = 3  # a sense tagged this often is in use, whatever its share
MIN_SENSE_SHARE = 0.05
MIN_POS_EVIDENCE = 10
MIN_POS_SHARE = 0.02
SENSE_RULE = (
    f"a pair is tagged rare-sense when, for either word, the word has at least {MIN_EVIDENCE} tagged uses in the "
    f"pair's part of speech and the linked sense has fewer than {MIN_SENSE_TAGS} of them and under "
    f"{MIN_SENSE_SHARE:.0%} (magnetic/geographic: magnetic's compass sense, 0 of 5), or when the word has at least "
    f"{MIN_POS_EVIDENCE} tagged uses and under {MIN_POS_SHARE:.0%} of them are in the pair's part of speech "
    "(multiply as an adverb, 0 of 26); counts are WordNet 3.0's sense-tagged corpus counts (`lemma.count()`)"
)


@dataclass(frozen=True)
class SenseCounts:
    """Tagged-corpus counts for one word of a pair."""

    sense: int = 0  # uses tagged with the linked sense
    pos: int = 0  # uses of the word in the pair's part of speech, all senses
    word: int = 0  # uses of the word in every part of speech

    def why_rare(self) -> str:
        """Why the linked sense is rare ("" when it is not), in a few words."""
        if self.pos >= MIN_EVIDENCE and self.sense < MIN_SENSE_TAGS and self.sense < MIN_SENSE_SHARE * self.pos:
            return f"sense {self.sense} of {self.pos} uses"
        if self.word >= MIN_POS_EVIDENCE and self.pos < MIN_POS_SHARE * self.word:
            return f"part of speech {self.pos} of {self.word} uses"
        return ""


def rare_sense(a: SenseCounts, b: SenseCounts) -> bool:
    """Whether the antonymy links a rare sense of either word (see the module docstring)."""
    return bool(a.why_rare() or b.why_rare())


# --- the relations table -------------------------------------------------------------------
# One row per (word, sense) that some pair uses: `near` lists words close in meaning to that
# sense (its synonyms, its also-see senses' words and, for adjectives, its similar-to senses' words:
# hot -> warm is no synonym but is near), the related-word foil's candidates; `family` lists every word WordNet
# relates to the word in any sense (synonyms, similar-to, also-see, derivationally related
# forms, antonyms, pertainyms) that is also a word of some pair: a control word must be none.

RELATION_COLUMNS = ("word", "synset", "pairs", "near", "family")


@dataclass(frozen=True)
class Relations:
    word: str
    synset: str  # the sense a pair links; empty for a curated word WordNet lacks
    pairs: tuple[str, ...]  # the ids of the pairs that link this sense of the word
    near: tuple[str, ...]
    family: tuple[str, ...]


def write_relations(rows: Iterable[Relations], path: str | Path) -> None:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(RELATION_COLUMNS)
    for r in rows:
        writer.writerow((r.word, r.synset, ";".join(r.pairs), ";".join(r.near), ";".join(r.family)))
    Path(path).write_bytes(out.getvalue().encode("utf-8"))


def read_relations(path: str | Path) -> dict[tuple[str, str], Relations]:
    """(word, synset) -> Relations; every problem is one line naming the file and the line."""
    table: dict[tuple[str, str], Relations] = {}
    for where, (word, synset, pairs, near, family) in read_rows(
        path, RELATION_COLUMNS, "WordNet relations table", ("word",)
    ):
        if not word:
            raise PairsError(f"{where}: the word is required")
        if (word, synset) in table:
            raise PairsError(f"{where}: {word!r} with sense {synset!r} is listed twice")
        table[word, synset] = Relations(word, synset, _split(pairs), _split(near), _split(family))
    return table


def _split(cell: str) -> tuple[str, ...]:
    return tuple(w for w in cell.split(";") if w)


def extract_relations(wn, words: Mapping[tuple[str, str], list[str]], vocabulary: set[str]) -> list[Relations]:
    """The relations of each (word, synset) in `words` (synset may be ""), sorted; `family` is
    restricted to `vocabulary` (the words of every pair), `near` to single lower-case words."""
    rows = []
    for word, synset in sorted(words):
        near: set[str] = set()
        if synset:
            s = wn.synset(synset)
            for t in (s, *s.similar_tos(), *s.also_sees()):
                near.update(lemma.name() for lemma in t.lemmas())
        family: set[str] = set()
        for s in wn.synsets(word.replace(" ", "_")):
            family.update(lemma.name() for lemma in s.lemmas())
            for related in (*s.similar_tos(), *s.also_sees()):
                family.update(lemma.name() for lemma in related.lemmas())
            for lemma in s.lemmas():
                if lemma.name().lower() != word.lower().replace(" ", "_"):
                    continue
                linked = (*lemma.derivationally_related_forms(), *lemma.antonyms(), *lemma.pertainyms())
                family.update(other.name() for other in linked)
        near = {w for w in near if w.isalpha() and w.islower() and w != word}
        family = {w.replace("_", " ") for w in family} & vocabulary - {word}
        pairs = tuple(sorted(set(words[word, synset])))
        rows.append(Relations(word, synset, pairs, tuple(sorted(near)), tuple(sorted(family))))
    return rows


def linked_senses(wn, pairs: Iterable) -> dict[tuple[str, str], list[str]]:
    """(word, synset) -> the pairs linking it, for both words of every pair: a WordNet pair's own synsets; for a curated
    pair, the sense of its part of speech that WordNet links to the partner (or to one of its
    other duals), else the word's first sense of that part of speech, else "" (pronouns)."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for p in pairs:
        if p.source == "wordnet":
            wanted.setdefault((p.a, p.synset_a), []).append(p.id)
            wanted.setdefault((p.b, p.synset_b), []).append(p.id)
            continue
        for word, partner, others in ((p.a, p.b, p.b_other_duals), (p.b, p.a, p.a_other_duals)):
            wanted.setdefault((word, _curated_sense(wn, word, p.pos, {partner, *others})), []).append(p.id)
    return wanted


def _curated_sense(wn, word: str, pos: str, duals: set[str]) -> str:
    if pos not in ("n", "v", "a", "r"):
        return ""
    senses = [s for s in wn.synsets(word.replace(" ", "_")) if ("a" if s.pos() == "s" else s.pos()) == pos]
    key = word.lower().replace(" ", "_")
    duals = {d.lower().replace(" ", "_") for d in duals}
    for s in senses:
        for lemma in s.lemmas():
            if lemma.name().lower() == key and any(x.name().lower() in duals for x in lemma.antonyms()):
                return s.name()
    return senses[0].name() if senses else ""


def near_rule(rows: Iterable, eligible: Iterable[bool], n: int = 6) -> tuple[list[str], list[str]]:
    """The pairs nearest the sense rule on each side, among the `eligible` rows (the ones the
    other core rules keep): kept pairs whose rarer linked sense has the smallest share of its
    word's uses, and rare-sense pairs whose has the largest. Each as "a/b (word: why)"."""
    kept, dropped = [], []
    for r, ok in zip(rows, eligible, strict=True):
        if not ok:
            continue
        words = ((r.a, r.counts_a), (r.b, r.counts_b))
        if rare_sense(r.counts_a, r.counts_b):
            share, label = max((sense_share(c), f"{w}: {c.why_rare()}") for w, c in words if c.why_rare())
            dropped.append((share, f"{r.a}/{r.b} ({label})"))
        else:
            share, label = min((sense_share(c), f"{w}: sense {c.sense} of {c.pos} uses") for w, c in words)
            kept.append((share, f"{r.a}/{r.b} ({label})"))
    return [e for _, e in sorted(kept)[:n]], [e for _, e in sorted(dropped, reverse=True)[:n]]


def sense_share(c: SenseCounts) -> float:
    """The linked sense's share of the word's uses in its part of speech; 1 where too few to judge."""
    return c.sense / c.pos if c.pos >= MIN_EVIDENCE else 1.0


# --- pairs a reader excluded -----------------------------------------------------------------
# `data/wordnet_excluded.csv` (a, b, reason): core pairs that a fluent reader, reading the whole
# core list once, found to be no everyday opposites although the counts pass (bony/boneless,
# linear/cubic, head/rear); they are tagged `not-everyday` and stay in `wordnet-full`.

EXCLUDED_COLUMNS = ("a", "b", "reason")


def read_excluded(path: str | Path, known: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """(a, b) -> why, for each excluded pair; a pair the WordNet table lacks is one line naming it."""
    known = set(known)
    excluded: dict[tuple[str, str], str] = {}
    for where, (a, b, reason) in read_rows(path, EXCLUDED_COLUMNS, "WordNet exclusions table", ("a", "b")):
        if (a, b) not in known:
            raise PairsError(f"{where}: {a}/{b} is no pair of the WordNet table (a before b, as it lists them)")
        if not reason:
            raise PairsError(f"{where}: say why {a}/{b} is excluded")
        excluded[a, b] = reason
    return excluded
