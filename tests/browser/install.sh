#!/usr/bin/env bash
# The browser tools that the kit's page checks use, installed once and pinned: Debian's Chromium,
# Node.js and npm, then playwright-core (drives Chromium) and axe-core (the accessibility engine)
# into one npm prefix. Used by .ci/run (before `make test`), by tests/hub/run.sh, and by the
# accessibility and class-page tests when the tools are missing.
#
#   bash tests/browser/install.sh            # as root: apt-get for what is missing
#
# LABKIT_BROWSER_HOME (default /opt/labkit-browser as root, else ~/.cache/labkit-browser) holds the
# npm packages; a second run installs nothing. Prints the prefix on stdout, and nothing else there.
set -euo pipefail

NPM_PINS=(playwright-core@1.65.1 axe-core@4.14.1)
if [ "$(id -u)" = 0 ]; then default_home=/opt/labkit-browser; else default_home="$HOME/.cache/labkit-browser"; fi
BROWSER_HOME="${LABKIT_BROWSER_HOME:-$default_home}"

die() { echo "browser tools: $*" >&2; exit 1; }
timed() { local limit=$1; shift; timeout --kill-after=10 "$limit" "$@"; }

missing=()
command -v node >/dev/null || missing+=(nodejs)
command -v npm >/dev/null || missing+=(npm)
command -v chromium >/dev/null || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "needs ${missing[*]}: sudo apt-get install ${missing[*]}"
    timed 300 apt-get update -qq >&2 || die "apt-get update failed"
    DEBIAN_FRONTEND=noninteractive timed 900 apt-get install -y -qq "${missing[@]}" >/dev/null \
        || die "apt-get install ${missing[*]} failed"
fi

wanted="${NPM_PINS[*]}"
if [ "$(cat "$BROWSER_HOME/.installed" 2>/dev/null)" != "$wanted" ]; then
    mkdir -p "$BROWSER_HOME"
    timed 600 npm install --silent --no-audit --no-fund --prefix "$BROWSER_HOME" "${NPM_PINS[@]}" >&2 \
        || die "npm install $wanted failed"
    echo "$wanted" > "$BROWSER_HOME/.installed"
fi
chmod -R a+rX "$BROWSER_HOME"
echo "browser tools: node $(node --version), $(chromium --version 2>/dev/null | head -1), $wanted" >&2
echo "$BROWSER_HOME"
