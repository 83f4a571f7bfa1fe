"""Every example in the package's docstrings runs and prints what it shows (the API page renders them)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import lossopt_companion

MODULES = sorted(
    info.name for info in pkgutil.walk_packages(lossopt_companion.__path__, "lossopt_companion.")
)


def test_every_public_module_is_found() -> None:
    for name in (
        "losses",
        "optim",
        "schedules",
        "second_order",
        "models",
        "training",
        "datasets",
        "viz",
        "tables",
    ):
        assert f"lossopt_companion.{name}" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run_as_shown(name: str) -> None:
    module = importlib.import_module(name)
    result = doctest.testmod(
        module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS, report=False
    )
    assert result.failed == 0, f"{result.failed} of {result.attempted} docstring examples of {name} failed"


def test_the_examples_are_not_empty() -> None:
    attempted = sum(
        doctest.testmod(importlib.import_module(name), report=False, optionflags=doctest.ELLIPSIS).attempted
        for name in MODULES
    )
    assert attempted > 300


#: The longest line of a docstring example, prompt and expected output included: the budget of the book's
#: notebook code, which fits the API page's column from a 1280 px window up (``book/_static/lossopt.css``).
EXAMPLE_LINE_LIMIT = 88


def example_lines(example: doctest.Example) -> list[str]:
    """The lines of ``example`` as the API page shows them: ``>>> `` and ``... `` prompts, then the output."""
    source = example.source.rstrip("\n").split("\n")
    shown = [(">>> " if index == 0 else "... ") + line for index, line in enumerate(source)]
    if example.want:
        shown += example.want.rstrip("\n").split("\n")
    return shown


def test_docstring_examples_fit_the_page() -> None:
    finder, parser = doctest.DocTestFinder(), doctest.DocTestParser()
    too_long = []
    for name in MODULES:
        for test in finder.find(importlib.import_module(name)):
            for example in parser.get_examples(test.docstring or "", test.name):
                too_long += [
                    f"{name}: {test.name}: {len(line)} characters: {line}"
                    for line in example_lines(example)
                    if len(line) > EXAMPLE_LINE_LIMIT
                ]
    assert not too_long, (
        f"docstring example lines longer than {EXAMPLE_LINE_LIMIT} characters:\n" + "\n".join(too_long)
    )
