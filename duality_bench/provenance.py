"""Where a result came from: the package version (from install metadata), the git commit, file digests.

A leaf module: it imports nothing of the project, so every stage may use it.
"""

from __future__ import annotations

import hashlib
import subprocess
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

DISTRIBUTION = "duality-bench"


@cache
def package_version() -> str:
    """The installed version; pyproject.toml is its one source."""
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "0+unknown"  # imported from a source tree that was never installed


def git_hash() -> str | None:
    """The checkout's commit (with `-dirty` if it has changes), or None outside a git checkout."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=True)
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "-uno"], capture_output=True, text=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return head.stdout.strip() + ("-dirty" if dirty.stdout.strip() else "")


def file_sha256(path: str | Path) -> str:
    """sha256 of a file, read in blocks (dataset files, GGUF files)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
