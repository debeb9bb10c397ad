# Two commands on a fresh machine:  `make demo` (the kit's main job on the embedded default)
# and `make test` (the kit's test suite). Both create the environment first.
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup demo test

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	@missing=""; command -v dot >/dev/null || missing=" graphviz"; \
	command -v bwrap >/dev/null || missing="$$missing bubblewrap"; \
	/sbin/ldconfig -p 2>/dev/null | grep -q 'libseccomp\.so\.2' || missing="$$missing libseccomp2"; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq $$missing >/dev/null; \
	  else echo "Needed:$$missing (graphviz for keras.utils.plot_model, bubblewrap and libseccomp2 to sandbox grading kernels):"; \
	    echo "  sudo apt-get install$$missing"; exit 1; fi; fi
	python3 -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

demo: setup
	$(BIN)/labkit demo

test: setup
	$(BIN)/python -m pytest -ra
