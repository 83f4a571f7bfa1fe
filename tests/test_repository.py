"""Guards on the repository itself: the table of contents, the stored notebooks and the package's imports."""

from __future__ import annotations

import json
import re
import pkgutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"

# Modules that may need more than NumPy: plotting, and the bridges that build torch / Keras models.
OPTIONAL_MODULES = {"viz", "frameworks"}
FRAMEWORKS = ("torch", "tensorflow", "keras", "matplotlib", "sklearn", "scipy", "tqdm")


def _toc_files() -> list[str]:
    """Every `file:` entry of _toc.yml (and the root), without suffix, relative to the repository root."""
    entries = []
    for line in (ROOT / "_toc.yml").read_text(encoding="utf-8").splitlines():
        stripped = line.split("#", 1)[0].strip().lstrip("- ").strip()
        for key in ("file:", "root:"):
            if stripped.startswith(key):
                entries.append(stripped[len(key) :].strip())
    return entries


def _book_pages() -> list[Path]:
    pages = [*BOOK.rglob("*.md"), *BOOK.rglob("*.ipynb")]
    return sorted(p for p in pages if ".ipynb_checkpoints" not in p.parts)


def test_every_toc_entry_exists() -> None:
    missing = []
    for entry in _toc_files():
        candidates = [ROOT / f"{entry}{suffix}" for suffix in (".md", ".ipynb")]
        if not any(c.is_file() for c in candidates):
            missing.append(entry)
    assert not missing, f"_toc.yml names pages that do not exist: {missing}"


def test_every_page_is_in_the_toc() -> None:
    listed = set(_toc_files())
    orphans = [
        str(p.relative_to(ROOT))
        for p in _book_pages()
        if str(p.relative_to(ROOT).with_suffix("")) not in listed
    ]
    assert not orphans, f"pages under book/ that _toc.yml does not list (they would not be built): {orphans}"


def test_toc_has_no_duplicates() -> None:
    entries = _toc_files()
    assert len(entries) == len(set(entries)), f"_toc.yml lists a page twice: {entries}"


def test_notebooks_are_stored_without_outputs() -> None:
    notebooks = sorted(BOOK.rglob("*.ipynb"))
    assert notebooks, "the book has no notebooks"
    dirty = []
    for path in notebooks:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        for index, cell in enumerate(notebook["cells"]):
            if cell["cell_type"] == "code" and (
                cell.get("outputs") or cell.get("execution_count") is not None
            ):
                dirty.append(f"{path.relative_to(ROOT)} cell {index}")
    assert not dirty, f"clear these outputs (jupyter nbconvert --clear-output --inplace): {dirty}"


def test_notebooks_use_the_python3_kernel() -> None:
    for path in BOOK.rglob("*.ipynb"):
        kernelspec = json.loads(path.read_text(encoding="utf-8"))["metadata"].get("kernelspec", {})
        assert kernelspec.get("name") == "python3", f"{path.name}: kernelspec {kernelspec}"


def _code_cells(path: Path) -> list[tuple[int, list[str], str]]:
    """(index, tags, source) of every code cell of a stored notebook."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    return [
        (index, cell.get("metadata", {}).get("tags", []), "".join(cell["source"]))
        for index, cell in enumerate(cells)
        if cell["cell_type"] == "code"
    ]


def test_tensorflow_imports_hide_their_log_lines() -> None:
    # Importing TensorFlow 2.21 writes absl log lines ("oneDNN custom operations are on ...") to stderr whatever
    # TF_CPP_MIN_LOG_LEVEL says. The book's stderr_output is remove-warn, so an untagged cell fails the build.
    untagged = []
    for path in sorted(BOOK.rglob("*.ipynb")):
        for index, tags, source in _code_cells(path):
            imports_tf = any(
                line.lstrip().startswith(
                    ("import tensorflow", "import keras", "from tensorflow", "from keras")
                )
                for line in source.splitlines()
            )
            if imports_tf and "remove-stderr" not in tags:
                untagged.append(f"{path.relative_to(ROOT)} cell {index}")
    assert not untagged, f"tag these cells remove-stderr: {untagged}"


def test_chapter_titles_leave_numbering_to_the_toc() -> None:
    # _toc.yml numbers the chapters; a title that starts with its own number would read "3. 3. ...".
    numbered = []
    for index_page in sorted(BOOK.glob("[0-9][0-9]-*/index.md")):
        title = index_page.read_text(encoding="utf-8").splitlines()[0]
        if title.lstrip("# ").split(" ", 1)[0].rstrip(".").isdigit():
            numbered.append(f"{index_page.relative_to(ROOT)}: {title}")
    assert not numbered, f"drop the number from these titles: {numbered}"


def _core_modules() -> list[str]:
    import lossopt_companion

    names = [m.name for m in pkgutil.iter_modules(lossopt_companion.__path__) if not m.name.startswith("_")]
    return sorted(set(names) - OPTIONAL_MODULES)


def _modules_loaded_by(statement: str) -> set[str]:
    code = f"import sys; {statement}; print('\\n'.join(sorted(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return set(result.stdout.split())


def test_import_loads_no_framework() -> None:
    loaded = _modules_loaded_by("import lossopt_companion")
    assert not loaded & set(FRAMEWORKS), f"import lossopt_companion loaded {sorted(loaded & set(FRAMEWORKS))}"


def test_core_modules_need_numpy_only() -> None:
    core = _core_modules()
    assert "losses" in core
    statement = "; ".join(f"import lossopt_companion.{name}" for name in core)
    loaded = _modules_loaded_by(statement)
    heavy = sorted(top for top in FRAMEWORKS if top in loaded)
    assert not heavy, f"core modules {core} imported {heavy}; import them lazily inside functions"


def test_package_metadata_has_ranges_not_pins() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert [d.split(">")[0].split("=")[0].strip() for d in project["dependencies"]] == ["numpy"]
    every = list(project["dependencies"]) + [
        d for deps in project["optional-dependencies"].values() for d in deps
    ]
    pinned = [d for d in every if "==" in d]
    assert not pinned, f"pyproject.toml must give ranges, not exact pins: {pinned}"
    assert {"viz", "torch", "tensorflow", "book"} <= set(project["optional-dependencies"])


def test_requirements_pin_every_package_exactly() -> None:
    lines = [ln.strip() for ln in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines()]
    packages = [ln for ln in lines if ln and not ln.startswith("#")]
    loose = [ln for ln in packages if ln != "-e ." and "==" not in ln]
    assert not loose, f"requirements.txt must pin exactly: {loose}"
    assert "-e ." in packages
    pins = {ln.split("==")[0].lower().replace("_", "-"): ln.split("==")[1] for ln in packages if "==" in ln}
    assert pins["torch"] == "2.13.0" and pins["tensorflow-cpu"] == "2.21.0"
    assert pins["jupyter-book"] == "1.0.4.post1" and pins["nbmake"] == "1.5.5"
    assert pins["sphinx"].startswith("7.4.") and int(pins["pytest"].split(".")[0]) < 10


@pytest.mark.slow
def test_built_wheel_is_a_working_numpy_only_package(tmp_path: Path) -> None:
    """`pip install .` gives the whole package: build the wheel, import every core module from it alone."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("lossopt_companion-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
        archive.extractall(tmp_path / "site")
    assert "lossopt_companion/py.typed" in names
    source = {str(p.relative_to(ROOT)) for p in (ROOT / "lossopt_companion").rglob("*.py")}
    assert source <= set(names), f"modules missing from the wheel: {sorted(source - set(names))}"
    core = _core_modules()
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); import lossopt_companion as lc; "
        + "; ".join(f"import lossopt_companion.{name}" for name in core)
        + "; assert lc.__file__.startswith(sys.argv[1]), lc.__file__"
        + f"; heavy = [m for m in {FRAMEWORKS!r} if m in sys.modules]; assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-I", "-c", code, str(tmp_path / "site")], check=True, cwd=tmp_path)


# --- what the pages show ------------------------------------------------------------------------------------

#: Code a reader sees: at most 88 characters a line, what the article column shows without scrolling from a
#: 1280 px window up (book/_static/lossopt.css; the browser tests check the rendered pages).
LINE_BUDGET = 88


def _wide_lines(name: str, source: str) -> list[str]:
    return [
        f"{name}: {len(line)} characters: {line[:60]}..."
        for line in source.splitlines()
        if len(line) > LINE_BUDGET
    ]


def test_code_the_reader_sees_fits_the_line_budget() -> None:
    wide = []
    for path in sorted([*BOOK.rglob("*.ipynb"), *(ROOT / "tests" / "fixtures").rglob("*.ipynb")]):
        for index, _, source in _code_cells(path):
            wide += _wide_lines(f"{path.relative_to(ROOT)} cell {index}", source)
    for path in sorted(BOOK.rglob("*.py")):
        if "_ext" not in path.parts:  # the build's own tooling, which no page shows
            wide += _wide_lines(str(path.relative_to(ROOT)), path.read_text(encoding="utf-8"))
    for path in sorted(BOOK.rglob("*.md")):
        fences = re.findall(r"^```[a-z]*\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.M | re.S)
        wide += _wide_lines(f"{path.relative_to(ROOT)} code block", "\n".join(fences))
    assert not wide, "lines over the 88-character budget (ruff format book/ does most of it):\n" + "\n".join(
        wide
    )


def test_chapter_pages_link_each_notebook_once() -> None:
    # The sidebar lists a chapter's pages already; the chapter page introduces each one in a sentence.
    problems = []
    for index_page in sorted(BOOK.glob("[0-9][0-9]-*/index.md")):
        text = index_page.read_text(encoding="utf-8")
        if "{tableofcontents}" in text:
            problems.append(f"{index_page.relative_to(ROOT)}: a tableofcontents repeats the list of pages")
        for notebook in sorted(index_page.parent.glob("*.ipynb")):
            if text.count(f"{{doc}}`{notebook.stem}`") != 1:
                problems.append(f"{index_page.relative_to(ROOT)}: link {{doc}}`{notebook.stem}` exactly once")
    assert not problems, "\n".join(problems)


def test_figure_text_stays_legible() -> None:
    # Figures are drawn at 100 dpi and shown at full size at 1440 px (the browser tests check the size), so a
    # point is 1.39 px: 8 pt is the smallest size that renders at 11 px or more. The house style's smallest
    # text is the legend's "small", 8.3 pt; "x-small" and "xx-small" are below it.
    too_small = []
    sizes = re.compile(r"\b(?:fontsize|labelsize|titlesize)=(?:(\d+(?:\.\d+)?)|[\"'](x-small|xx-small)[\"'])")
    for path in sorted(BOOK.rglob("*.ipynb")):
        for index, _, source in _code_cells(path):
            for points, keyword in sizes.findall(source):
                if keyword or float(points) < 8:
                    too_small.append(f"{path.relative_to(ROOT)} cell {index}: {points or keyword}")
    assert not too_small, "figure text below 8 pt (under 11 px on the page):\n" + "\n".join(too_small)
