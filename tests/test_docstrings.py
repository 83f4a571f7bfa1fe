"""Every example in the package's docstrings runs and prints what it shows (the API page renders them)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lossopt_companion

MODULES = sorted(info.name for info in pkgutil.walk_packages(lossopt_companion.__path__, "lossopt_companion."))


def test_every_public_module_is_found() -> None:
    for name in ("losses", "optim", "schedules", "second_order", "models", "training", "datasets", "viz", "tables"):
        assert f"lossopt_companion.{name}" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_shown(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, report=False)
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"


def test_the_examples_are_not_empty() -> None:
    attempted = sum(
        doctest.testmod(importlib.import_module(name), report=False, optionflags=doctest.ELLIPSIS).attempted
        for name in MODULES
    )
    assert attempted > 300
