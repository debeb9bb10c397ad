"""Check the saved model outside the kernel, and let that result win over the notebook's claims."""
from __future__ import annotations

from pathlib import Path

from autograder.course.records import CellGrade, GradeResult

# Which activity's points each verified property decides: the saved model and its accuracy on the
# hidden split belong to activity 10 (fit the regularized model), the unchanged base to activity 5.
MODEL_ACTIVITY = 10
BASE_ACTIVITY = 5
# Errors that come from the grading machine, not from the student's model.
GRADER_SIDE_ERRORS = ("hidden test split", "configuration:", "verification process ended",
                      "verification timed out", "verification process timed out")


def time_limit(settings) -> float:
    """Seconds the verification of one saved model may take."""
    return max(60, settings.cell_timeout)


def run(autograded_notebook: Path, settings, verifier=None) -> dict:
    """Verify the saved model next to the autograded notebook in a fresh process, as a dict: the
    `verifier` (a ForkedVerifier) if given, else a new interpreter.

    status: "verified" or "failed" (the student's model), "unavailable" or "error" (the grader's side:
    no effect on points)."""
    try:
        from autograder.checks.verifier import verify_in_subprocess
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
        timeout = time_limit(settings)
        verified = (verifier.verify(model, settings, timeout) if verifier is not None
                    else verify_in_subprocess(model, settings=settings, timeout=timeout))
        data = verified.to_dict()
    except Exception as error:  # the verifier's own failure must not stop the batch
        return {"status": "error", "ok": None, "error": f"{type(error).__name__}: {error}"}
    grader_side = str(data.get("error") or "").startswith(GRADER_SIDE_ERRORS)
    data["status"] = "verified" if data.get("ok") else "error" if grader_side else "failed"
    return data


def findings(verified: dict, settings) -> list[tuple[int, str, str]]:
    """(activity, property, sentence) for each thing the saved model does not show; the sentence
    says what was expected, what was found and what to try. Properties: "model", "accuracy", "base"."""
    if verified.get("status") != "failed":
        return []
    saved = settings.saved_model_file
    if verified.get("accuracy") is None:
        return [(MODEL_ACTIVITY, "model", f"Activity {MODEL_ACTIVITY}: expected a saved model in {saved} that "
                 f"loads and predicts every class, found {str(verified.get('error') or 'none')[:200]}; hint: run "
                 "the hand-in cell that saves regularized_model after fitting it")]
    found = []
    threshold = verified.get("threshold", settings.accuracy_threshold)
    if verified["accuracy"] < threshold:
        found.append((MODEL_ACTIVITY, "accuracy", f"Activity {MODEL_ACTIVITY}: expected the saved model to "
                      f"reach an accuracy of at least {threshold:.2f} on the hidden test images, found "
                      f"{verified['accuracy']:.3f}; hint: fit for the configured epochs with the base frozen, "
                      "then save the model"))
    if verified.get("base_matches_reference") is False:
        found.append((BASE_ACTIVITY, "base", f"Activity {BASE_ACTIVITY}: expected the pretrained base's weights "
                      "unchanged in the saved model (a frozen base), found them changed; hint: set "
                      "base_model.trainable = False before compiling and fitting"))
    return found


# Which hidden grade cells claim each verified property, by a word of their grade id: a changed base
# is activity 5's (its frozen-base cell) and nothing else's; a missing model overrules every hidden
# cell of activity 10.
CLAIMED_BY = {"model": ("",), "accuracy": ("accuracy",), "base": ("frozen",)}


def claims(cells: list[CellGrade], activity: int, prop: str = "model") -> list[CellGrade]:
    """The grade cells that claim `prop`: hidden cells of the activity whose grade id names it,
    else all hidden cells of the activity, else all of its cells."""
    hidden = [c for c in cells if "hidden" in c.grade_id]
    named = [c for c in hidden if any(word in c.grade_id for word in CLAIMED_BY[prop])
             and (c.activity == activity or prop == "base")]
    return named or [c for c in hidden if c.activity == activity] or [c for c in cells if c.activity == activity]


def apply(result: GradeResult, settings, deferred: bool = False) -> bool:
    """Where verification failed, take the claiming cells' points away; True if any changed.
    `deferred`: the hidden-split cells ran a stand-in, so they keep points only if verified."""
    cells = [CellGrade.from_dict(c) for c in result.cells]
    changed = False
    if deferred and result.verify.get("status") != "verified" and not findings(result.verify, settings):
        for cell in [c for c in claims(cells, MODEL_ACTIVITY, "accuracy") if c.points > 0]:
            cell.points, cell.passed = 0.0, False
            cell.error = "the saved model could not be verified"
            changed = True
        result.notes.append(f"Activity {MODEL_ACTIVITY}: the saved model could not be verified on the "
                            f"hidden test images ({result.verify.get('error') or 'verification skipped'}); "
                            "ask your instructor to regrade")
    for activity, prop, sentence in findings(result.verify, settings):
        overruled = [c for c in claims(cells, activity, prop) if c.points > 0]
        for cell in overruled:
            cell.points, cell.passed = 0.0, False
            cell.error = "the saved model does not show this when checked on its own"
        if overruled:
            sentence += (f" (the notebook's own check{'s' if len(overruled) > 1 else ''} "
                         f"{', '.join(c.grade_id for c in overruled)} passed, but the saved model decides)")
            changed = True
        result.notes.append(sentence)
    result.cells = [c.to_dict() for c in cells]
    return changed
