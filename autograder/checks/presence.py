"""Run inside the student's kernel before a grade cell: the names it reads must exist."""
from __future__ import annotations

from autograder.checks.result import CheckFailed

# The activity that leaves each name behind (the notebook's contract, DESIGN section 4).
DEFINED_IN = {
    "tf": 1, "keras": 1, "train_ds": 2, "val_ds": 2, "class_names": 2, "sample_figure": 3,
    "base_model": 4, "model": 5, "architecture_diagram": 6, "history": 7, "train_accuracy": 8,
    "val_accuracy": 8, "regularized_model": 9, "regularized_history": 10, "curves_figure": 11,
    "report": 12,
}


def require_names(activity: int, names: tuple, namespace: dict) -> None:
    """Raise CheckFailed naming the activity and the first name the notebook did not define."""
    import builtins

    for name in names:
        if name in namespace or hasattr(builtins, name):
            continue
        maker = DEFINED_IN.get(name, activity)
        where = f"activity {maker}" + (f" (this check belongs to activity {activity})" if maker != activity else "")
        raise CheckFailed(activity, f"the notebook to define `{name}`",
                          f"no variable named `{name}` after running the notebook",
                          f"complete {where} so that it assigns `{name}`, spelled exactly so, and make "
                          "sure its cell runs without an error")
