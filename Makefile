# Set-up and everyday commands. Each target installs what it needs into .venv first.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: play hello test lint bench

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	# torch first, pinned: the CPU build is served quickly; an open range would pull a CUDA build.
	$(PY) -m pip install -q torch==2.13.0
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

play: $(STAMP)
	$(VENV)/bin/anchorworld run games/village.py

hello: $(STAMP)
	$(VENV)/bin/anchorworld run games/hello.py

xvfb:
	@command -v xvfb-run >/dev/null || (apt-get update -qq && apt-get install -y -qq xvfb xauth >/dev/null)

test: $(STAMP) xvfb
	xvfb-run -a -s "-screen 0 1280x1024x24" $(PY) -m pytest -q -n 2 --timeout 600

lint: $(STAMP)
	$(VENV)/bin/ruff check engine systems worldmodel games tools tests
