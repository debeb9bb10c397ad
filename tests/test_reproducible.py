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

import assignment_helpers as helpers
import pytest

from autograder.authoring import solutions
from autograder.course import config
from autograder.grading import runner
from autograder.reporting import reproduced

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


@pytest.mark.slow
def test_both_are_graded_and_their_saved_models_checked_on_the_hidden_split(graded):
    for results in graded["results"].values():
        assert set(results) == {"top_to_bottom", "edited_after"}
        assert all(result.status == "ok" for result in results.values())
        assert results["top_to_bottom"].verify["status"] == "verified", results["top_to_bottom"].verify
        assert results["edited_after"].verify["accuracy"] is not None   # one epoch: it may miss the threshold


@pytest.mark.slow
def test_points_and_hidden_accuracies_are_bit_identical_across_jobs(graded):
    one, two = (graded["results"][jobs] for jobs in JOBS)
    for student in one:
        assert one[student].points == two[student].points, student
        assert one[student].verify["accuracy"] == two[student].verify["accuracy"], student
    # the edit changed the model, so the comparison above could tell two runs apart
    assert one["top_to_bottom"].verify["accuracy"] != one["edited_after"].verify["accuracy"]


@pytest.mark.slow
def test_the_regrade_shows_the_accuracies_the_student_saw(graded):
    for results in graded["results"].values():
        result = results["top_to_bottom"]
        comparisons = reproduced.compare(graded["submitted"]["top_to_bottom"], result.autograded_notebook)
        shown = {(c.activity, c.label) for c in comparisons}
        assert shown == {(8, "training"), (8, "validation"), (10, "training"), (10, "validation")}
        assert not [c for c in comparisons if c.differs], comparisons
        page = open(result.feedback_html).read()
        assert 'id="reproduced-accuracies"' in page and "differs" not in page


@pytest.mark.slow
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


def notebook_printing(**outputs: str):
    """A notebook whose cells (by grade_id) printed the given text."""
    import nbformat

    cells = []
    for grade_id, text in outputs.items():
        cell = nbformat.v4.new_code_cell("")
        cell.metadata["nbgrader"] = {"grade_id": grade_id}
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text=text)]
        cells.append(cell)
    return nbformat.v4.new_notebook(cells=cells)


@pytest.mark.parametrize("printed, expected", [
    ("training accuracy 1.000, validation accuracy 0.900", {"training": 1.0, "validation": 0.9}),
    ("Activity 8: accuracies 0.983 (train) and 0.850 (validation) recomputed ok",
     {"training": 0.983, "validation": 0.85}),
    ("train_accuracy = 0.99\nval_accuracy=0.97", {"training": 0.99, "validation": 0.97}),
    ("Validation Acc: 0.8", {"validation": 0.8}),
    ("0.98 0.87", {}),
])
def test_accuracies_are_read_from_what_a_cell_printed(tmp_path, printed, expected):
    import nbformat

    nbformat.write(notebook_printing(a08_accuracies=printed), tmp_path / "n.ipynb")
    assert reproduced.shown_accuracies(tmp_path / "n.ipynb")[8] == expected


def test_the_last_epoch_of_a_keras_log_counts_and_stderr_and_hidden_cells_do_not(tmp_path):
    import nbformat

    log = ("Epoch 1/2\n2/2 - 1s - 9ms/step - accuracy: 0.2000 - loss: 5.1 - val_accuracy: 0.4500 - val_loss: 5.1\n"
           "Epoch 2/2\n\x1b[1m2/2\x1b[0m - 0s - accuracy: 0.9000 - loss: 0.3 - val_accuracy: 0.8500 - val_loss: 0.4\n")
    notebook = notebook_printing(a10_regularized_fit=log,
                                 a10_hidden_accuracy_hidden="Activity 10: hidden test accuracy 0.612 >= 0.75 ok")
    notebook.cells[0].outputs.append(nbformat.v4.new_output("stream", name="stderr", text="accuracy: 0.1"))
    nbformat.write(notebook, tmp_path / "n.ipynb")
    assert reproduced.shown_accuracies(tmp_path / "n.ipynb")[10] == {"training": 0.9, "validation": 0.85}


def test_checks_and_the_hand_over_share_one_pass_over_a_shuffled_dataset():
    import numpy as np
    import tensorflow as tf

    from autograder.sandbox import run_state

    def shuffled():
        return tf.data.Dataset.from_tensor_slices(np.arange(40)).shuffle(40, seed=7).batch(8)

    def order(dataset):
        return np.concatenate([np.asarray(batch) for batch in dataset]).tolist()

    read, untouched = shuffled(), shuffled()
    first = run_state.batches(read)
    assert run_state.batches(read) is first and run_state.one_pass(read) is first   # read once
    order(untouched)                      # the one pass the kit made over `read`
    assert order(read) == order(untouched)  # so fit's next epoch is the same either way


def test_a_check_leaves_the_random_state_as_it_found_it():
    import random

    import numpy as np

    from autograder.sandbox.run_state import random_state_kept

    random.seed(3), np.random.seed(3)
    expected = (random.random(), np.random.random())
    random.seed(3), np.random.seed(3)
    with random_state_kept():
        random.random(), np.random.random()
    assert (random.random(), np.random.random()) == expected
