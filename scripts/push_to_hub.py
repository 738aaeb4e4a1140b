"""Publish the built dataset folder to a Hugging Face dataset repo.

    python scripts/push_to_hub.py --repo-id duality-bench/duality-pairs            # uploads
    python scripts/push_to_hub.py --repo-id duality-bench/duality-pairs --dry-run  # lists, offline

The folder is checked against its sha256sums.txt first, so what goes up is what was built.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DEFAULT_FOLDER = REPO / "data" / "duality-pairs"


def files_to_upload(folder: Path) -> list[Path]:
    """Every file of the dataset folder, after checking the parquet digests against the manifest."""
    from duality_bench.data.dataset import file_sha256

    manifest = folder / "sha256sums.txt"
    if not (folder / "README.md").exists() or not manifest.exists():
        raise SystemExit(
            f"error: {folder} is not a built dataset folder (no README.md or sha256sums.txt); run `duality-bench build`"
        )
    for line in manifest.read_text().splitlines():
        digest, name = line.split(maxsplit=1)
        if file_sha256(folder / name) != digest:
            raise SystemExit(
                f"error: {folder / name} does not match sha256sums.txt; rebuild with `duality-bench build`"
            )
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-id", required=True, help="dataset repo on the hub, e.g. duality-bench/duality-pairs")
    parser.add_argument("--folder", type=Path, default=DEFAULT_FOLDER, help="built dataset folder")
    parser.add_argument("--dry-run", action="store_true", help="list what would be uploaded; no network")
    parser.add_argument("--private", action="store_true", help="create the repo as private")
    args = parser.parse_args(argv)

    files = files_to_upload(args.folder)
    total = sum(p.stat().st_size for p in files)
    for p in files:
        print(f"{p.relative_to(args.folder)}\t{p.stat().st_size}")
    print(f"{len(files)} files, {total} bytes -> https://huggingface.co/datasets/{args.repo_id}")
    if args.dry_run:
        print("dry run: nothing uploaded")
        return 0
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(args.repo_id, repo_type="dataset", private=args.private, exist_ok=True)
    api.upload_folder(
        repo_id=args.repo_id, repo_type="dataset", folder_path=args.folder, commit_message="Upload duality-pairs"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
