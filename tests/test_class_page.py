"""The class page from GradeResults alone (no notebook runs, no browser): the planted mistakes'
groups name the right students, the groups agree with grades.csv, nothing a student wrote becomes
markup, `labkit report` writes the page from a grading folder's state files, and the feedback
page's readability fixes."""
from __future__ import annotations

import json

import class_samples as samples
import pytest

from autograder.course.files import write_json_atomic
from autograder.reporting import accessible, class_page, class_results


@pytest.fixture(scope="module")
def planted(settings, tmp_path_factory):
    """The planted class graded into a folder: grades.csv, a feedback page for some, and the page."""
    out = tmp_path_factory.mktemp("planted")
    results = samples.planted_class(settings)
    for result in results[:3]:   # feedback pages exist for some students only: only those are links
        page = out / "feedback" / result.student / settings.assignment / f"{settings.assignment}.html"
        page.parent.mkdir(parents=True)
        page.write_text("<html lang='en'><body>feedback</body></html>")
    csv = class_results.write_csv(results, settings, out / "grades.csv", assessments={})
    path = class_page.write(results, settings, out, assessments={})
    return {"out": out, "results": results, "csv": csv, "page": path, "read": samples.read_page(path)}


def test_the_page_names_each_planted_mistake_with_the_right_students(planted, settings):
    groups = planted["read"].groups
    by_cell = {}
    for key, group in groups.items():
        by_cell.setdefault(key.split(":")[0], []).append(group)
    for grade_id, students in samples.EXPECTED.items():
        assert len(by_cell[grade_id]) == 1, f"{grade_id} split into {len(by_cell[grade_id])} groups"
        group = by_cell[grade_id][0]
        assert set(group["students"]) == students and group["count"] == len(students), (grade_id, group)
    text = {cell: " ".join(by_cell[cell][0]["text"]) for cell in samples.EXPECTED}
    assert "a frozen base" in text["a05_transfer_model_visible"]
    assert "dropout, a weight penalty" in text["a09_regularized_visible"]
    assert "the report of `regularized_model` on val_ds" in text["a12_report_visible"]
    assert set(by_cell) == set(samples.EXPECTED)   # nobody else lost points: no other group
    assert planted["page"] == planted["out"] / "class_report" / f"{settings.assignment}.html"


def test_the_groups_on_the_page_are_those_of_grades_csv(planted):
    from_csv = samples.groups_from_csv(planted["csv"])
    on_page = {key: set(group["students"]) for key, group in planted["read"].groups.items()}
    assert on_page == from_csv
    assert all(group["count"] == len(from_csv[key]) for key, group in planted["read"].groups.items())


def test_students_link_to_their_feedback_pages_when_they_exist(planted, settings):
    links = [attributes for tag, attributes in planted["read"].tags if tag == "a" and "data-student" in attributes]
    linked = {a["data-student"] for a in links}
    assert linked == {r.student for r in planted["results"][:3]}
    for anchor in links:
        assert (planted["page"].parent / anchor["href"]).resolve().is_file()


def test_the_threshold_and_the_students_to_look_at_first(planted, settings):
    text = " ".join(planted["read"].text)
    below = [r.student for r in planted["results"] if r.verify["accuracy"] < settings.accuracy_threshold]
    assert f"{len(below)} below it" in text
    first = planted["read"].text[planted["read"].text.index("Students to look at first", 30):]
    for student in ("ben_unfrozen", "cy_no_regularization", "gus_unfrozen_shuffled"):   # within 0.02 of the threshold
        assert student in " ".join(first[:200]), student


def test_nothing_a_student_wrote_becomes_markup(settings, tmp_path):
    hostile = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    results = [samples.result(settings, f"eve{hostile}", {"a09_regularized_visible": f"expected <b>{hostile}</b>"},
                              accuracy=0.74, status="grading error", message=f"grading error: {hostile}"),
               samples.result(settings, "ok_student", {})]
    read = samples.read_page(class_page.write(results, settings, tmp_path, assessments={}, draw=False))
    assert not [tag for tag, _ in read.tags if tag in ("script", "b")]
    assert not [attributes for tag, attributes in read.tags if tag == "img" and attributes.get("src") == "x"]
    text = "".join(read.text)
    assert f"eve{hostile}" in text and f"<b>{hostile}</b>" in text   # shown as the text it is
    assert any(attributes.get("data-student") == f"eve{hostile}" for _, attributes in read.tags)


def test_labkit_report_writes_the_page_from_the_state_files(settings, tmp_path, capsys):
    from autograder.cli import main

    for result in samples.planted_class(settings):
        write_json_atomic(tmp_path / "state" / f"{result.student}.json", result.to_dict())
    assert main(["report", "--out", str(tmp_path)]) == 0
    page = tmp_path / "class_report" / f"{settings.assignment}.html"
    assert f"class page: {page}" in capsys.readouterr().out
    groups = samples.read_page(page).groups
    assert {key.split(":")[0] for key in groups} == set(samples.EXPECTED)
    for name in ("activities", "accuracy", "cost"):
        assert (page.parent / f"{settings.assignment}_{name}.png").stat().st_size > 0
    assert main(["report", "--out", str(tmp_path / "nothing")]) == 1


def test_feedback_pages_get_a_language_readable_colours_and_described_figures():
    page = ("<html><head><style>.highlight .c1 { color: #3D7B7B; font-style: italic }</style></head><body>"
            "<h2>Activity 3: show random images of every class\u00b6</h2>"
            '<img src="data:image/png;base64,AA" alt="No description has been provided for this image">'
            '<pre style="white-space:pre;overflow-x:auto"><span style="color: rgb(0,175,0)">ok</span></pre>'
            "<h4>transfer_learning (Score: 1.0 / 2.0)</h4></body></html>")
    fixed = accessible.feedback_page(page)
    assert fixed.startswith('<html lang="en">')
    title = "\u201cActivity 3: show random images of every class\u201d"
    assert f'alt="A figure drawn by the notebook under {title}"' in fixed
    assert '<pre tabindex="0"' in fixed and "<h3>transfer_learning (Score: 1.0 / 2.0)</h3>" in fixed
    assert ".highlight .c1 { color: #" in fixed.split("labkit-readable")[1]
    darker = fixed.split('<span style="color: ')[1].split(")")[0].split('"')[0]
    assert accessible.contrast(darker, accessible.CODE_BACKGROUND) >= 4.5
    assert accessible.contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert accessible.feedback_page(fixed).count('id="labkit-readable"') == 1   # made readable once


def test_state_files_keep_the_submitted_and_regraded_accuracies(settings, tmp_path):
    from autograder.reporting import class_attention

    result = samples.result(settings, "dan", {})
    result.reproduced = [{"activity": 8, "label": "validation", "submitted": 0.9, "regraded": 0.85}]
    write_json_atomic(tmp_path / "state" / "dan.json", result.to_dict())
    again = class_page.results_in(tmp_path)[0]
    assert json.loads(json.dumps(again.reproduced)) == result.reproduced
    assert class_attention.differences(again) == [
        "activity 8: validation accuracy 0.9000 in the submitted notebook, 0.8500 regraded"]
