r"""Small result tables for notebooks: shown as a Markdown table by Jupyter and the book, as text by ``print``.

A notebook that compares optimizers or frameworks ends a cell with a :class:`Table`; Jupyter (and MyST-NB, when
building the book) calls its ``_repr_markdown_`` and renders a real table, while ``print(table)`` and doctests
see aligned plain text. Nothing beyond the standard library is needed.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["Table"]

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
        If ``header`` is empty, a row has a different number of values, or ``formats`` names an unknown column.

    Examples
    --------
    >>> from lossopt_companion.tables import Table
    >>> table = Table(["optimizer", "iterations", "final loss"], [["GD", 1200, 3.2e-9], ["momentum", 95, 1e-10]])
    >>> print(table)
    optimizer  iterations  final loss
    ---------  ----------  ----------
    GD               1200     3.2e-09
    momentum           95       1e-10
    >>> print(table._repr_markdown_())
    | optimizer | iterations | final loss |
    | :-- | --: | --: |
    | GD | 1200 | 3.2e-09 |
    | momentum | 95 | 1e-10 |
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
            raise ValueError(f"formats names columns that are not in header: {unknown}; header is {self.header}")
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
            and all(isinstance(row[column], numbers.Real) and not isinstance(row[column], bool) for row in self.rows)
            for column in range(len(self.header))
        ]

    def __str__(self) -> str:
        body = self.cells()
        widths = [max(len(text) for text in column) for column in zip(self.header, *body)]
        numeric = self._numeric_columns()

        def line(texts: Sequence[str]) -> str:
            return "  ".join(
                text.rjust(width) if right else text.ljust(width) for text, width, right in zip(texts, widths, numeric)
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
        lines += ["| " + " | ".join(escape(text) for text in row) + " |" for row in self.cells()]
        return "\n".join(lines)
