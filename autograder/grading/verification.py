"""Check the saved model outside the kernel, and let that result win over the notebook's claims."""
from __future__ import annotations

from pathlib import Path

from autograder.grading.results import CellGrade, GradeResult

# The activity whose points depend on what the saved model really does (fit, hidden-split accuracy).
VERIFIED_ACTIVITY = 10
# Errors that come from the grading machine, not from the student's model.
GRADER_SIDE_ERRORS = ("hidden test split", "configuration:", "verification process ended",
                      "verification timed out")


def run(autograded_notebook: Path, settings) -> dict:
    """Verify the saved model next to the autograded notebook in a fresh process, as a dict.

    status: "verified" or "failed" (the student's model), "unavailable" or "error" (the grader's side:
    no effect on points)."""
    try:
        from autograder.verify import verify_in_subprocess
    except ImportError as error:
        return {"status": "unavailable", "ok": None, "error": f"verifier not available ({error})"}
    if not settings.hidden_test_dir.is_dir():
        return {"status": "unavailable", "ok": None,
                "error": f"hidden test split missing at {settings.hidden_test_dir}; run `labkit prepare`"}
    model = Path(autograded_notebook).parent / settings.saved_model_file
    if not model.is_file():
        return {"status": "failed", "ok": False, "accuracy": None, "base_matches_reference": None,
                "threshold": settings.accuracy_threshold, "error": f"no saved model at {settings.saved_model_file}"}
    try:
        data = verify_in_subprocess(model, settings=settings, timeout=max(60, settings.cell_timeout)).to_dict()
    except Exception as error:  # the verifier's own failure must not stop the batch
        return {"status": "error", "ok": None, "error": f"{type(error).__name__}: {error}"}
    grader_side = str(data.get("error") or "").startswith(GRADER_SIDE_ERRORS)
    data["status"] = "verified" if data.get("ok") else "error" if grader_side else "failed"
    return data


def findings(verified: dict, settings) -> list[str]:
    """What the saved model does not show, one sentence each (expected, found, hint)."""
    if verified.get("status") != "failed":
        return []
    activity = f"Activity {VERIFIED_ACTIVITY}"
    saved = settings.saved_model_file
    if verified.get("error") and verified.get("accuracy") is None:
        return [f"{activity}: expected a saved model in {saved} that loads, found none "
                f"({str(verified['error'])[:200]}); hint: run the cell that saves the regularized model "
                "to that file and do not move it"]
    notes = []
    accuracy, threshold = verified.get("accuracy"), verified.get("threshold", settings.accuracy_threshold)
    if accuracy is not None and accuracy < threshold:
        notes.append(f"{activity}: expected the saved model to reach an accuracy of at least "
                     f"{threshold:.2f} on the hidden test images, found {accuracy:.3f}; hint: train "
                     "for the configured epochs with the base frozen, and save the model after fitting")
    if verified.get("base_matches_reference") is False:
        notes.append(f"{activity}: expected the pretrained base's weights unchanged (a frozen base), "
                     "found them changed; hint: set the base's trainable attribute to False before compiling")
    if not notes and verified.get("error"):
        notes.append(f"{activity}: the saved model could not be checked ({str(verified['error'])[:200]})")
    return notes


def apply(result: GradeResult, settings) -> bool:
    """Where verification failed, take the verified activity's points away; True if any changed."""
    notes = findings(result.verify, settings)
    if not notes:
        return False
    changed = False
    cells = [CellGrade.from_dict(c) for c in result.cells]
    for cell in cells:
        if cell.activity == VERIFIED_ACTIVITY and cell.points > 0:
            cell.points, cell.passed, changed = 0.0, False, True
            cell.error = "the saved model does not pass the check outside the notebook"
    result.cells = [c.to_dict() for c in cells]
    if changed:
        notes = [f"{n} (the notebook's own check passed, but the saved model decides)" for n in notes]
    result.notes.extend(notes)
    return changed
