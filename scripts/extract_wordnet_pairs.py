"""Regenerate data/wordnet_pairs.csv and data/wordnet_relations.csv from WordNet 3.0 (byte-identical on a rerun).

The relations table covers the words of both pair tables, so the curated table is read too.

WordNet comes from --nltk-data DIR (filled from --source), else from wherever nltk already finds
it (e.g. after nltk.download("wordnet")), else from --source copied into a temporary nltk data
folder. --source defaults to Debian's files: apt-get install wordnet-base wordnet-sense-index.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from duality_bench.data.pairs.curated import read_curated
from duality_bench.data.pairs.senses import extract_relations, linked_senses, write_relations
from duality_bench.data.pairs.wordnet import (
    DEBIAN_WORDNET,
    extract_pairs,
    has_nltk_wordnet,
    prepare_wordnet,
    read_wordnet,
    wordnet_reader,
    write_table,
)
from duality_bench.errors import DualityBenchError


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("data/wordnet_pairs.csv"), help="the table to write")
    parser.add_argument("--relations", type=Path, default=Path("data/wordnet_relations.csv"), help="relations table")
    parser.add_argument("--curated", type=Path, default=Path("data/curated_pairs.csv"), help="curated pairs table")
    parser.add_argument("--nltk-data", type=Path, help="nltk data folder to copy WordNet into and read it from")
    parser.add_argument("--source", type=Path, default=DEBIAN_WORDNET, help="WordNet 3.0 dict folder to copy from")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="nltk_data-") as tmp:
            if args.nltk_data is not None:
                data_dir = prepare_wordnet(args.nltk_data, args.source)
            elif has_nltk_wordnet():
                data_dir = None
            else:
                data_dir = prepare_wordnet(Path(tmp), args.source)
            rows = extract_pairs(data_dir)
            args.output.parent.mkdir(parents=True, exist_ok=True)
            write_table(rows, args.output)
            pairs = read_curated(args.curated) + read_wordnet(args.output)
            vocabulary = {w for p in pairs for w in (p.a, p.b)}
            with wordnet_reader(data_dir) as wn:
                relations = extract_relations(wn, linked_senses(wn, pairs), vocabulary)
            write_relations(relations, args.relations)
    except DualityBenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    by_pos = Counter(r.pos for r in rows)
    counts = ", ".join(f"{pos} {by_pos[pos]}" for pos in ("n", "v", "a", "r"))
    print(f"{args.output}: {len(rows)} pairs ({counts}); {args.relations}: {len(relations)} word senses")
    print(f"in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
