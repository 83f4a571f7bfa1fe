"""lossopt_companion.tables: the Markdown and text forms of a result table, and its input checks."""

from __future__ import annotations

import numpy as np
import pytest

from lossopt_companion.tables import Number, Table


def test_markdown_form_is_a_table_with_numbers_right_aligned() -> None:
    table = Table(["name", "steps", "ok"], [["a|b", np.int64(3), True], ["c", 12, False]], caption="Results")
    lines = table._repr_markdown_().splitlines()
    assert lines[0] == "**Results**"
    assert lines[2] == "| name | steps | ok |"
    assert lines[3] == "| :-- | --: | :-- |"  # bools are not numbers here
    assert lines[4] == r"| a\|b | 3 | True |"


def test_text_form_aligns_columns_and_applies_formats() -> None:
    table = Table(
        ["x", "error"], [[1.5, 1e-12], [10.25, 0.5]], formats={"error": ".1e", "x": lambda v: f"{v:.1f}"}
    )
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


def test_markdown_cells_in_scientific_notation_are_typeset_as_powers_of_ten() -> None:
    table = Table(
        ["x", "error"], [["a", 5.85e-6], ["b", 1e-12], ["c", 0.25], ["d", 0.0]], formats={"error": ".3g"}
    )
    body = table._repr_markdown_().splitlines()[2:]
    assert body == [r"| a | $5.85 \times 10^{-6}$ |", r"| b | $10^{-12}$ |", "| c | 0.25 |", "| d | 0 |"]
    zero = Table(["error"], [[0.0]], formats={"error": ".1e"})._repr_markdown_()
    assert zero.splitlines()[-1] == "| 0 |"  # not 0.0 × 10⁰
    assert str(table).splitlines()[2:] == [
        "a  5.85e-06",
        "b     1e-12",
        "c      0.25",
        "d         0",
    ]  # text stays as printed


@pytest.mark.parametrize(
    ("value", "digits", "text", "markdown"),
    [
        (3.2e-9, 2, "3.2 × 10⁻⁹", r"$3.2 \times 10^{-9}$"),
        (1e-8, 2, "10⁻⁸", "$10^{-8}$"),
        (-2.5e10, 2, "−2.5 × 10¹⁰", r"$-2.5 \times 10^{10}$"),
        (-0.25, 2, "−0.25", "−0.25"),
        (0.12345, 3, "0.123", "0.123"),
        (np.float64(96.44), 3, "96.4", "96.4"),
        (np.int64(8805), 2, "8805", "8805"),
        (40972.3, 2, "40972", "40972"),
        (100.0, 2, "100", "100"),
        (2.5e7, 3, "2.5 × 10⁷", r"$2.5 \times 10^{7}$"),
    ],
)
def test_numbers_read_as_the_prose_writes_them(value: object, digits: int, text: str, markdown: str) -> None:
    number = Number(value, digits)
    assert str(number) == repr(number) == text
    assert number._repr_markdown_() == markdown


@pytest.mark.parametrize(
    ("value", "digits", "match"),
    [
        (True, 2, "value"),
        (float("nan"), 2, "value"),
        ("1", 2, "value"),
        (1.0, 0, "digits"),
        (1.0, 2.0, "digits"),
    ],
)
def test_number_rejects_what_is_not_a_finite_real(value: object, digits: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        Number(value, digits)  # type: ignore[arg-type]
