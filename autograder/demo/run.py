"""`labkit demo`: the whole life of the assignment on the configured profile.

Prepare the data, generate the student release, make a handful of simulated submissions (the
solution, the untouched release, a few partly wrong ones), grade them in parallel, print the class
table and say where the feedback, grades and plot are; the last line is the class page's path.
"""
from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat

from autograder.course.vocabulary import (
    HINT_PREFIX,
    RUBRIC_HEADING,
    SOLUTION_BEGIN,
    SOLUTION_END,
)


def answers_from_source(source_notebook) -> dict[str, str]:
    """grade_id -> the worked answer of every solution cell, without markers and hints."""
    answers = {}
    for cell in source_notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or SOLUTION_BEGIN not in cell.source:
            continue
        text = cell.source.split(RUBRIC_HEADING)[0]  # the grader's rubric stays out
        kept = [line for line in text.split("\n")
                if not line.strip().startswith((SOLUTION_BEGIN, SOLUTION_END, HINT_PREFIX))]
        answers[meta["grade_id"]] = "\n".join(kept).strip("\n")
    return answers


def with_answers(release, answers: dict[str, str]):
    """A copy of the released notebook with the given solution cells filled in."""
    notebook = nbformat.from_dict(release)
    for cell in notebook.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return notebook


COMMENT = "a13_comment_answer"
FIRST_TO_HAND_IN = ("s01_solution", "s02_untouched")


def simulated_class(release, answers: dict[str, str]) -> dict[str, object]:
    """student id -> notebook: the solution (its comment the posted example), the untouched release
    and three partly wrong ones."""
    def without(*prefixes):
        return {k: v for k, v in answers.items() if not k.startswith(prefixes)}

    unfrozen = dict(answers)
    for grade_id, text in answers.items():
        if "trainable = False" in text:
            unfrozen[grade_id] = text.replace("trainable = False", "trainable = True")
    return {
        "s01_solution": with_answers(release, answers),
        "s02_untouched": nbformat.from_dict(release),
        "s03_no_plots": with_answers(release, without("a03_", "a06_diagram", "a11_")),
        "s04_unfrozen_base": with_answers(release, unfrozen),
        "s05_stopped_at_6": with_answers(release, without(*[f"a{n:02d}_" for n in range(7, 14)])),
    }


def comments_after(students: dict, release, answers: dict[str, str], facts: dict) -> dict[str, object]:
    """The classmates who hand in after s01 wrote their activity-13 comments (see demo_comments):
    s06 runs the solution's code and quotes the numbers s01's run gave (the grader's rerun of the
    same code may differ by an image or so); s03 writes a few words; s04 quotes s01's numbers;
    s05 copies s06's comment."""
    from autograder.demo import simulated_comments as write

    good = write.own_words(facts)
    later = {name: nbformat.from_dict(notebook) for name, notebook in students.items()
             if name not in FIRST_TO_HAND_IN}
    later["s06_own_words"] = with_answers(release, {**answers, COMMENT: good})
    for name, comment in (("s03_no_plots", write.FEW_WORDS), ("s04_unfrozen_base", write.their_numbers(facts)),
                          ("s05_stopped_at_6", write.near_copy(good))):
        later[name] = with_answers(later[name], {COMMENT: comment})
    return later


def make_release(settings, say=print) -> Path:
    """`labkit release` when the kit has it; plain nbgrader generate_assignment otherwise."""
    try:
        from autograder.authoring.release import release
    except ImportError:
        release = None
    if release is not None:
        return release(settings, say=say)
    from nbgrader.apps import NbGraderAPI
    from traitlets.config import Config

    from autograder.preprocessors import nbgrader_setup

    c = Config()
    nbgrader_setup.apply(c, settings)
    outcome = NbGraderAPI(config=c).generate_assignment(settings.assignment, force=True)
    if not outcome["success"]:
        raise RuntimeError(outcome.get("log", "") + outcome.get("error", ""))
    return settings.release_dir / settings.notebook_name


def write_submissions(submitted: Path, students: dict, settings) -> None:
    for student, notebook in students.items():
        target = submitted / student / settings.assignment / settings.notebook_name
        target.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(notebook, target)


def run_demo(settings, jobs: int = 2, out: str | Path | None = None, say=print) -> int:
    from rich.console import Console

    from autograder.authoring.prepare import is_current, prepare
    from autograder.comments import listing
    from autograder.grading.runner import grade_class, tools_on_path
    from autograder.reporting import class_results

    console = Console()
    started = time.monotonic()
    tools_on_path()
    out = Path(out) if out else settings.root / "demo_output"
    say(f"demo 1/5: prepare the {settings.profile} data and the pretrained base")
    if not is_current(settings):
        prepare(settings, say=say)
    say("demo 2/5: generate the student release")
    release_path = make_release(settings, say=say)
    release = nbformat.read(release_path, as_version=4)
    answers = answers_from_source(nbformat.read(settings.source_dir / settings.notebook_name, as_version=4))
    submitted = out / "submitted"
    shutil.rmtree(submitted, ignore_errors=True)
    students = simulated_class(release, answers)
    first = {name: students[name] for name in FIRST_TO_HAND_IN}
    write_submissions(submitted, first, settings)
    say(f"demo 3/5: {len(first)} students hand in first ({', '.join(first)}); grade them with --jobs {jobs}")
    early = grade_class(settings, submitted, out=out / "grading", jobs=jobs, force=True, console=console)
    facts = next(r.comment.get("facts") or {} for r in early.results if r.student == FIRST_TO_HAND_IN[0])
    later = (comments_after(students, release, answers, facts) if "easiest" in facts else
             {name: notebook for name, notebook in students.items() if name not in FIRST_TO_HAND_IN})
    write_submissions(submitted, later, settings)
    say(f"demo 4/5: {len(later)} more hand in, with comments on their own (or a classmate's) numbers")
    batch = grade_class(settings, submitted, out=out / "grading", jobs=jobs, console=console)
    for table in class_results.class_tables(batch.results, settings, page=batch.page):
        console.print(table)
    say("demo 5/5: activity 13's suggestions for the grader (labkit comments)")
    console.print(listing.table(batch.results, settings))
    say(f"grades:    {batch.csv} (activity 13's suggestions in its a13_* columns)")
    say(f"feedback:  {batch.out / 'feedback'}/<student>/{settings.assignment}/{settings.assignment}.html")
    say(f"plot:      {batch.plot}")
    say(f"notebooks: {batch.out / 'autograded'}")
    say(f"demo finished in {time.monotonic() - started:.0f} s")
    say(f"class page: {batch.page}  (open it in a browser: what the class got wrong, its models, "
        "the cost, activity 13)")
    return 0
