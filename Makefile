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

.PHONY: help setup book test bench clean

help:
	@echo "make book   build the executed book into _build/html (sets up .venv first)"
	@echo "make test   run the unit tests and every notebook (sets up .venv first)"
	@echo "make bench  run the benchmarks against torch and TensorFlow"
	@echo "make clean  remove _build and caches (keeps .venv)"

setup: $(STAMP)

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $(STAMP)

book: $(STAMP)
	$(BIN)/jupyter-book build . --builder html -W -n --keep-going
	@# Sphinx does not warn about maths that failed to parse: a stray "$" before a maths span gives it away.
	@if grep -rlF '$$<span class="math' _build/html/book; then \
		echo "the pages above show broken maths (a stray \$$): check their \$$\$$ ... \$$\$$ blocks"; exit 1; fi

test: $(STAMP)
	$(BIN)/python -m pytest -n 2 --dist loadfile

bench: $(STAMP)
	@for script in benchmarks/*.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

clean:
	rm -rf _build .pytest_cache .jupyter_cache .hypothesis
