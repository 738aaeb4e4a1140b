"""Results files on disk: where they go, writing them whole, reading them back validated."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from duality_bench.results.schema import ResultsError, RunResult


def default_result_path(model_id: str, dataset: str, root: str | Path = "results", revision: str | None = None) -> Path:
    """results/<org__model>/<revision>/<dataset config>.json, as mteb lays out results: two revisions
    of one model are two files (and two leaderboard rows); `default` when no revision was asked for."""
    return Path(root) / _slug(model_id.strip("/")) / _slug(revision or "default") / f"{dataset}.json"


def _slug(text: str) -> str:
    """A name that is one safe path component: `/` as `__`, other unsafe characters as `_`."""
    text = text.replace("/", "__")
    return "".join(c if c.isalnum() or c in "._-=+" else "_" for c in text).strip(".") or "_"


def save_result(result: RunResult, path: str | Path) -> Path:
    """Write the summary JSON (scores stay in the items file), atomically."""
    path = Path(path)
    atomic_write({path: json.dumps(result.to_json(), indent=2) + "\n"})
    return path


def load_result(path: str | Path) -> RunResult:
    """Read and validate a results JSON (without item scores); a bad file is a one-line error."""
    path = Path(path)
    data = read_json(path, "results file")
    try:
        return RunResult.from_json(data)
    except ResultsError as e:
        raise ResultsError(f"{path}: {e}") from None


def read_json(path: Path, what: str) -> Any:
    """The parsed JSON of the file at `path` (a `what`, for the messages); unreadable, not UTF-8,
    cut or nested past Python's recursion limit, it is one `ResultsError` line."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as e:
        raise ResultsError(f"{path}: cannot read {what} ({e.strerror})") from None
    except UnicodeDecodeError:
        raise ResultsError(f"{path}: not UTF-8 text; is it a {what}?") from None
    except json.JSONDecodeError as e:
        raise ResultsError(f"{path}: not valid JSON (line {e.lineno}: {e.msg}); is the file truncated?") from None
    except RecursionError:
        raise ResultsError(f"{path}: JSON nested too deeply to be a {what}") from None


def unwritable_ancestor(folder: Path) -> Path | None:
    """The nearest existing ancestor of `folder` (or itself) if files cannot be created under it."""
    existing = next(p for p in (folder, *folder.parents) if p.exists())
    return None if existing.is_dir() and os.access(existing, os.W_OK) else existing


def atomic_write(texts: Mapping[Path, str]) -> None:
    """Write each text into a temporary sibling of its path, then rename them all: a reader never
    sees half a file, and no file is replaced unless every one was written."""
    written = []
    try:
        for path, text in texts.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            written.append((tmp, path))
            tmp.write_text(text, encoding="utf-8", newline="\n")
        for tmp, path in written:
            os.replace(tmp, path)
    finally:
        for tmp, _ in written:
            tmp.unlink(missing_ok=True)
