"""The class page of a graded demo class, seen in headless Chromium: `make demo` ends with its
path, its groups are those of grades.csv (counted from the CSV), the demo's planted mistake (a base
left trainable) is named with its student, every link resolves, every picture loads, and a
screenshot is kept (in $LABKIT_SCREENSHOTS if set: `LABKIT_SCREENSHOTS=docs/images` updates the
README's docs/images/class_report.png)."""
from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import unquote, urlparse

import browser_tools as tools
import class_samples as samples
import pytest

pytestmark = pytest.mark.slow


def test_the_demo_class_page_in_a_browser(browser, demo, settings, tmp_path):
    grading = demo["grading"]
    page = grading / "class_report" / f"{settings.assignment}.html"
    assert demo["run"].stdout.strip().splitlines()[-1].startswith(f"class page: {page}")
    shots = Path(os.environ.get("LABKIT_SCREENSHOTS") or tmp_path).resolve()
    shots.mkdir(parents=True, exist_ok=True)
    found = tools.check_pages(browser, [{"path": str(page), "screenshot": str(shots / "class_report.png")}])[0]
    assert (shots / "class_report.png").stat().st_size > 10_000

    from_csv = samples.groups_from_csv(grading / "grades.csv")
    on_page = {group["key"]: set(group["students"]) for group in found["groups"]}
    assert on_page == from_csv and len(on_page) == len(found["groups"])
    assert all(group["count"] == len(from_csv[group["key"]]) for group in found["groups"])
    unfrozen = [g for g in found["groups"] if g["key"].startswith("a05_transfer_model_visible: a frozen base")]
    assert [g["students"] for g in unfrozen] == [["s04_unfrozen_base"]] and "a frozen base" in unfrozen[0]["text"]

    targets = {link["href"] for link in found["links"]}
    for href in targets:
        address = urlparse(href)
        assert address.scheme == "file", href
        if address.path == str(page) and address.fragment:
            assert address.fragment in found["ids"], href
        else:
            assert Path(unquote(address.path)).is_file(), href
    feedback = {unquote(urlparse(h).path) for h in targets if "/feedback/" in h}
    assert feedback == {str(grading / "feedback" / s / settings.assignment / f"{settings.assignment}.html")
                        for s in demo["rows"]}
    assert len(found["images"]) == 4 and all(image["loaded"] and image["alt"] for image in found["images"])
