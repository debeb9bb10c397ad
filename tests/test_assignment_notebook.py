"""The source notebook follows its contract: nbgrader metadata, the "aNN_" grade ids, the points of
course_config.py, and the names of DESIGN section 4. Pure python, no kernel."""
from __future__ import annotations

import copy
import re

import assignment_helpers as helpers
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from autograder.authoring import solutions
from autograder.course import vocabulary as authoring

SOURCE = helpers.read(helpers.SOURCE_NOTEBOOK)
NAMES = {1: ["tf", "keras"], 2: ["train_ds", "val_ds", "class_names"], 3: ["sample_figure"],
         4: ["base_model"], 5: ["model"], 6: ["architecture_diagram"], 7: ["history"],
         8: ["train_accuracy", "val_accuracy"], 9: ["regularized_model"], 10: ["regularized_history"],
         11: ["curves_figure"], 12: ["report"]}


def test_points_per_activity_agree_with_course_config():
    assert authoring.points_by_activity(SOURCE) == helpers.SETTINGS.points


def test_sync_points_reports_nothing_to_change():
    assert authoring.sync_points(copy.deepcopy(SOURCE), helpers.SETTINGS.points) == []


def test_sync_points_rewrites_points_in_proportion():
    notebook = copy.deepcopy(SOURCE)
    points = {**helpers.SETTINGS.points, 5: 6, 10: 10}
    changes = authoring.sync_points(notebook, points)
    assert authoring.points_by_activity(notebook) == {**helpers.SETTINGS.points, 5: 6.0, 10: 10.0}
    assert any(line.startswith("a05_transfer_model_visible") for line in changes)


def test_sync_points_refuses_points_for_an_activity_without_grade_cells():
    notebook = copy.deepcopy(SOURCE)
    notebook.cells = [c for c in notebook.cells
                      if not (authoring.activity_of(c) == 3 and authoring.is_grade_cell(c))]
    with pytest.raises(ValueError, match="activity 3"):
        authoring.sync_points(notebook, {3: 5})


def test_every_cell_follows_the_grade_id_convention():
    assert authoring.naming_problems(SOURCE) == []
    graded = {authoring.activity_of(c) for c in authoring.grade_cells(SOURCE)}
    assert graded == set(range(1, 14))


def test_nbgrader_metadata_is_valid():
    MetadataValidator().validate_nb(copy.deepcopy(SOURCE))
    for candidate in SOURCE.cells:
        meta = authoring.nbgrader_meta(candidate)
        assert meta["schema_version"] == 3
        if authoring.is_test_cell(candidate):
            assert meta["locked"] and meta["points"] > 0


def test_manual_answer_is_a_markdown_grade_solution_cell_with_rubric():
    answer = helpers.cell(SOURCE, "a13_comment_answer")
    meta = authoring.nbgrader_meta(answer)
    assert answer.cell_type == "markdown" and meta["grade"] and meta["solution"]
    assert meta["points"] == helpers.SETTINGS.points[13]
    assert authoring.RUBRIC_HEADING in answer.source
    assert answer.source.startswith(authoring.SOLUTION_BEGIN)


def test_hidden_checks_are_in_hidden_regions():
    hidden = [c for c in SOURCE.cells if authoring.is_hidden_test(c)]
    text = "\n".join(c.source for c in hidden)
    for call in ("checks.hidden_accuracy()", "checks.saved_model()", "checks.base_unchanged(base_model)"):
        assert call in text
    visible = "\n".join(c.source for c in SOURCE.cells if authoring.is_test_cell(c) and not authoring.is_hidden_test(c))
    assert "hidden_accuracy" not in visible and "saved_model()" not in visible


@pytest.mark.parametrize("activity", sorted(NAMES))
def test_solution_leaves_behind_the_contract_names(activity):
    code = "\n".join(c.source for c in authoring.cells_of_activity(SOURCE, activity)
                     if authoring.nbgrader_meta(c).get("solution"))
    for name in NAMES[activity]:
        assert re.search(rf"(^|[\s,(]){name}\s*(,[^=\n]*)?=|import (\w+ as )?{name}\b", code, re.M), name


def test_first_cell_reads_lab_settings_and_notebook_ends_by_saving():
    code_cells = [c for c in SOURCE.cells if c.cell_type == "code"]
    assert 'json.load' in code_cells[0].source and "lab_settings.json" in code_cells[0].source
    save = helpers.cell(SOURCE, "a14_save")
    assert 'regularized_model.save(settings["saved_model_file"])' in save.source


def test_every_solution_region_has_a_hint():
    for candidate in SOURCE.cells:
        if candidate.cell_type == "code" and authoring.SOLUTION_BEGIN in candidate.source:
            lines = candidate.source.split("\n")
            begin = next(i for i, line in enumerate(lines) if authoring.SOLUTION_BEGIN in line)
            assert begin > 0 and lines[begin - 1].startswith(authoring.HINT_PREFIX), authoring.grade_id(candidate)


def test_solution_notebook_has_no_markers_checks_or_rubric():
    plain = solutions.to_solution(SOURCE)
    text = "\n".join(c.source for c in plain.cells)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "checks.", "# Hint:",
                   authoring.RUBRIC_HEADING, "from autograder"):
        assert marker not in text
    assert all("nbgrader" not in c.metadata for c in plain.cells)
