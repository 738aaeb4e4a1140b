"""WordNet 3.0's direct antonym pairs: extract them with nltk once, then read the committed table.

`prepare_wordnet` copies Debian's WordNet files (packages `wordnet-base`, `wordnet-sense-index`)
into an nltk data folder, `extract_pairs` reads every lemma's antonyms from it, and `write_table`
writes `data/wordnet_pairs.csv` (columns: a, b, pos, all_pos, synset_a, synset_b, and each word's
tagged-corpus counts, see `pairs.senses`). Building the dataset only calls `read_wordnet`, which
never imports nltk. With the internet,
`nltk.download("wordnet")` is the usual way to get the same WordNet 3.0 files.
"""

from __future__ import annotations

import contextlib
import csv
import io
import shutil
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from duality_bench.data.pairs.senses import SenseCounts, rare_sense, sense_share
from duality_bench.data.pairs.table import PairsError, check_words, read_records
from duality_bench.data.pairs.tags import tag_pairs
from duality_bench.data.records import DualPair
from duality_bench.errors import DualityBenchError

REQUIRED = ("a", "b", "pos", "all_pos", "synset_a", "synset_b")
COUNT_COLUMNS = ("count_a", "pos_count_a", "word_count_a", "count_b", "pos_count_b", "word_count_b")
COLUMNS = REQUIRED + COUNT_COLUMNS
POS = ("n", "v", "a", "r")  # also the priority order that picks a pair's primary part of speech
DEBIAN_WORDNET = Path("/usr/share/wordnet")
# What nltk's WordNetCorpusReader opens, less `lexnames`, which Debian does not ship.
FILES = (
    "cntlist.rev",
    "index.sense",
    *(f"{kind}.{pos}" for kind in ("index", "data") for pos in ("noun", "verb", "adj", "adv")),
    *(f"{pos}.exc" for pos in ("noun", "verb", "adj", "adv")),
)
# The 45 lexicographer files of WordNet 3.0 in number order (`man 5 lexnames`).
LEXNAMES = (
    "adj.all",
    "adj.pert",
    "adv.all",
    "noun.Tops",
    "noun.act",
    "noun.animal",
    "noun.artifact",
    "noun.attribute",
    "noun.body",
    "noun.cognition",
    "noun.communication",
    "noun.event",
    "noun.feeling",
    "noun.food",
    "noun.group",
    "noun.location",
    "noun.motive",
    "noun.object",
    "noun.person",
    "noun.phenomenon",
    "noun.plant",
    "noun.possession",
    "noun.process",
    "noun.quantity",
    "noun.relation",
    "noun.shape",
    "noun.state",
    "noun.substance",
    "noun.time",
    "verb.body",
    "verb.change",
    "verb.cognition",
    "verb.communication",
    "verb.competition",
    "verb.consumption",
    "verb.contact",
    "verb.creation",
    "verb.emotion",
    "verb.motion",
    "verb.perception",
    "verb.possession",
    "verb.social",
    "verb.stative",
    "verb.weather",
    "adj.ppl",
)
SYNTACTIC_CATEGORY = {"noun": 1, "verb": 2, "adj": 3, "adv": 4}
INSTALL_HINT = "apt-get install wordnet-base wordnet-sense-index, or nltk.download('wordnet') with the internet"


class WordNetError(DualityBenchError):
    """WordNet files that cannot be found or loaded; the message says how to get them."""


@dataclass(frozen=True)
class WordNetRow:
    """One row of the WordNet pairs table: a distinct unordered antonym pair (a < b)."""

    a: str
    b: str
    pos: str  # the first of n, v, a, r where it links common senses, else where it occurs first (satellites are a)
    all_pos: tuple[str, ...]  # every part of speech it occurs in, in n, v, a, r order
    synset_a: str  # the synsets of its most common-sense occurrence in that part of speech
    synset_b: str
    counts_a: SenseCounts = (
        SenseCounts()
    )  # how often a's linked sense, a in that part of speech and a at all were tagged
    counts_b: SenseCounts = SenseCounts()


def prepare_wordnet(dest: Path, source: Path = DEBIAN_WORDNET) -> Path:
    """Copy WordNet 3.0 from `source` into `dest/corpora/wordnet/` and return `dest`, an nltk data dir.

    nltk refuses corpus folders outside its data path (symlinks too), hence real copies.
    """
    dest, source = Path(dest), Path(source)
    if not source.is_dir():
        raise WordNetError(f"{source}: no such WordNet folder; {INSTALL_HINT}")
    missing = [name for name in FILES if not (source / name).is_file()]
    if missing:
        raise WordNetError(f"{source}: WordNet files missing ({', '.join(missing)}); {INSTALL_HINT}")
    corpus = dest / "corpora" / "wordnet"
    corpus.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        shutil.copyfile(source / name, corpus / name)
    lines = (f"{i:02d}\t{name}\t{SYNTACTIC_CATEGORY[name.split('.')[0]]}\n" for i, name in enumerate(LEXNAMES))
    (corpus / "lexnames").write_text("".join(lines), encoding="utf-8")
    return dest


def has_nltk_wordnet() -> bool:
    """Whether nltk finds a WordNet corpus on its own data path (e.g. after nltk.download)."""
    import nltk

    for resource in ("corpora/wordnet", "corpora/wordnet.zip"):
        try:
            nltk.data.find(resource)
            return True
        except LookupError:
            continue
    return False


def extract_pairs(data_dir: Path | None = None) -> list[WordNetRow]:
    """Every distinct direct antonym pair of WordNet, sorted by (a, b).

    `data_dir` is an nltk data dir holding `corpora/wordnet/` (see `prepare_wordnet`); None uses
    whatever WordNet nltk finds itself. Pairs are deduplicated as unordered word pairs across parts
    of speech; kern/kern (kern.v.01 and kern.v.02, a word that is its own antonym) is left out
    because a pair needs two different words.
    """
    with wordnet_reader(data_dir) as wn:
        return _rows(wn)


@contextlib.contextmanager
def wordnet_reader(data_dir: Path | None = None) -> Iterator[Any]:
    """nltk's WordNet reader over `data_dir` (see `extract_pairs`), open for the block."""
    import nltk

    if data_dir is None:
        if not has_nltk_wordnet():
            raise WordNetError(f"nltk finds no WordNet; pass a data dir made by prepare_wordnet ({INSTALL_HINT})")
        yield nltk.corpus.wordnet
        return
    data_dir = Path(data_dir).resolve()
    corpus = data_dir / "corpora" / "wordnet"
    if not (corpus / "lexnames").is_file() or not (corpus / "data.noun").is_file():
        raise WordNetError(f"{corpus}: no WordNet here; create it with prepare_wordnet({str(data_dir)!r})")
    # nltk only opens files under its data path, so put the folder there for the whole read.
    nltk.data.path.insert(0, str(data_dir))
    try:
        yield _reader(corpus)
    finally:
        nltk.data.path.remove(str(data_dir))


def _reader(corpus: Path):  # -> nltk.corpus.reader.wordnet.WordNetCorpusReader
    import warnings

    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    with warnings.catch_warnings():
        # No Open Multilingual WordNet is passed; English lemmas are all that is read.
        warnings.filterwarnings("ignore", message="The multilingual functions")
        return WordNetCorpusReader(str(corpus), None)


def _rows(wn) -> list[WordNetRow]:
    # (a, b) -> occurrences as (pos rank, lemma of a, lemma of b)
    found: dict[tuple[str, str], list[tuple[int, object, object]]] = defaultdict(list)
    for synset in wn.all_synsets():
        rank = POS.index("a" if synset.pos() == "s" else synset.pos())
        for lemma in synset.lemmas():
            for antonym in lemma.antonyms():
                x, y = lemma.name().replace("_", " "), antonym.name().replace("_", " ")
                if x.lower() == y.lower():
                    continue
                key, occurrence = ((x, y), (rank, lemma, antonym)) if x < y else ((y, x), (rank, antonym, lemma))
                found[key].append(occurrence)
    rows = []
    for (a, b), occurrences in sorted(found.items()):
        # The pair's part of speech is the first in n, v, a, r order where it links common senses
        # (high/low: the adjectives, not the nouns), and its synsets are those whose rarer sense
        # is most common there; ties go to WordNet's first occurrence (the smallest synset names).
        rank, (sa, sb), counts_a, counts_b = min(
            (_counted(wn, o) for o in occurrences),
            key=lambda c: (rare_sense(c[2], c[3]), c[0], -min(sense_share(c[2]), sense_share(c[3])), c[1]),
        )
        all_pos = tuple(POS[r] for r in sorted({o[0] for o in occurrences}))
        rows.append(WordNetRow(a, b, POS[rank], all_pos, sa, sb, counts_a, counts_b))
    return rows


def _counted(wn, occurrence) -> tuple[int, tuple[str, str], SenseCounts, SenseCounts]:
    rank, la, lb = occurrence
    names = (la.synset().name(), lb.synset().name())
    return (rank, names, _sense_counts(wn, la, POS[rank]), _sense_counts(wn, lb, POS[rank]))


def _sense_counts(wn, lemma, pos: str) -> SenseCounts:
    name = lemma.name().lower()

    def uses(synsets) -> int:
        return sum(x.count() for s in synsets for x in s.lemmas() if x.name().lower() == name)

    every = wn.synsets(lemma.name())
    in_pos = [s for s in every if ("a" if s.pos() == "s" else s.pos()) == pos]
    return SenseCounts(lemma.count(), uses(in_pos), uses(every))


def write_table(rows: Iterable[WordNetRow], path: str | Path) -> None:
    """Write the pairs table: UTF-8, "\\n" line ends, rows in the given order (byte-reproducible)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for r in rows:
        counts = (*_count_cells(r.counts_a), *_count_cells(r.counts_b))
        writer.writerow((r.a, r.b, r.pos, ";".join(r.all_pos), r.synset_a, r.synset_b, *counts))
    Path(path).write_bytes(out.getvalue().encode("utf-8"))


def _count_cells(c: SenseCounts) -> tuple[int, int, int]:
    return (c.sense, c.pos, c.word)


def read_table(path: str | Path) -> list[WordNetRow]:
    """Parse the pairs table into rows; every problem is one line naming the file and the line.

    The count columns are optional (a table without them reads as having no tagged uses)."""
    rows: list[WordNetRow] = []
    seen: dict[frozenset[str], str] = {}
    for where, cells in read_records(path, COLUMNS, REQUIRED, "WordNet pairs table", ("a", "b", "pos")):
        a, b, pos, all_pos, synset_a, synset_b = (cells[c] for c in REQUIRED)
        key = check_words(where, a, b)
        if pos not in POS:
            raise PairsError(f"{where}: unknown part of speech {pos!r}; use one of {', '.join(POS)}")
        parts = tuple(p for p in all_pos.split(";") if p)
        if any(p not in POS for p in parts) or pos not in parts:
            raise PairsError(f"{where}: all_pos {all_pos!r} must be ;-separated {'/'.join(POS)} including {pos!r}")
        if key in seen:
            raise PairsError(f"{where}: duplicate pair {a}/{b} (first on line {seen[key].rsplit(':', 1)[1]})")
        seen[key] = where
        counts = [_count(where, name, cells.get(name, "0")) for name in COUNT_COLUMNS]
        rows.append(
            WordNetRow(a, b, pos, parts, synset_a, synset_b, SenseCounts(*counts[:3]), SenseCounts(*counts[3:]))
        )
    return rows


def _count(where: str, column: str, cell: str) -> int:
    if not cell.isdigit():
        raise PairsError(f"{where}: {column} must be a whole number of tagged uses, found {cell!r}")
    return int(cell)


def read_wordnet(path: str | Path) -> list[DualPair]:
    """Read the WordNet pairs table as tagged DualPairs, in table order.

    A word's other duals are all its other antonyms anywhere in the table, so that no valid
    answer is ever used as a distractor. Affix pairs (aware/unaware) get the category
    `wordnet-affix`, so they are reported apart from the others (`wordnet-<pos>`).
    """
    rows = read_table(path)
    antonyms: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        antonyms[r.a].add(r.b)
        antonyms[r.b].add(r.a)
    return [
        DualPair(
            a=r.a,
            b=r.b,
            category="wordnet-affix" if tags.affix else f"wordnet-{r.pos}",
            source="wordnet",
            pos=r.pos,
            a_other_duals=tuple(sorted(antonyms[r.a] - {r.b})),
            b_other_duals=tuple(sorted(antonyms[r.b] - {r.a})),
            synset_a=r.synset_a,
            synset_b=r.synset_b,
            tags=tags.names,
            zipf=round(tags.zipf, 2),
        )
        for r, tags in zip(rows, tag_pairs(rows), strict=True)
    ]
