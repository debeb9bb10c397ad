"""nbgrader's ClearSolutions with stubs that name what to write: the "# Hint: ..." comment right
above each "### BEGIN SOLUTION" line becomes the message of the stub's NotImplementedError."""
from __future__ import annotations

from nbgrader.preprocessors import ClearSolutions

from autograder.course import vocabulary


def stub_for(hint: str, activity: int | None) -> str:
    """The code that replaces a solution region: raise NotImplementedError with the hint."""
    label = f"Activity {activity}: " if activity else ""
    return f"# YOUR CODE HERE\nraise NotImplementedError({label + hint!r})"


def split_hint(source: str) -> tuple[str, str | None]:
    """Remove the "# Hint: ..." line directly above "### BEGIN SOLUTION"; return (source, hint)."""
    lines = source.split("\n")
    for index, line in enumerate(lines):
        if vocabulary.SOLUTION_BEGIN in line and index > 0:
            previous = lines[index - 1].strip()
            if previous.startswith(vocabulary.HINT_PREFIX):
                hint = previous[len(vocabulary.HINT_PREFIX):].strip()
                return "\n".join(lines[: index - 1] + lines[index:]), hint
    return source, None


class HintedClearSolutions(ClearSolutions):
    """ClearSolutions whose code stub raises NotImplementedError with the region's hint."""

    def _replace_solution_region(self, cell, language):
        if cell.cell_type != "code":
            return super()._replace_solution_region(cell, language)
        cell.source, hint = split_hint(cell.source)
        if hint is None:
            return super()._replace_solution_region(cell, language)
        generic = self.code_stub
        self.code_stub = {**generic, language: stub_for(hint, vocabulary.activity_of(cell))}
        try:
            return super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = generic


def generate_preprocessors() -> list:
    """nbgrader's GenerateAssignment preprocessors with ClearSolutions swapped for the hinted one."""
    from nbgrader.converters import GenerateAssignment

    default = GenerateAssignment().preprocessors
    return [HintedClearSolutions if pp is ClearSolutions else pp for pp in default]


def configure(c) -> None:
    """Use the hinted stubs in an nbgrader config (for nbgrader_config.py)."""
    c.GenerateAssignment.preprocessors = generate_preprocessors()
