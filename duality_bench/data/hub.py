"""Publishing a built dataset folder to a Hugging Face dataset repo, exactly as it was built."""

from __future__ import annotations

from pathlib import Path

from duality_bench.data.dataset import DatasetError
from duality_bench.provenance import file_sha256


def upload_plan(folder: str | Path) -> list[tuple[str, int, str]]:
    """(relative path, bytes, sha256) of every file that would go up, after checking each parquet
    file against the folder's `sha256sums.txt`, so that what goes up is what was built."""
    folder = Path(folder)
    manifest = folder / "sha256sums.txt"
    if not (folder / "README.md").is_file() or not manifest.is_file():
        raise DatasetError(
            f"{folder} is not a built dataset folder (no README.md or sha256sums.txt); run `duality-bench build`"
        )
    for line in manifest.read_text(encoding="utf-8").split("\n"):
        if not line:
            continue
        digest, _, name = line.partition("  ")
        path = folder / name
        if not path.is_file() or file_sha256(path) != digest:
            raise DatasetError(f"{path} does not match {manifest}; rebuild with `duality-bench build`")
    names = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    files = [folder / n for n in names if not any(part.startswith(".") for part in n.split("/"))]
    return [(p.relative_to(folder).as_posix(), p.stat().st_size, file_sha256(p)) for p in files]


def push(folder: str | Path, repo_id: str, private: bool = False) -> str:
    """Create the dataset repo if needed and upload the folder; returns the repo's URL."""
    from huggingface_hub import HfApi

    upload_plan(folder)
    api = HfApi()
    api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
    api.upload_folder(
        repo_id=repo_id, repo_type="dataset", folder_path=str(folder), commit_message="Upload duality-pairs"
    )
    return f"https://huggingface.co/datasets/{repo_id}"
