"""Publish the built dataset folder to a Hugging Face dataset repo.

    python scripts/push_to_hub.py --repo-id duality-bench/duality-pairs            # uploads
    python scripts/push_to_hub.py --repo-id duality-bench/duality-pairs --dry-run  # lists, offline

Every file is listed with its size and sha256 first; the parquet files are checked against the
folder's sha256sums.txt, so what goes up is what was built.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from duality_bench.data.hub import push, upload_plan
from duality_bench.errors import DualityBenchError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-id", required=True, help="dataset repo on the hub, e.g. duality-bench/duality-pairs")
    parser.add_argument("--folder", type=Path, default=Path("data/duality-pairs"), help="built dataset folder")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; no network")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    args = parser.parse_args(argv)
    try:
        plan = upload_plan(args.folder)
        for name, size, digest in plan:
            print(f"{name}\t{size}\t{digest}")
        total = sum(size for _, size, _ in plan)
        print(f"{len(plan)} files, {total} bytes -> https://huggingface.co/datasets/{args.repo_id}")
        if args.dry_run:
            print("dry run: nothing uploaded")
            return 0
        print(f"uploaded to {push(args.folder, args.repo_id, args.private)}")
    except DualityBenchError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
