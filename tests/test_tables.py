"""lossopt_companion.tables: the Markdown and text forms of a result table, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from lossopt_companion.tables import Table


def test_markdown_form_is_a_table_with_numbers_right_aligned() -> None:
    table = Table(["name", "steps", "ok"], [["a|b", np.int64(3), True], ["c", 12, False]], caption="Results")
    lines = table._repr_markdown_().splitlines()
    assert lines[0] == "**Results**"
    assert lines[2] == "| name | steps | ok |"
    assert lines[3] == "| :-- | --: | :-- |"  # bools are not numbers here
    assert lines[4] == r"| a\|b | 3 | True |"


def test_text_form_aligns_columns_and_applies_formats() -> None:
    table = Table(["x", "error"], [[1.5, 1e-12], [10.25, 0.5]], formats={"error": ".1e", "x": lambda v: f"{v:.1f}"})
    lines = str(table).splitlines()
    assert lines == ["   x    error", "----  -------", " 1.5  1.0e-12", "10.2  5.0e-01"]
    assert table.cells() == [["1.5", "1.0e-12"], ["10.2", "5.0e-01"]]


def test_empty_body_is_allowed() -> None:
    assert str(Table(["a"], [])).splitlines() == ["a", "-"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"header": [], "rows": []}, "header"),
        ({"header": ["a", "b"], "rows": [[1, 2], [3]]}, r"rows\[1\] must have 2 values"),
        ({"header": ["a"], "rows": [[1]], "formats": {"b": ".2f"}}, "formats names columns"),
    ],
)
def test_bad_input_raises(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Table(**kwargs)
