"""Judge side: decide every autograded grade cell outside the kernel, from the captured values.

Runs in a process that the student's code never touched. For each grade cell of the plan (the
source notebook's own code, never the submission's), the captured names are rebuilt and the cell's
code runs with the real `autograder.checks`, in a lab folder made of the grader's own files
(lab_settings.json, training folder, pretrained base) plus the submission's saved model."""
from __future__ import annotations

import contextlib
import io
import os
import shutil
from pathlib import Path

from autograder.checks import model_size
from autograder.course.records import Outcome
from autograder.judging import rebuild

NOT_REACHED = ("expected this check to run when the notebook was graded, found that the notebook "
               "never reached it (see the error in the notebook above it). Try: run the whole notebook "
               "from the top with Restart & Run All and fix the first error")


def released_files(settings, fallback: Path | None = None) -> Path | None:
    """The grader's own copy of what was released next to the notebook (lab_settings.json, data,
    base): the course's source folder, its release folder, or a Gradescope bundle's `assignment`
    folder; else `fallback` (on GitHub Classroom the student's repository is the only copy)."""
    for folder in (settings.source_dir, settings.release_dir, settings.root / "assignment", fallback):
        if folder is not None and (Path(folder) / "lab_settings.json").is_file():
            return Path(folder)
    return None


def lab_folder(settings, saved_model: Path | None, target: Path, fallback: Path | None = None) -> Path:
    """A folder like the student's: the grader's own released files, and the saved model if any."""
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    released = released_files(settings, fallback)
    for entry in (released.iterdir() if released else ()):
        if entry.suffix == ".ipynb" or entry.name in (settings.saved_model_file, ".ipynb_checkpoints"):
            continue
        (target / entry.name).symlink_to(entry.resolve())
    if saved_model is not None and saved_model.is_file():
        shutil.copyfile(saved_model, target / settings.saved_model_file)
    return target


def _label(activity: int) -> str:
    from autograder.course.vocabulary import activity_label

    return activity_label(activity)


def _unreadable(prop, names: dict) -> str:
    for name in prop.names:
        found = names.get(name)
        if isinstance(found, rebuild.Unreadable):
            return (f"{_label(prop.activity)}: expected `{name}` in a form the grader can check outside "
                    f"the notebook, found a {found.type_name} that could not be handed over ({found.error}). "
                    "Try: build it from standard Keras layers and objects, without custom classes")
    return ""


def _foreign(prop, foreign: list[str]) -> str:
    if not foreign:
        return ""
    return (f"{_label(prop.activity)}: expected {', '.join(f'`{n}`' for n in foreign)} to hold the images "
            "and labels of the training folder, found images or labels that are not in it. Try: load the "
            "data with keras.utils.image_dataset_from_directory as in activity 2 and leave the images as "
            "they are")


def judge_cell(prop, capture_root: Path, reference: rebuild.Reference) -> Outcome:
    """One grade cell's outcome, decided here."""
    from autograder import checks
    from autograder.checks.presence import require_names

    if not (capture_root / prop.grade_id / "values.json").is_file():
        return Outcome(prop.grade_id, False, f"{_label(prop.activity)}: {NOT_REACHED}")
    printed = io.StringIO()
    try:
        names, foreign = rebuild.namespace(capture_root, prop.grade_id, reference)
    except model_size.TooLarge as refusal:
        return Outcome(prop.grade_id, False, f"{_label(prop.activity)}: expected models of the lab's size, "
                       f"found one the grader does not build: {refusal}. Try: build the model on the "
                       "pretrained base with a small head, as the activities describe")
    except Exception as error:  # a capture the judge cannot read is the submission's problem
        return Outcome(prop.grade_id, False, f"{_label(prop.activity)}: expected values the grader can "
                       f"read, found a broken hand-over ({type(error).__name__}: {str(error)[:200]}). Try: "
                       "run the notebook again from the top, unchanged outside your answer cells")
    problem = _unreadable(prop, names)
    if problem:
        return Outcome(prop.grade_id, False, problem)
    # the data are graded where they are loaded; later cells use the split the notebook loaded there
    if "dataset_loaded" not in prop.checks:
        for name, (agreed, prints) in reference.agreed_split().items():
            if name in names and (name in foreign or rebuild.dataset_prints(names[name]) != prints):
                names[name] = agreed
        foreign = []
    namespace = {"checks": checks, "__name__": "__judge__", **names}
    try:
        require_names(prop.activity, prop.names, namespace)
        with contextlib.redirect_stdout(printed):
            exec(compile(prop.source, f"<grade cell {prop.grade_id}>", "exec"), namespace)  # noqa: S102
    except checks.CheckFailed as failure:
        return Outcome(prop.grade_id, False, str(failure), printed.getvalue())
    except Exception as error:
        return Outcome(prop.grade_id, False, f"{type(error).__name__}: {str(error)[:300]}", printed.getvalue())
    problem = _foreign(prop, foreign)
    if problem:
        return Outcome(prop.grade_id, False, problem, printed.getvalue())
    return Outcome(prop.grade_id, True, printed.getvalue().strip(), printed.getvalue())


def judge(plan_dict: dict, capture_root: str, lab: str, max_params: int = model_size.DEFAULT_MAX_PARAMS) -> dict:
    """Every in-kernel grade cell of the plan, judged from `capture_root` in the lab folder `lab`, with
    no model larger than `max_params` (MAX_MODEL_PARAMS) built; grade_id -> Outcome dict. Meant for a
    fresh process: it changes the working folder."""
    from autograder.course.plan import Plan

    plan = Plan.from_dict(plan_dict)
    os.chdir(lab)
    root = Path(capture_root)
    loaded_at = next((p.grade_id for p in plan.properties if "dataset_loaded" in p.checks), None)
    reference = rebuild.Reference(Path(lab), capture_root=root, loaded_at=loaded_at, max_params=max_params)
    from autograder.course.plan import judged_outside

    return {prop.grade_id: judge_cell(prop, root, reference).to_dict()
            for prop in plan.properties if judged_outside(prop)}


def main(argv=None) -> int:
    """python -m autograder.judging.judge PLAN.json CAPTURE LAB OUT.json [MAX_PARAMS]: judge in this new
    process."""
    import json
    import sys

    from autograder.sandbox import library_pages

    library_pages.install()   # TensorFlow, when the judge imports it, without its start-up's pages
    plan_file, capture_root, lab, out, *rest = (argv if argv is not None else sys.argv[1:])
    max_params = int(rest[0]) if rest else model_size.DEFAULT_MAX_PARAMS
    outcomes = judge(json.loads(Path(plan_file).read_text()), capture_root, lab, max_params)
    Path(out).write_text(json.dumps(outcomes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
