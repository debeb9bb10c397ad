"""`labkit report`: the class page written again from what a grading run left in its folder (the
state files, and the grades a person has given in the gradebook since), without grading anyone."""
from __future__ import annotations

from pathlib import Path

from autograder.grading import hand_grades
from autograder.grading.scores import score
from autograder.reporting import class_page


def write_from_folder(settings, out: Path | None = None, say=print) -> Path | None:
    """The class page of the grading run in `out` (default: the course's grading folder); None
    when the folder holds no graded student."""
    out = Path(out) if out else settings.grading_dir
    results = class_page.results_in(out)
    if not results:
        say(f"labkit report: no graded students in {out / 'state'}; run `labkit grade` first (or pass --out)")
        return None
    gradebook = out / "gradebook.db"
    if gradebook.is_file():
        try:
            hand_grades.apply(results, f"sqlite:///{gradebook}", settings, score)
        except Exception as error:  # a gradebook nbgrader cannot open: the page shows the state files' grades
            say(f"labkit report: hand grades not read from {gradebook}: {type(error).__name__}: {error}")
    page = class_page.write(results, settings, out, source=f"the state files in {out / 'state'}")
    say(f"class page: {page}")
    return page
