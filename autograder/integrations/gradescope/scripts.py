"""The two scripts Gradescope runs from the autograder zip: setup.sh once, when it builds the image,
and run_autograder for every submission."""

SETUP_SH = r"""#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
set -euo pipefail
SOURCE="${LABKIT_AUTOGRADER_ROOT:-/autograder}/source"
VENV="${LABKIT_AUTOGRADER_ROOT:-/autograder}/venv"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# graphviz: keras.utils.plot_model; bubblewrap: the sandbox grading kernels run in
apt-get install -y -qq graphviz bubblewrap python3-venv >/dev/null
PYTHON=python3
if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  apt-get install -y -qq python3.11 python3.11-venv >/dev/null
  PYTHON=python3.11
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/pip" install -q --upgrade pip
"$VENV/bin/pip" install -q "$SOURCE/kit"
"$VENV/bin/python" -c "import autograder.integrations.pytest.plugin, keras; print('labkit autograder ready')"
"""

RUN_AUTOGRADER = r"""#!/usr/bin/env bash
# Gradescope runs this for every submission; it writes results/results.json.
ROOT="${LABKIT_AUTOGRADER_ROOT:-/autograder}"
PYTHON="${LABKIT_PYTHON:-$ROOT/venv/bin/python}"
export LABKIT_CONFIG="$ROOT/source/course/course_config.py"
export MPLBACKEND=Agg TF_CPP_MIN_LOG_LEVEL=2
exec "$PYTHON" -m autograder.integrations.gradescope run --root "$ROOT"
"""
