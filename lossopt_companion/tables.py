r"""Result tables and numbers for notebooks: Markdown for Jupyter and the book, plain text for ``print``.

A notebook that compares optimizers or frameworks ends a cell with a :class:`Table`; Jupyter (and MyST-NB,
when building the book) calls its ``_repr_markdown_`` and renders a real table, while ``print(table)`` and
doctests see aligned plain text. A :class:`Number` is one result quoted in the prose (MyST-NB's ``glue``):
written as the prose writes numbers, with powers of ten typeset as :math:`1.2 \times 10^{-8}` rather than
``1.2e-08``. Table cells in scientific notation are typeset the same way. Nothing beyond the standard library
is needed.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Number", "Table"]

#: A number in Python's scientific notation ("5.85e-06", "-1E+10"): mantissa and exponent.
_SCIENTIFIC = re.compile(r"([+-]?\d+(?:\.\d*)?)[eE]([+-]?\d+)")
_SUPERSCRIPTS = str.maketrans("0123456789-+", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺")


def _as_power_of_ten(text: str, *, markdown: bool) -> str:
    """``"5.85e-06"`` as ``$5.85 \\times 10^{-6}$`` (Markdown) or ``5.85 × 10⁻⁶`` (text), else unchanged.

    A mantissa of 1 is left out (``1e-08`` is :math:`10^{-8}`), as the prose writes tolerances, and a zero is
    just 0.
    """
    match = _SCIENTIFIC.fullmatch(text.strip())
    if match is None:
        return text
    mantissa, exponent = match[1], int(match[2])
    if float(mantissa) == 0:
        return "0"
    sign = "-" if mantissa.startswith("-") else ""
    mantissa = mantissa.lstrip("+-")
    if markdown:
        power = f"10^{{{exponent}}}"
        return f"${sign}{power}$" if float(mantissa) == 1 else f"${sign}{mantissa} \\times {power}$"
    power = "10" + str(exponent).translate(_SUPERSCRIPTS)
    sign = "\u2212" if sign else ""  # a minus sign, not a hyphen
    return f"{sign}{power}" if float(mantissa) == 1 else f"{sign}{mantissa} \u00d7 {power}"


class Number:
    r"""A result quoted in the prose: ``glue("key", Number(x))`` in a cell, ``{glue}`key``` in the text.

    Shown with ``digits`` significant digits in Python's ``g`` format, which switches to powers of ten below
    :math:`10^{-4}`; those are typeset as maths in Markdown (:math:`1.2 \times 10^{-8}`) and written with
    Unicode superscripts as text (``1.2 × 10⁻⁸``). Integers are shown whole, and so are floats from
    :math:`10^{\text{digits}}` up to a million (``40972``, not :math:`4.1 \times 10^{4}`); above a million,
    powers of ten again. MyST-NB's ``{glue}`` role renders the Markdown form (``{glue:md}`` would parse it as
    CommonMark, leaving the dollars), ``{glue:text}`` the text form.

    Parameters
    ----------
    value : int or float
        The number; a finite real (NumPy scalars included).
    digits : int, optional
        Significant digits of a float, at least 1. Default: 2.

    Raises
    ------
    ValueError
        If ``value`` is not a finite real number (bools are refused) or ``digits`` is not a positive integer.

    Examples
    --------
    >>> from lossopt_companion.tables import Number
    >>> Number(3.2e-9)._repr_markdown_(), str(Number(3.2e-9))
    ('$3.2 \\times 10^{-9}$', '3.2 × 10⁻⁹')
    >>> str(Number(1e-8)), str(Number(0.1234, digits=3)), str(Number(-0.5))
    ('10⁻⁸', '0.123', '−0.5')
    >>> str(Number(8805)), str(Number(40972.3))
    ('8805', '40972')
    """

    def __init__(self, value: Any, digits: int = 2) -> None:
        if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(float(value)):
            raise ValueError(f"value must be a finite real number, got {value!r}")
        if isinstance(digits, bool) or not isinstance(digits, numbers.Integral) or digits < 1:
            raise ValueError(f"digits must be a positive integer, got {digits!r}")
        self.value: numbers.Real = value
        self.digits: int = int(digits)

    def _plain(self) -> str:
        if isinstance(self.value, numbers.Integral):
            return str(int(self.value))
        value = float(self.value)
        if 10.0**self.digits <= abs(value) < 1e6:  # whole, as the prose writes counts and large losses
            return f"{value:.0f}"
        return f"{value:.{self.digits}g}"

    def __str__(self) -> str:
        return _as_power_of_ten(self._plain(), markdown=False).replace("-", "\u2212", 1)

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        plain = self._plain()
        typeset = _as_power_of_ten(plain, markdown=True)
        return typeset if typeset != plain else plain.replace("-", "\u2212", 1)


Formatter = Callable[[Any], str]


def _default_format(value: Any) -> str:
    """Integers as they are, other reals with 4 significant digits (scientific when tiny or huge), text as is."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return str(value)
    if isinstance(value, numbers.Integral):
        return str(int(value))
    return f"{float(value):.4g}"


class Table:
    r"""A table of results with a header row: Markdown in Jupyter and in the book, aligned text when printed.

    Parameters
    ----------
    header : sequence of str
        The column titles.
    rows : sequence of sequences
        The rows, each with one value per column.
    formats : mapping of str to str or callable, optional
        Per column title, a format specification such as ``".2e"`` or a function from the value to its text.
        Columns without one use 4 significant digits for floats and ``str`` for anything else.
    caption : str, optional
        A line of text shown above the table.

    Raises
    ------
    ValueError
        If ``header`` is empty, a row has a different number of values, or ``formats`` names an unknown
        column.

    Examples
    --------
    >>> from lossopt_companion.tables import Table
    >>> header = ["optimizer", "iterations", "final loss"]
    >>> table = Table(header, [["GD", 1200, 3.2e-9], ["momentum", 95, 1e-10]])
    >>> print(table)
    optimizer  iterations  final loss
    ---------  ----------  ----------
    GD               1200     3.2e-09
    momentum           95       1e-10
    >>> print(table._repr_markdown_())
    | optimizer | iterations | final loss |
    | :-- | --: | --: |
    | GD | 1200 | $3.2 \times 10^{-9}$ |
    | momentum | 95 | $10^{-10}$ |
    """

    def __init__(
        self,
        header: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        formats: dict[str, str | Formatter] | None = None,
        caption: str = "",
    ) -> None:
        self.header = [str(title) for title in header]
        if not self.header:
            raise ValueError("header must name at least one column, got an empty sequence")
        self.rows = [list(row) for row in rows]
        for index, row in enumerate(self.rows):
            if len(row) != len(self.header):
                raise ValueError(
                    f"rows[{index}] must have {len(self.header)} values (one per column of header), got {len(row)}"
                )
        formats = dict(formats or {})
        unknown = sorted(set(formats) - set(self.header))
        if unknown:
            raise ValueError(
                f"formats names columns that are not in header: {unknown}; header is {self.header}"
            )
        self._formatters: list[Formatter] = []
        for title in self.header:
            spec = formats.get(title)
            if spec is None:
                self._formatters.append(_default_format)
            elif callable(spec):
                self._formatters.append(spec)
            else:
                self._formatters.append(lambda value, spec=spec: format(value, spec))
        self.caption = caption

    def cells(self) -> list[list[str]]:
        """Return the formatted body: one list of strings per row.

        Returns
        -------
        list of list of str
            The text of every cell, as the table shows it.
        """
        return [[formatter(value) for formatter, value in zip(self._formatters, row)] for row in self.rows]

    def _numeric_columns(self) -> list[bool]:
        """A column is right-aligned when every value in it is a number (and not a bool)."""
        return [
            bool(self.rows)
            and all(
                isinstance(row[column], numbers.Real) and not isinstance(row[column], bool)
                for row in self.rows
            )
            for column in range(len(self.header))
        ]

    def __str__(self) -> str:
        body = self.cells()
        widths = [max(len(text) for text in column) for column in zip(self.header, *body)]
        numeric = self._numeric_columns()

        def line(texts: Sequence[str]) -> str:
            return "  ".join(
                text.rjust(width) if right else text.ljust(width)
                for text, width, right in zip(texts, widths, numeric)
            ).rstrip()

        lines = [self.caption] if self.caption else []
        lines += [line(self.header), "  ".join("-" * width for width in widths)]
        lines += [line(row) for row in body]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)

    def _repr_markdown_(self) -> str:
        def escape(text: str) -> str:
            return text.replace("|", r"\|")

        alignment = ["--:" if right else ":--" for right in self._numeric_columns()]
        lines = [f"**{self.caption}**", ""] if self.caption else []
        lines.append("| " + " | ".join(escape(title) for title in self.header) + " |")
        lines.append("| " + " | ".join(alignment) + " |")
        lines += [
            "| " + " | ".join(escape(_as_power_of_ten(text, markdown=True)) for text in row) + " |"
            for row in self.cells()
        ]
        return "\n".join(lines)
