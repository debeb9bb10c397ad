"""What the pytest path grades, read from the source notebook's grade cells (the one truth).

Every autograded grade cell of the source notebook becomes one `GradedProperty`: its grade_id, its
activity, its points, and the check calls it makes. A plan is written as JSON for graders that do
not have the source notebook (a Gradescope bundle, a GitHub Classroom repository)."""
from __future__ import annotations

import ast
import hashlib
import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

# The check that scores the saved model on the hidden split; the grader decides the cells calling it,
# outside the kernel (autograder.judging.hidden_split builds its call from this name: the plan sits
# below the judging room, so the name lives here).
HIDDEN_SPLIT_CHECK = "hidden_accuracy"
PLAN_VERSION = 1


class PlanError(ValueError):
    """The source notebook's grade cells cannot be turned into tests."""


@dataclass(frozen=True)
class GradedProperty:
    """One autograded grade cell: what it checks and what it is worth."""

    grade_id: str
    activity: int
    points: float
    source: str                 # the cell's code (comment lines left out) as nbgrader runs it
    checks: tuple = ()          # names of the autograder.checks functions it calls, in order
    names: tuple = ()           # notebook names the calls read (train_ds, model, ...)
    hidden: bool = False        # hidden from students until grades are published
    outside_kernel: bool = False

    @property
    def title(self) -> str:
        """A test name for people: 'Activity 2 (load the dataset): dataset_loaded'."""
        from autograder.course.vocabulary import activity_label

        kind = " (hidden)" if self.hidden else ""
        return f"{activity_label(self.activity)}: {', '.join(self.checks) or self.grade_id}{kind}"

    @classmethod
    def from_dict(cls, values: dict) -> "GradedProperty":
        return cls(**{**values, "checks": tuple(values.get("checks", ())),
                      "names": tuple(values.get("names", ()))})


@dataclass(frozen=True)
class Plan:
    """The graded properties in notebook order, and the locked code cells nbgrader restores."""

    assignment: str
    properties: tuple
    locked: dict = field(default_factory=dict)     # grade_id -> source of locked, ungraded code cells
    order: tuple = ()                               # every grade_id of the source, in order

    def by_id(self) -> dict[str, GradedProperty]:
        return {prop.grade_id: prop for prop in self.properties}

    def points_by_activity(self) -> dict[int, float]:
        totals: dict[int, float] = {}
        for prop in self.properties:
            totals[prop.activity] = totals.get(prop.activity, 0.0) + prop.points
        return totals

    @property
    def total(self) -> float:
        return sum(prop.points for prop in self.properties)

    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()

    def to_dict(self) -> dict:
        return {"version": PLAN_VERSION, "assignment": self.assignment,
                "properties": [asdict(prop) for prop in self.properties], "locked": dict(self.locked),
                "order": list(self.order)}

    @classmethod
    def from_dict(cls, values: dict) -> "Plan":
        if values.get("version") != PLAN_VERSION:
            raise PlanError(f"grading plan version must be {PLAN_VERSION}, got {values.get('version')!r}")
        return cls(assignment=values["assignment"],
                   properties=tuple(GradedProperty.from_dict(p) for p in values["properties"]),
                   locked=dict(values.get("locked", {})), order=tuple(values.get("order", ())))

    def write(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n")
        return path

    @classmethod
    def read(cls, path: str | Path) -> "Plan":
        try:
            return cls.from_dict(json.loads(Path(path).read_text()))
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise PlanError(f"cannot read the grading plan {path}: {error}") from None


def _calls(grade_id: str, source: str) -> tuple[tuple, tuple]:
    """The `checks.NAME(...)` calls of a grade cell and the plain names their arguments read."""
    try:
        tree = ast.parse(source)
    except SyntaxError as error:
        raise PlanError(f"grade cell {grade_id} is not valid Python: {error}") from None
    checks, names = [], []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name) and node.func.value.id == "checks"):
            checks.append(node.func.attr)
            for argument in [*node.args, *(k.value for k in node.keywords)]:
                for inner in ast.walk(argument):
                    if isinstance(inner, ast.Name) and inner.id not in names:
                        names.append(inner.id)
    return tuple(checks), tuple(names)


def code_only(source: str) -> str:
    """The cell's code without comment lines (they change nothing that runs)."""
    return "\n".join(line for line in source.splitlines() if not line.lstrip().startswith("#"))


def property_of(cell) -> GradedProperty:
    """The graded property of one autograded grade cell."""
    from autograder.course import vocabulary

    grade_id = vocabulary.grade_id(cell)
    source = code_only(cell.source)
    checks, names = _calls(grade_id, source)
    outside = [name for name in checks if name == HIDDEN_SPLIT_CHECK]
    if outside and len(outside) != len(checks):
        raise PlanError(f"grade cell {grade_id} mixes {outside[0]} (judged outside the kernel) with "
                        "other checks; give it a grade cell of its own")
    return GradedProperty(grade_id=grade_id, activity=vocabulary.activity_of(grade_id),
                          points=float(vocabulary.nbgrader_meta(cell)["points"]), source=source,
                          checks=checks, names=names, hidden=vocabulary.HIDDEN_BEGIN in cell.source,
                          outside_kernel=bool(outside))


def from_notebook(notebook, assignment: str) -> Plan:
    """The plan of a source notebook: one property per autograded (code) grade cell."""
    from autograder.course import vocabulary

    properties, locked, order = [], {}, []
    for cell in notebook.cells:
        grade_id = vocabulary.grade_id(cell)
        if not grade_id:
            continue
        order.append(grade_id)
        if vocabulary.is_test_cell(cell):
            properties.append(property_of(cell))
        elif (cell.cell_type == "code" and vocabulary.nbgrader_meta(cell).get("locked")
              and not vocabulary.is_grade_cell(cell)):
            locked[grade_id] = cell.source
    if not properties:
        raise PlanError("the source notebook has no autograded grade cells")
    return Plan(assignment=assignment, properties=tuple(properties), locked=locked, order=tuple(order))


def from_settings(settings) -> Plan:
    """The plan of the configured assignment's source notebook."""
    from autograder.course import vocabulary

    path = settings.source_dir / settings.notebook_name
    if not path.is_file():
        raise PlanError(f"source notebook not found at {path}; pass --grading-plan with a plan file "
                        "written by `labkit gradescope-bundle` or `labkit classroom`")
    return from_notebook(vocabulary.read(path), settings.assignment)


def judged_outside(prop) -> bool:
    """The judge decides the grade cells made of the kit's checks. A test cell an instructor wrote
    with plain asserts on the student's own functions reads values that cannot be handed over
    without running the student's code in the grader, so nbgrader scores it in the kernel."""
    return bool(prop.checks) and not prop.outside_kernel
