"""Site-wide fixes for the built book, loaded by _config.yml (``sphinx: local_extensions``).

- The bibliography is labelled as the text cites, author and year ("Kingma and Ba,
2015"), instead of
  pybtex's alpha labels ("[KB15]", and "[GDollarG+17]" for an accented name): the
  ``authoryear`` style below, selected by ``bibtex_default_style`` in _config.yml.
- The API reference keeps straight quotes in parameter types: ``{"mean", "sum"}, default
"mean"`` is code,
  which Sphinx's smart quotes would otherwise turn into typographic quotes; prose keeps
  them.
- The book has no live code (no Binder, no Thebe), but Jupyter Book always loads
``sphinx_thebe``, whose set-up
  runs once per reading pass and so declares ``const THEBE_JS_URL`` twice in every page:
  a JavaScript error on each page load, and a script pointing at a CDN. Every Thebe
  asset is dropped from the pages.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from docutils import nodes
from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle
from sphinx import addnodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform


class AuthorYearLabelStyle(BaseLabelStyle):  # type: ignore[misc]
    """Labels "Huber, 1964", "Kingma and Ba, 2015", "Goyal et al., 2017"; "a", "b" tell equal labels apart."""

    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        labels = [self._label(entry) for entry in sorted_entries]
        repeated = Counter(labels)
        seen: Counter[str] = Counter()
        for label in labels:
            if repeated[label] > 1:
                seen[label] += 1
                yield f"{label}{'abcdefghijklmnopqrstuvwxyz'[seen[label] - 1]}"
            else:
                yield label

    @staticmethod
    def _label(entry: Any) -> str:
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        names = [
            Text.from_latex(" ".join(person.prelast_names + person.last_names)).render_as("text")
            for person in people
        ]
        if not names:
            who = entry.fields.get("title", entry.key)
        elif len(names) == 1:
            who = names[0]
        elif len(names) == 2:
            who = f"{names[0]} and {names[1]}"
        else:
            who = f"{names[0]} et al."
        return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(PlainStyle):  # type: ignore[misc]
    """pybtex's plain style (sorted by author, year, title) with author-year labels."""

    default_label_style = "lossopt_authoryear"


register_plugin("pybtex.style.labels", "lossopt_authoryear", AuthorYearLabelStyle)
register_plugin("pybtex.style.formatting", "authoryear", AuthorYearStyle)

_THEBE_FILES = ("sphinx-thebe.js", "sphinx-thebe.css")


def _is_thebe(asset: Any) -> bool:
    filename = str(getattr(asset, "filename", None) or asset)
    body = str(getattr(asset, "attributes", {}).get("body", ""))
    return filename.endswith(_THEBE_FILES) or "THEBE_JS_URL" in body or "unpkg.com/thebe" in filename


def _drop_thebe(app: Sphinx, pagename: str, templatename: str, context: dict[str, Any], doctree: Any) -> None:
    for key in ("script_files", "css_files"):
        if key in context:
            context[key] = [asset for asset in context[key] if not _is_thebe(asset)]


class StraightQuotesInApiTypes(SphinxTransform):
    """Turn smart quotes off in the parameter types of autodoc entries (before SmartQuotes runs, at 750)."""

    default_priority = 700

    def apply(self, **kwargs: Any) -> None:
        # napoleon (napoleon_use_param off) writes each parameter as "**name** (*type*)
        # -- description": the type is the emphasis right after the name's strong node
        # and the text " (".
        for description in self.document.findall(addnodes.desc):
            for field_list in description.findall(nodes.field_list):
                for emphasis in field_list.findall(nodes.emphasis):
                    siblings = emphasis.parent.children
                    at = siblings.index(emphasis)
                    if (
                        at >= 2
                        and isinstance(siblings[at - 2], nodes.strong)
                        and siblings[at - 1].astext().endswith("(")
                    ):
                        emphasis["support_smartquotes"] = False


def setup(app: Sphinx) -> dict[str, Any]:
    app.add_transform(StraightQuotesInApiTypes)
    # After sphinx-book-theme and pydata-sphinx-theme have filled in the page's assets.
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
