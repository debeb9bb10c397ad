"""Points decided outside the kernel: hand-over, judging in a fresh process, and the gradebook's say.

The kernel only leaves values behind (autograder.sandbox.capture); here the grader copies them out
of the working copy without following links, has a process that the student's code never touched
judge every grade cell from them, and lets that judgment decide the cells' points; the judged
cells' outputs in the graded notebook are the judge's (the kernel ran a stand-in there)."""
from __future__ import annotations

import shutil
from pathlib import Path

from autograder.course.plan import judged_outside
from autograder.course.records import CellGrade, GradeResult
from autograder.judging import definitions
from autograder.judging import judge as handoff_judge
from autograder.judging import safe_copy
from autograder.sandbox import CAPTURE_FOLDER

JUDGE_TARGET = "autograder.judging.judge:judge"
MEMORY_WORDS = "MB of memory"   # in the failure of a judge stopped at GRADER_MEMORY_LIMIT_MB (sandbox.bounds)


def capture_names(plan) -> dict[str, list[str]]:
    """grade_id -> names, for every grade cell that the judge decides (LimitedExecute.capture)."""
    return {prop.grade_id: list(prop.names) for prop in plan.properties if judged_outside(prop)}


def time_limit(settings) -> float:
    """Seconds the judging of one notebook may take (it replays checks that train one step)."""
    return max(120.0, 2.0 * settings.cell_timeout)


def hand_over(working_copy: Path, settings, target: Path, released: Path | None = None,
              store: Path | None = None) -> tuple[Path, Path, list[str]]:
    """(capture folder, lab folder, notes) in `target`: the captures from `store` (where the executor
    moved each one as it was written; see LimitedExecute.capture_store), else from the ended kernel's
    working copy, and the saved model from the working copy; `released`: where the released files
    are when the grader has no copy of its own."""
    capture = target / "capture"
    notes = []
    try:
        skipped = safe_copy.copy_tree(store or working_copy / CAPTURE_FOLDER, capture)
    except safe_copy.CopyLimit as limit:
        shutil.rmtree(capture, ignore_errors=True)   # nothing of it is judged
        capture.mkdir(parents=True)
        skipped = []
        notes.append(f"The notebook: expected the values it leaves for grading to fit the grader's limit, "
                     f"found {limit}; they were not judged")
    if skipped:
        notes.append(f"The notebook: links or special files in the grading folder were not read "
                     f"({', '.join(skipped[:3])})")
    saved = target / "saved_model" / settings.saved_model_file
    saved.parent.mkdir(parents=True, exist_ok=True)
    saved.unlink(missing_ok=True)
    safe_copy.copy_file(working_copy / settings.saved_model_file, saved)
    lab = handoff_judge.lab_folder(settings, saved if saved.is_file() else None, target / "lab", released)
    _write_definitions(working_copy, lab)
    return capture, lab, notes


def _write_definitions(working_copy: Path, lab: Path) -> None:
    """The notebook's own imports, classes and functions beside the saved model, as text, for the
    sandbox that loads a model needing them (judging.saved_in_sandbox); nothing here runs them."""
    notebooks = [path for path in sorted(working_copy.glob("*.ipynb")) if path.is_file() and not path.is_symlink()]
    if len(notebooks) == 1:
        try:
            (lab / definitions.FILE).write_text(definitions.from_notebook(notebooks[0]))
        except Exception:   # an unreadable notebook: the hand-in is judged without its definitions
            pass


def judge(call, plan, capture: Path, lab: Path, settings) -> tuple[dict, str]:
    """(grade_id -> outcome dict, "") from the forked judge `call`, or ({}, why it failed)."""
    from autograder.judging.forked import ProcessFailed

    try:
        return call.call(JUDGE_TARGET, plan.to_dict(), str(capture), str(lab), settings.max_model_params,
                         timeout=time_limit(settings), memory_mb=settings.grader_memory_limit_mb), ""
    except ProcessFailed as failure:   # timed out, stopped at the memory limit, or died: killed with its children
        return {}, f"the judging process {failure}"
    except Exception as error:  # the judge's own failure: reported, never fatal for the batch
        return {}, f"{type(error).__name__}: {error}"


def apply(result: GradeResult, outcomes: dict, failure: str, judged_ids: set[str]) -> bool:
    """Every judged cell's points from the outside judgment (0 when judging failed); True if any
    cell changed."""
    cells = [CellGrade.from_dict(c) for c in result.cells]
    changed = False
    for cell in cells:
        if cell.grade_id not in judged_ids or cell.needs_manual_grade:
            continue
        outcome = outcomes.get(cell.grade_id)
        passed = bool(outcome and outcome.get("passed"))
        message = (outcome or {}).get("message", "") if outcome else f"could not be judged ({failure})"
        points = cell.max_points if passed else 0.0
        if points != cell.points or passed != cell.passed:
            changed = True
        cell.points, cell.passed = points, passed
        cell.error = "" if passed else (message or cell.error)
    if failure:
        hint = ("keep the models and values it leaves the size of the lab's" if MEMORY_WORDS in failure
                else "ask your instructor to regrade")
        result.notes.append(f"The notebook: the grader could not judge its checks outside the notebook "
                            f"({failure}); {hint}")
    result.cells = [c.to_dict() for c in cells]
    return changed
