#!/usr/bin/env bash
# The live JupyterHub check: install what a real hub needs (pinned), start a hub on 127.0.0.1 with
# real Linux accounts, run the whole term of the lab through it, check formgrader in a headless
# browser, and tear everything down. Run as root on a machine that is not a production hub:
#
#   sudo bash tests/hub/run.sh
#
# Ends with one line "N passed, N failed"; the exit status is 0 only when nothing failed.
# LABKIT_HUB_HOME (default /opt/labkit-hub-check) keeps the environment between runs, so a
# second run installs nothing; the accounts, the hub's state and the exchange are temporary.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
CHECKOUT="$(cd "$HERE/../.." && pwd)"
HUB_HOME="${LABKIT_HUB_HOME:-/opt/labkit-hub-check}"
VENV="$HUB_HOME/venv"
NODE_PREFIX="$HUB_HOME/node"
STATE="$(mktemp -d /tmp/labkit-hub-check.XXXXXX)"
LOGS="${LABKIT_HUB_LOGS:-/tmp/labkit-hub-check-logs}"
# What a real hub runs (JupyterHub, JupyterLab, Notebook 7, nbgrader, the LTI 1.3 login of docs/lms.md), and
# the LTI 1.3 platform the check runs on loopback as the LMS (lti1p3platform, as in the test extra).
PIP_PINS=(jupyterhub==6.1.1 jupyterlab==4.6.6 notebook==7.6.5 nbgrader==0.9.6 jupyter_server==2.21.1
          jupyterhub-ltiauthenticator==1.6.3 lti1p3platform==0.1.8)
# the browser (Debian's chromium, node, npm) and what drives it (playwright-core) come from
# tests/browser/install.sh, which CI runs before `make test`: installed once for both
BROWSER_INSTALL="$HERE/../browser/install.sh"
SYSTEM_PYTHON=/usr/bin/python3   # not a Python under /root: the users' servers must read the venv

step() { printf '\n== %s\n' "$*"; }
die() { echo "hub check: $*" >&2; echo "0 passed, 1 failed"; exit 1; }
# Every install step has a timeout; a step that times out stops the check with its name.
timed() { local limit=$1; shift; timeout --kill-after=10 "$limit" "$@"; }

teardown() {
    local status=$?
    set +e
    if [ -f "$STATE/hub.pid" ]; then
        local pid; pid="$(cat "$STATE/hub.pid")"
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid"; for _ in $(seq 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
            kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
        fi
    fi
    # Accounts this check made (and only those: they carry its mark), with their homes and processes.
    "$VENV/bin/python" "$HERE/accounts.py" remove >/dev/null 2>&1 || true
    if [ -d "$STATE/logs" ]; then   # the hub's, the grader's and the browser's logs outlive the run
        rm -rf "$LOGS"; cp -r "$STATE/logs" "$LOGS" && echo "logs: $LOGS"
    fi
    rm -rf "$STATE"
    exit "$status"
}
trap teardown EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "run as root: it creates Linux accounts and starts their servers"
[ "$(uname -s)" = Linux ] || die "needs Linux (LocalProcessSpawner, useradd, bubblewrap)"

step "system packages (Debian): python3-venv, bubblewrap, graphviz"
missing=()
[ -x "$SYSTEM_PYTHON" ] && "$SYSTEM_PYTHON" -c 'import ensurepip, venv' 2>/dev/null || missing+=(python3-venv)
command -v bwrap >/dev/null || missing+=(bubblewrap)
command -v dot >/dev/null || missing+=(graphviz)
if [ ${#missing[@]} -gt 0 ]; then
    timed 300 apt-get update -qq || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive timed 900 apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi
echo "ok: $("$SYSTEM_PYTHON" --version)"

step "the browser: chromium, node, npm, playwright-core and axe-core (tests/browser/install.sh)"
BROWSER_HOME="$(bash "$BROWSER_INSTALL")" || die "tests/browser/install.sh failed"
echo "ok: $BROWSER_HOME"

step "npm: configurable-http-proxy in $NODE_PREFIX"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
if [ "$node_major" -ge 20 ]; then CHP_PIN=configurable-http-proxy@5.3.0; else CHP_PIN=configurable-http-proxy@4.6.3; fi
wanted_npm="$CHP_PIN"
if [ "$(cat "$NODE_PREFIX/.installed" 2>/dev/null)" != "$wanted_npm" ]; then
    mkdir -p "$NODE_PREFIX"
    timed 600 npm install --silent --no-audit --no-fund --prefix "$NODE_PREFIX" $wanted_npm \
        || die "npm install $wanted_npm failed"
    echo "$wanted_npm" > "$NODE_PREFIX/.installed"
fi
echo "ok: $wanted_npm"

step "Python environment $VENV (from $SYSTEM_PYTHON): ${PIP_PINS[*]} and the kit"
# the kit from this checkout's files (what git tracks, as they are now), built outside the checkout
KIT_SOURCE="$STATE/kit-source"
mkdir -p "$KIT_SOURCE"
git -C "$CHECKOUT" rev-parse --git-dir >/dev/null 2>&1 \
    || die "$CHECKOUT must be a git checkout (the kit is installed from the files git tracks)"
(cd "$CHECKOUT" && git ls-files -z | xargs -0 cp --parents -t "$KIT_SOURCE" 2>/dev/null || true)
wanted_pip="$("$SYSTEM_PYTHON" --version) ${PIP_PINS[*]} $(sha256sum "$CHECKOUT/pyproject.toml" | cut -c1-16)"
if [ "$(cat "$VENV/.installed" 2>/dev/null)" != "$wanted_pip" ]; then
    rm -rf "$VENV"
    "$SYSTEM_PYTHON" -m venv "$VENV" || die "could not make a venv with $SYSTEM_PYTHON"
    timed 300 "$VENV/bin/pip" install -q --upgrade pip >"$STATE/pip.log" 2>&1 || die "pip upgrade failed"
    timed 1200 "$VENV/bin/pip" install -q "${PIP_PINS[@]}" "$KIT_SOURCE" >"$STATE/pip.log" 2>&1 \
        || { tail -30 "$STATE/pip.log"; die "pip install failed"; }
    echo "$wanted_pip" > "$VENV/.installed"
else
    # the environment is current: only the kit is put in again, from this checkout
    timed 300 "$VENV/bin/pip" install -q --no-deps --force-reinstall "$KIT_SOURCE" >"$STATE/pip.log" 2>&1 \
        || { tail -30 "$STATE/pip.log"; die "pip install of the kit failed"; }
fi
# every account's server and kernel runs from this environment
chmod -R a+rX "$HUB_HOME"
echo "ok: JupyterHub $("$VENV/bin/jupyterhub" --version 2>/dev/null | tail -1)," \
     "nbgrader $("$VENV/bin/python" -c 'import nbgrader; print(nbgrader.__version__)')"

step "the hub check"
export PATH="$VENV/bin:$NODE_PREFIX/node_modules/.bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
export LABKIT_HUB_STATE="$STATE" LABKIT_HUB_CHECKOUT="$CHECKOUT" LABKIT_HUB_NODE="$NODE_PREFIX"
export LABKIT_BROWSER_HOME="$BROWSER_HOME"
set +e
timed "${LABKIT_HUB_TIMEOUT:-1500}" "$VENV/bin/python" "$HERE/hub_check.py"
status=$?
set -e
if [ "$status" = 124 ] || [ "$status" = 137 ]; then
    echo "hub check: stopped after ${LABKIT_HUB_TIMEOUT:-1500} s"; echo "0 passed, 1 failed"
fi
exit "$status"
