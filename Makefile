# Two commands on a fresh machine:  `make demo` (the kit's main job on the embedded default)
# and `make test` (the kit's test suite). Both create the environment first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@command -v dot >/dev/null || { \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq graphviz >/dev/null; \
	  else echo "Graphviz is needed for keras.utils.plot_model: sudo apt-get install graphviz"; exit 1; fi; }
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: setup
	$(BIN)/labkit demo

test: setup
	$(BIN)/python -m pytest -ra
