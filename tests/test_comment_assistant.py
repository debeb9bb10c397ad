"""Activity 13's pre-assessment: the comments a class writes, each with the suggestion and the
checklist a careful instructor would give; the facts come from the hand-over, never from numbers
the kernel typed; where the grader sees them (grades.csv, the gradebook's comment)."""
from __future__ import annotations

import contextlib
import csv
from pathlib import Path

import pytest
from comment_samples import ANA, BEN, GERMAN, TWENTY_WORDS, good_comment, very_long

from autograder.comments import assess as assessing
from autograder.comments import compare, copies, publish, text

CLASSMATES = {"ana": ANA, "ben": BEN}

# Written apart from the good comment: Ben writes his own text but quotes Ana's numbers.
BENS_OWN_WORDS = ("My first network got {t1} on training and {v1} on validation, so there is clear "
                  "overfitting, the gap was {g1}. Regularization with dropout made the loss curves "
                  "smoother and validation ended at {v2}. Digit {easy} was easiest and digit {hard} the "
                  "hardest in the report, because its strokes look like other digits. Pretrained features "
                  "help a lot with few images; next I would try fine-tuning.")


def bens_comment_with(facts: dict) -> str:
    return BENS_OWN_WORDS.format(t1=f"{facts['first_train']:.2f}", v1=f"{facts['first_val']:.2f}",
                                 g1=f"{facts['first_gap']:.2f}", v2=f"{facts['regularized_val']:.2f}",
                                 easy=facts["easiest"][0], hard=facts["hardest"][0])


@pytest.fixture(scope="module")
def references(settings):
    found = publish.reference_texts(settings)
    assert set(found) == {assessing.SOLUTION, assessing.PROMPT}
    return found


def review(student: str, comment: str, facts: dict, references: dict, class_comments: dict | None = None):
    """The assessment of one comment in a class (other comments as given), as the grader makes it."""
    comments = {**(class_comments or {}), student: comment}
    near = copies.similarities(comments, references)
    return assessing.assess(student, comment, facts, 10, CLASSMATES, near.get(student))


def question(assessment, number: int) -> tuple[float, str]:
    line = next(line for line in assessment.checklist if line.startswith(f"Q{number} "))
    return float(line.split()[1].split("/")[0]), line


def test_a_good_comment_quoting_the_right_numbers_is_suggested_full_marks_and_clear(references):
    found = review("ana", good_comment(ANA), ANA, references)
    assert (found.suggested, found.clear) == (10, True), found.checklist + found.doubts
    for number, points in ((1, 3), (2, 2), (3, 3), (4, 2)):
        assert question(found, number)[0] == points
    line = question(found, 1)[1]
    assert f"{ANA['first_train']:.2f} = training accuracy of the first model" in line
    assert "easiest: 6 (agrees" in question(found, 3)[1] and "hardest: 8 (agrees" in question(found, 3)[1]


def test_another_students_numbers_disagree_and_name_that_student(references):
    own = review("ben", bens_comment_with(BEN), BEN, references)
    copied = review("ben", bens_comment_with(ANA), BEN, references)
    assert own.clear and own.suggested >= 8, own.checklist + own.doubts
    assert copied.suggested <= own.suggested - 3
    assert question(copied, 1)[0] == 1 and "matches none of the student's results" in question(copied, 1)[1]
    assert "calls 6 the easiest, but by f1-score the easiest is 7" in question(copied, 3)[1]
    assert any("match the results of ana" in doubt for doubt in copied.doubts), copied.doubts
    assert not copied.clear


def test_a_comment_copied_from_the_posted_solution_gets_zero_and_is_flagged(references):
    found = review("ana", references[assessing.SOLUTION], ANA, references)
    assert found.suggested == 0 and not found.clear
    assert any(d.startswith("near-copy of the posted solution") for d in found.doubts)
    assert found.checklist[0].startswith("copied from the posted solution")


def test_a_comment_pasting_the_activitys_questions_gets_zero(references):
    found = review("ana", references[assessing.PROMPT], ANA, references)
    assert found.suggested == 0 and any("the activity's own text" in d for d in found.doubts)


def test_an_empty_comment_or_the_untouched_stub_is_zero_and_clear(references):
    for comment in ("", text.clean("YOUR ANSWER HERE")):
        found = review("ana", comment, ANA, references)
        assert (found.suggested, found.clear, found.words) == (0, True, 0)
        assert "found an empty answer cell" in found.checklist[0]


def test_a_comment_in_another_language_gets_no_score_but_its_numbers_are_checked(references):
    found = review("ana", GERMAN, ANA, references)
    assert found.suggested is None and not found.clear and found.shown_score() == "read it"
    assert any(d.startswith("not in English") for d in found.doubts)
    assert "0,98 = training accuracy of the first model" in found.checklist[0]
    assert "not matching" not in found.checklist[0]


def test_a_comment_of_twenty_words_gets_a_low_clear_suggestion(references):
    found = review("ana", TWENTY_WORDS, ANA, references)
    assert text.word_count(TWENTY_WORDS) <= 20
    assert 1 <= found.suggested <= 4 and found.clear, found.checklist
    assert "far shorter than the 100-200 asked (-1)" in found.checklist[-1]
    assert "found none quoted" in question(found, 1)[1]


def test_a_comment_of_two_thousand_words_loses_a_point_and_must_be_read(references):
    comment = very_long(ANA)
    found = review("ana", comment, ANA, references)
    assert found.words >= 2000
    assert found.suggested == 9 and not found.clear
    assert any("far longer than asked" in d for d in found.doubts)


def test_near_copies_between_classmates_name_each_other(references):
    ana, ben = good_comment(ANA), good_comment(ANA).replace("Next I would try", "Next, I'd try")
    comments = {"ana": ana, "ben": ben, "cleo": bens_comment_with(BEN)}
    near = copies.similarities(comments, references)
    assert [c.other for c in near["ana"]] == ["ben"] and [c.other for c in near["ben"]] == ["ana"]
    assert "cleo" not in near
    assert near["ana"][0].similarity >= copies.NEAR_COPY


def test_a_conclusion_against_the_students_own_results_is_capped_and_flagged(references):
    comment = good_comment(ANA).replace("so it overfits", "so there is no sign of overfitting")
    found = review("ana", comment, ANA, references)
    assert question(found, 1)[0] == 1 and "says there is no overfitting" in question(found, 1)[1]
    assert not found.clear


def test_without_results_to_compare_the_numbers_cannot_be_confirmed(references):
    found = review("ana", good_comment(ANA), {"class_names": ANA["class_names"]}, references)
    assert not found.clear
    assert any("no results of activity 8" in d for d in found.doubts)


@pytest.mark.parametrize("quoted, value", [("0.93", 0.93), ("93 %", 0.93), ("93.4%", 0.934), (".93", 0.93),
                                           ("0,93", 0.93)])
def test_quoted_accuracies_are_read_in_every_usual_spelling(quoted, value):
    assert [q.value for q in text.quotes(f"The accuracy was {quoted} in the end.")] == [pytest.approx(value)]


def test_settings_counts_and_activities_are_not_read_as_results_or_classes():
    sentence = "With a dropout rate of 0.5, 1,000 images and 5 epochs, activity 5 made digit 8 the hardest."
    assert text.quotes(sentence) == []
    assert [name for name, _ in text.class_mentions(sentence, ["5", "6", "7", "8", "9"])] == ["8"]
    assert compare.class_claims(sentence, ["5", "6", "7", "8", "9"]) == {"easiest": set(), "hardest": {"8"}}


def test_grades_csv_gets_the_suggestion_columns_and_keeps_its_own(tmp_path, settings, references):
    from autograder.course.records import GradeResult
    from autograder.reporting import class_results

    path = tmp_path / "grades.csv"
    results = [GradeResult("ana", "ok"), GradeResult("ben", "ok", message="a note")]
    found = {"ana": review("ana", good_comment(ANA), ANA, references), "ben": review("ben", "", BEN, references)}
    class_results.write_csv(results, settings, path, found)
    with open(path) as handle:
        reader = csv.DictReader(handle)
        columns, rows = reader.fieldnames, {row["student"]: row for row in reader}
    assert columns[-3:] == list(publish.COLUMNS) and {"total", "message"} <= set(columns)
    assert rows["ben"]["message"] == "a note" and rows["ana"]["total"] == "0"
    assert (rows["ana"]["a13_suggested"], rows["ana"]["a13_review"]) == ("10", "clear")
    assert rows["ana"]["a13_checklist"].startswith("Q1 ")
    assert (rows["ben"]["a13_suggested"], rows["ben"]["a13_review"]) == ("0", "clear")


def test_the_gradebook_comment_is_nbgraders_automatic_one_and_leaves_the_graders_own(tmp_path, settings):
    from types import SimpleNamespace

    from nbgrader.api import Gradebook

    from autograder.course.records import GradeResult
    from autograder.grading import runner

    runner.tools_on_path()   # nbgrader runs `alembic` when it makes a gradebook
    course = SimpleNamespace(assignment="lab")
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url) as gradebook:
        gradebook.add_assignment("lab")
        gradebook.add_notebook("lab", "lab")
        gradebook.add_grade_cell("a13_comment_answer", "lab", "lab", max_score=10, cell_type="markdown")
        gradebook.add_solution_cell("a13_comment_answer", "lab", "lab")
        for student in ("ana", "ben"):
            gradebook.add_student(student)
            gradebook.add_submission("lab", student)
        gradebook.find_comment("a13_comment_answer", "lab", "lab", "ben").manual_comment = "Well argued."
        gradebook.db.commit()
    results = [GradeResult(s, "ok", comment={"grade_id": "a13_comment_answer", "text": good_comment(f), "facts": f})
               for s, f in (("ana", ANA), ("ben", BEN))]
    found = publish.review_class(results, settings)   # the two comments are near-copies
    assert publish.write_gradebook(url, course, results, found) == []
    with Gradebook(url) as gradebook:
        ana, ben = (gradebook.find_comment("a13_comment_answer", "lab", "lab", s) for s in ("ana", "ben"))
        assert ana.comment.startswith("Activity 13, checked against your own results")
        assert "suggested 10/10 (to read before confirming)" in ana.comment
        assert f"first model: train {ANA['first_train']:.2f}" in ana.comment
        assert ben.comment == "Well argued." and "suggested" in ben.auto_comment
        # the feedback a student sees does not name the classmate
        assert "near-copy of the comment of a classmate" in ana.auto_comment and "ben" not in ana.auto_comment
        assert gradebook.find_grade("a13_comment_answer", "lab", "lab", "ana").needs_manual_grade


def renamed(facts: dict, prefix: str) -> dict:
    """The same results with class folders named like the lab's ('digit_5')."""
    names = {name: prefix + name for name in facts["class_names"]}
    return {**facts, "class_names": sorted(names.values()),
            "classes": {names[n]: v for n, v in facts["classes"].items()},
            "easiest": [names[n] for n in facts["easiest"]], "hardest": [names[n] for n in facts["hardest"]]}


def test_classes_are_recognised_as_students_name_them(references):
    facts = renamed(ANA, "digit_")
    found = review("ana", good_comment(ANA), facts, references)
    assert "easiest: digit_6 (agrees" in question(found, 3)[1] and found.suggested == 10
    sentence = "The sixes were easiest, the 8's hardest, unlike digit 5 after 5 epochs in activity 7."
    assert [n for n, _ in text.class_mentions(sentence, facts["class_names"])] == ["digit_6", "digit_8", "digit_5"]


def test_a_number_is_checked_against_the_result_its_words_name(references):
    """Ben's training accuracy quoted as his validation accuracy does not pass as right."""
    comment = bens_comment_with(BEN).replace(f"and {BEN['first_val']:.2f} on validation",
                                             f"and {BEN['first_train']:.2f} on validation")
    found = review("ben", comment, BEN, references)
    assert question(found, 1)[0] == 1
    assert f"quotes {BEN['first_train']:.2f}, which matches none" in question(found, 1)[1]


def test_claiming_overfitting_where_validation_is_as_high_as_training_is_flagged(references):
    even = {**ANA, "first_val": ANA["first_train"], "first_gap": 0.0}
    found = review("ana", good_comment(even), even, references)
    assert question(found, 1)[0] == 1 and "says there is overfitting" in question(found, 1)[1]


def test_a_rerun_may_differ_by_one_validation_image_but_not_by_two(references):
    """The grader runs the notebook again; on a split of 20 images a rerun may move one image."""
    small = {**ANA, "val_images": 20}
    for moved, agrees in ((1, True), (2, False)):
        quoted = ANA["first_val"] - moved / 20
        comment = good_comment(ANA).replace(f"only {ANA['first_val']:.2f}", f"only {quoted:.2f}")
        found = review("ana", comment, small, references)
        assert (question(found, 1)[0] == 3) is agrees, question(found, 1)[1]
