"""Print the hand audit's seeded sample of config `all`, one item per line, to read and judge.

    python scripts/audit_sample.py --seed 2026 --curated 40 --wordnet 60

The verdicts go into data/hand_audit.csv (id, group, verdict, note); the dataset card counts them.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from duality_bench.data.audit import SEED, audit_sample
from duality_bench.data.dataset import load_items


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--curated", type=int, default=40, help="curated items to draw")
    parser.add_argument("--wordnet", type=int, default=60, help="WordNet core items to draw")
    args = parser.parse_args(argv)
    items = load_items("all")
    for group, n in (("curated", args.curated), ("wordnet", args.wordnet)):
        for item in audit_sample(items, group, n, args.seed):
            prompt = item.prompt.replace("\n", " / ")
            print(f"{item.id}\t{group}\t{prompt!r} -> {item.target} (control {item.control}, related {item.related})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
