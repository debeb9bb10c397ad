"""Headless Chromium (Debian's) driven by playwright-core, with axe-core, for the tests that look at
generated pages the way a reader's browser does: tests/browser/page_check.cjs does the looking.

The tools are installed once by tests/browser/install.sh (CI runs it before `make test`). When they
are missing here, the first test that needs them runs that script; if it cannot (not root, no
registry), the browser tests are skipped with the reason, but never in CI (CI=true): there they fail."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from machine_needs import unavailable

HERE = Path(__file__).resolve().parent / "browser"
INSTALL = HERE / "install.sh"
PAGE_CHECK = HERE / "page_check.cjs"
SERIOUS = ("serious", "critical")


def home() -> Path:
    """Where install.sh puts the npm packages (LABKIT_BROWSER_HOME, as the script reads it)."""
    if os.environ.get("LABKIT_BROWSER_HOME"):
        return Path(os.environ["LABKIT_BROWSER_HOME"])
    return Path("/opt/labkit-browser") if os.geteuid() == 0 else Path.home() / ".cache" / "labkit-browser"


def missing(prefix: Path) -> list[str]:
    gone = [tool for tool in ("node", "chromium") if shutil.which(tool) is None]
    gone += [f"{package} in {prefix}" for package in ("playwright-core", "axe-core")
             if not (prefix / "node_modules" / package / "package.json").is_file()]
    return gone


def tools() -> Path:
    """The npm prefix with playwright-core and axe-core, Chromium and node on PATH; installed by
    install.sh if need be. Fails in CI, skips elsewhere, when they cannot be had."""
    prefix = home()
    if missing(prefix):
        run = subprocess.run(["bash", str(INSTALL)], capture_output=True, text=True, timeout=1800,
                             env={**os.environ, "LABKIT_BROWSER_HOME": str(prefix)})
        still = missing(prefix)
        if still:
            reason = (f"the browser tools are missing ({', '.join(still)}) and tests/browser/install.sh could not "
                      f"install them: {(run.stderr or run.stdout).strip()[-400:]}; run `sudo bash {INSTALL}`")
            unavailable(reason)
    return prefix


def check_pages(prefix: Path, pages: list[dict], timeout: float = 600) -> list[dict]:
    """What page_check.cjs reports for each page ({"path": ..., "screenshot": optional path})."""
    run = subprocess.run(["node", str(PAGE_CHECK), json.dumps({"pages": pages, "chromium": shutil.which("chromium")})],
                         capture_output=True, text=True, timeout=timeout, cwd=prefix,
                         env={**os.environ, "NODE_PATH": str(prefix / "node_modules")})
    found = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert run.returncode == 0 and len(found) == len(pages), f"page_check.cjs failed:\n{run.stderr[-3000:]}"
    return found


def serious(found: dict) -> list[str]:
    """axe-core's serious and critical findings on one page, one line each."""
    return [f"{v['impact']} {v['id']}: {v['help']} ({'; '.join(n['target'] for n in v['nodes'])})"
            for v in found["violations"] if v["impact"] in SERIOUS]


def skipped_levels(found: dict) -> list[str]:
    """Headings that go down more than one level at once (h2 then h4)."""
    levels = [level for level, _ in found["headings"]]
    return [f"h{a} then h{b}: {found['headings'][i + 1][1]}" for i, (a, b) in enumerate(zip(levels, levels[1:]))
            if b > a + 1]
