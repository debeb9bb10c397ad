"""Pages that everyone can read: the feedback page and the class page meet WCAG 2.1 AA where a
generated page can, as axe-core finds in headless Chromium (no serious or critical finding; the
language declared, headings that skip no level, every image described, no sideways scrolling at
200 % zoom). The check itself can fail: an image without alt text is a critical finding."""
from __future__ import annotations

import browser_tools as tools
import class_samples as samples
import pytest

from autograder.reporting import class_page

PLAIN = ("<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>One figure</title></head>"
         "<body><main><h1>One figure</h1><p>A picture of the class.</p>{image}</main></body></html>")


def readable(found: dict) -> list[str]:
    """Everything that keeps a page from being read by everyone, as far as a machine can tell."""
    problems = tools.serious(found) + tools.skipped_levels(found)
    if found["lang"] != "en":
        problems.append(f"lang is {found['lang']!r}")
    if found["zoom"]["scrollWidth"] > found["zoom"]["width"]:
        problems.append(f"scrolls sideways at 200 % zoom: {found['zoom']}")
    problems += [f"image without a description: {image['src'][:80]}" for image in found["images"]
                 if not (image["alt"] or "").strip() or "No description has been provided" in image["alt"]]
    return problems


def test_the_check_fails_on_an_image_without_alt_text(browser, tmp_path):
    without, described = tmp_path / "without.html", tmp_path / "described.html"
    without.write_text(PLAIN.format(image='<img src="plot.png" width="200" height="100">'))
    described.write_text(PLAIN.format(image='<img src="plot.png" width="200" height="100" alt="Bars: 3, 5 and 8">'))
    bare, fine = tools.check_pages(browser, [{"path": str(without)}, {"path": str(described)}])
    assert any(line.startswith("critical image-alt") for line in tools.serious(bare)), bare["violations"]
    assert readable(bare) and readable(fine) == []


def test_a_planted_class_page_reads_well(browser, settings, tmp_path):
    results = samples.planted_class(settings)
    results.append(samples.result(settings, "ivy<script>x</script>", samples.unregularized(), accuracy=None,
                                  status="grading error", message="grading error: <b>not markup</b>"))
    page = class_page.write(results, settings, tmp_path, assessments={})
    found = tools.check_pages(browser, [{"path": str(page)}])[0]
    assert readable(found) == [], found["violations"]
    assert [image["alt"] for image in found["images"] if not any(c.isdigit() for c in image["alt"])] == []
    assert all(image["loaded"] for image in found["images"]) and len(found["images"]) >= 3


@pytest.mark.slow
def test_the_demo_feedback_pages_and_class_page_read_well(browser, demo, settings):
    grading = demo["grading"]
    pages = [grading / "class_report" / f"{settings.assignment}.html",
             *sorted(grading.glob(f"feedback/*/{settings.assignment}/{settings.assignment}.html"))]
    assert len(pages) == 1 + len(demo["rows"])
    for path, found in zip(pages, tools.check_pages(browser, [{"path": str(p)} for p in pages])):
        assert readable(found) == [], f"{path}:\n" + "\n".join(readable(found))
