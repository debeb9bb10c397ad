"""Issue 13: a notebook that sets no seed of its own gives the same numbers every time it runs.

Two submissions, built in code from the solution with its own `set_random_seed` calls taken out
(so only the setup cell seeds), run once on a "student's server" (a plain kernel with the checks
running in it, as on the hub) and submitted with those outputs:

| student       | submitted                                                              |
|---------------|------------------------------------------------------------------------|
| top_to_bottom | the run's outputs, as they came                                        |
| edited_after  | the same outputs, then activity 10 cut to one epoch without running it |

Both are graded twice, with `--jobs 1` and `--jobs 2` (so with other thread counts per kernel):
points and the saved models' hidden-split accuracies must be bit-identical, the regraded accuracies
of top_to_bottom must be the ones its outputs show, and edited_after's feedback must say where its
submitted numbers and the regraded ones part."""
from __future__ import annotations

import copy

import pytest

import assignment_helpers as helpers
from autograder import config, solutions
from autograder.grading import reproduced, runner

pytestmark = pytest.mark.slow

OWN_SEED = "keras.utils.set_random_seed"
JOBS = (1, 2)


def unseeded(notebook):
    """The notebook without the solution's own seeding: only the setup cell seeds."""
    notebook = copy.deepcopy(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.source = "\n".join(line for line in cell.source.split("\n") if OWN_SEED not in line)
    return notebook


@pytest.fixture(scope="module")
def graded(prepared, tmp_path_factory):
    scope = tmp_path_factory.mktemp("reproducible")
    server = scope / "server"
    server.mkdir()
    solutions.copy_assets(helpers.SETTINGS, server)
    ran = solutions.execute(unseeded(helpers.solved_release()), server)
    edited = helpers.edited(ran, "a10_regularized_fit", 'epochs=settings["regularized_epochs"]', "epochs=1")
    course = helpers.copy_course(scope / "course")
    with open(course / "course_config.py", "a") as handle:   # the prepared cache: the hidden split
        handle.write(f"\nCACHE_DIR = {str(helpers.SETTINGS.cache_dir)!r}\n")
    settings = config.load(course / "course_config.py")
    submitted = {student: helpers.submit(course, student, notebook)
                 for student, notebook in {"top_to_bottom": ran, "edited_after": edited}.items()}
    runner.tools_on_path()
    results = {}
    for jobs in JOBS:
        batch = runner.grade_class(settings, course / "submitted", out=scope / f"jobs{jobs}", jobs=jobs,
                                   force=True, progress=False)
        results[jobs] = {result.student: result for result in batch.results}
    return {"results": results, "submitted": submitted}


def test_both_are_graded_and_their_saved_models_checked_on_the_hidden_split(graded):
    for results in graded["results"].values():
        assert set(results) == {"top_to_bottom", "edited_after"}
        assert all(result.status == "ok" for result in results.values())
        assert results["top_to_bottom"].verify["status"] == "verified", results["top_to_bottom"].verify
        assert results["edited_after"].verify["accuracy"] is not None   # one epoch: it may miss the threshold


def test_points_and_hidden_accuracies_are_bit_identical_across_jobs(graded):
    one, two = (graded["results"][jobs] for jobs in JOBS)
    for student in one:
        assert one[student].points == two[student].points, student
        assert one[student].verify["accuracy"] == two[student].verify["accuracy"], student
    # the edit changed the model, so the comparison above could tell two runs apart
    assert one["top_to_bottom"].verify["accuracy"] != one["edited_after"].verify["accuracy"]


def test_the_regrade_shows_the_accuracies_the_student_saw(graded):
    for results in graded["results"].values():
        result = results["top_to_bottom"]
        comparisons = reproduced.compare(graded["submitted"]["top_to_bottom"], result.autograded_notebook)
        shown = {(c.activity, c.label) for c in comparisons}
        assert shown == {(8, "training"), (8, "validation"), (10, "training"), (10, "validation")}
        assert not [c for c in comparisons if c.differs], comparisons
        page = open(result.feedback_html).read()
        assert 'id="reproduced-accuracies"' in page and "differs" not in page


def test_feedback_names_the_numbers_that_changed_since_the_outputs_were_made(graded):
    for results in graded["results"].values():
        result = results["edited_after"]
        comparisons = reproduced.compare(graded["submitted"]["edited_after"], result.autograded_notebook)
        assert any(c.differs and c.activity == 10 for c in comparisons), comparisons
        assert not any(c.differs and c.activity == 8 for c in comparisons)   # activity 8 ran before the edit
        page = open(result.feedback_html).read()
        assert "<b>differs</b>" in page
        assert "Activity 10: expected the regraded run to show the accuracies of your submitted notebook" in page
        assert "Restart &amp; Run All" in page
