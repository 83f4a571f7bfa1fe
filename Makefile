# `make book` and `make test` each set up .venv first when it is missing (or when requirements.txt or
# pyproject.toml changed), so both work on a fresh machine with only Python 3.11 and the package registries.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# TensorFlow prints C++ log lines to stderr on import; in a kernel they become stream outputs that fail a
# warnings-as-errors build. Every process started from here (pytest, nbmake kernels, jupyter-book) inherits this.
export TF_CPP_MIN_LOG_LEVEL := 3
export PYTHONHASHSEED := 0

# The browser tests drive Debian's chromium and need a CJK font for the Chinese quotes.
CHROMIUM ?= /usr/bin/chromium

.PHONY: help setup browser book check-book test bench clean

help:
	@echo "make book        build the executed book into _build/html (sets up .venv first)"
	@echo "make test        run the unit tests, every notebook, and the browser tests on a small fixture book"
	@echo "make check-book  check every page of _build/html in a real browser (after make book)"
	@echo "make bench       run the benchmarks against torch and TensorFlow"
	@echo "make clean       remove _build and caches (keeps .venv)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

# Installs the browser where it can (as root, with apt); otherwise says what to install. The browser tests then
# skip with the same message, except under CI=true, where a missing browser fails them.
browser:
	@if [ -x $(CHROMIUM) ] && fc-list :lang=zh 2>/dev/null | grep -q .; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "installing chromium and fonts-noto-cjk for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null; \
	else \
		echo "the browser tests need Debian's chromium and a CJK font: sudo apt-get install chromium fonts-noto-cjk"; \
	fi

# Every notebook is executed once, two at a time, into an emptied cache; the build then renders from it.
book: $(STAMP)
	$(BIN)/python book/_ext/execute_notebooks.py
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@# Sphinx does not warn about maths that failed to parse: a stray "$" before a maths span gives it away.
	@if grep -rlF '$$<span class="math' _build/html/book; then \
		echo "the pages above show broken maths (a stray \$$): check their \$$\$$ ... \$$\$$ blocks"; exit 1; fi

test: $(STAMP) browser
	$(BIN)/python -m pytest -n 2 --dist loadfile

# Every page of the built book at 1440 px, 390 px and 1440 px in dark mode; failing pages are screenshot into
# _build/browser-screenshots.
check-book: $(STAMP) browser
	@test -f _build/html/book/intro.html || { echo "no built book in _build/html: run make book first"; exit 1; }
	$(BIN)/python -m pytest tests/test_book_pages.py --book-html _build/html -n 2 --dist load

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf _build .pytest_cache .jupyter_cache .hypothesis
