"""One student's activity-13 pre-assessment: a suggested score, a checklist that says per question
what was expected and found, and the reasons a person should read the comment before confirming.
The suggestion is never a grade: the answer cell still needs a manual grade."""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from autograder.comments import compare, rubric, text
from autograder.comments.copies import Copy
from autograder.comments.facts import usable

SOLUTION = "the posted solution"
PROMPT = "the activity's own text"
FIRST_KINDS = {"first_train": "train", "first_last_train": "train", "first_val": "val",
               "first_last_val": "val", "first_gap": "gap"}
NEXT_CONTEXT = r"\b(?:next|future|would|could|try|improve)"


@dataclass
class Assessment:
    student: str
    words: int = 0
    suggested: float | None = None       # None: the checks cannot suggest a score; read it
    max_points: float = rubric.RUBRIC_POINTS
    checklist: list = field(default_factory=list)
    doubts: list = field(default_factory=list)    # why a person should read it before confirming

    @property
    def clear(self) -> bool:
        return self.suggested is not None and not self.doubts

    def to_dict(self) -> dict:
        return {**asdict(self), "clear": self.clear}

    def shown_score(self) -> str:
        return "read it" if self.suggested is None else f"{self.suggested:g}/{self.max_points:g}"


def fmt(value) -> str:
    return "missing" if value is None else f"{value:.2f}" if isinstance(value, float) else str(value)


def facts_line(facts) -> str:
    """The student's facts in one line, for the grader; a fact that is not there reads "missing"."""
    facts, parts = usable(facts), []

    def get(key: str) -> str:
        return fmt(facts.get(key))

    if any(key in facts for key in ("first_train", "first_val", "first_gap")):
        parts.append(f"first model: train {get('first_train')}, validation {get('first_val')} "
                     f"(gap {get('first_gap')})")
    if any(key in facts for key in ("regularized_train", "regularized_val", "regularized_gap")):
        narrowed = {True: ", narrowed", False: ", not narrowed"}.get(facts.get("gap_narrowed"), "")
        parts.append(f"regularized: train {get('regularized_train')}, validation "
                     f"{get('regularized_val')} (gap {get('regularized_gap')}{narrowed})")
    if "regularized_last_val" in facts:
        parts.append(f"regularized curves: last epoch {get('regularized_last_train')} / "
                     f"{get('regularized_last_val')}, best validation {get('regularized_best_val')} "
                     f"at epoch {get('regularized_best_epoch')} of {get('regularized_epochs')}")
    f1 = {name: values["f1-score"] for name, values in (facts.get("classes") or {}).items()}
    ranks = [f"{kind} {', '.join(facts[kind])} (f1 {fmt(f1.get(facts[kind][0]))})"
             for kind in ("easiest", "hardest") if facts.get(kind)]
    if ranks:
        parts.append(", ".join(ranks))
    if "hidden_accuracy" in facts:
        parts.append(f"hidden test accuracy {get('hidden_accuracy')}")
    return "; ".join(parts) or "no results (the notebook did not reach activity 8)"


def _sentences_about(question, sentences: list[str]) -> list[str]:
    return [s for s in sentences if rubric.about(question, s)]


def _attributed(check: compare.QuoteCheck, sentences: list[str], classes: list[str]) -> int:
    """The question a quoted number belongs to: the report's, the regularization's, the first model's."""
    sentence = sentences[check.quote.sentence]
    if re.search(compare.REPORT_WORDS, sentence, re.IGNORECASE) or text.class_mentions(sentence, classes):
        return 3
    for question in (rubric.REGULARIZATION, rubric.OVERFITTING, rubric.TRANSFER):
        if rubric.about(question, sentence):
            return question.number
    return 1


class _Review:
    """The per-question reading of one comment; each method returns (points, checklist line)."""

    def __init__(self, comment: str, facts: dict):
        self.comment, self.facts = comment, facts
        self.sentences = text.sentences(comment)
        self.classes = list(facts.get("class_names") or (facts.get("classes") or {}))
        self.checks = compare.check_quotes(comment, facts)
        self.wrong = [c for c in self.checks if not c.agrees]          # disagree, or nothing to check
        self.disagree = [c for c in self.wrong if c.nearest]
        self.wrong_in = {c.quote.text: _attributed(c, self.sentences, self.classes) for c in self.wrong}
        self.doubts: list[str] = []

    def _wrong_for(self, number: int) -> list[compare.QuoteCheck]:
        return [c for c in self.wrong if self.wrong_in[c.quote.text] == number]

    def _unknown(self, keys, activity: int) -> bool:
        if any(key in self.facts for key in keys):
            return False
        self.doubts.append(f"Q: no results of activity {activity} to check its numbers against")
        return True

    def _missing(self, keys) -> list[str]:
        """The checklist's note on the results of a question that are there only in part."""
        gone = [compare.label(key) for key in keys if key not in self.facts]
        if not gone or len(gone) == len(keys):   # all there, or all missing (see _unknown)
            return []
        self.doubts.append(f"Q: missing results, so not checked: {', '.join(gone)}")
        return [f"missing: {', '.join(gone)} (not checked)"]

    def _numbers(self, number: int, points: int, notes: list) -> int:
        """Numbers of this question that match none of the results: noted, and at most 1 point
        (the rubric's "numbers missing or misread")."""
        wrong = self._wrong_for(number)
        notes += [_wrong_note(c, self.facts) for c in wrong]
        return min(points, 1) if wrong else points

    def _contradiction(self, points: int, notes: list, note: str, doubt: str) -> int:
        """A conclusion the student's results contradict: noted, to be read, and at most 1 point."""
        notes.append(note)
        self.doubts.append(doubt)
        return min(points, 1)

    def overfitting(self):
        q = rubric.OVERFITTING
        words = sorted({w.lower() for s in self.sentences for w in rubric.found(q.topic, s)})
        quoted = {FIRST_KINDS[c.fact]: c for c in self.checks if c.fact in FIRST_KINDS}
        if not words and not quoted:
            return 0, (f"Q1 0/{q.points} {q.title}: expected a comparison of the first model's training and "
                       f"validation accuracy and a conclusion, found none; try quoting both and saying what the "
                       "gap between them shows")
        unknown = self._unknown(FIRST_KINDS, 8)
        points = 3 if len(quoted) >= 2 else 2 if quoted else 1
        if not words:
            points = min(points, 2)
        notes = [f"words: {', '.join(words)}" if words else "no conclusion about overfitting"]
        notes += [f"quotes {c.quote.text} = {compare.label(c.fact)}" for c in quoted.values()]
        if not quoted and not unknown:
            notes.append(f"expected the first model's accuracies (train {fmt(self.facts.get('first_train'))}, "
                         f"validation {fmt(self.facts.get('first_val'))}), found none quoted")
        notes += self._missing(("first_train", "first_val", "first_gap"))
        points = self._numbers(1, points, notes)
        gap, verdict = self.facts.get("first_gap"), compare.overfitting_verdict(self.comment)
        if isinstance(gap, float) and (verdict == "none" and gap > rubric.GAP_OVERFITTING
                                       or verdict == "overfitting" and gap <= rubric.GAP_NONE):
            points = self._contradiction(points, notes, f"says there is {'no ' if verdict == 'none' else ''}"
                                         f"overfitting, but the training accuracy is {fmt(gap)} above validation",
                                         "Q1: the conclusion contradicts the student's results")
        return points, f"Q1 {points}/{q.points} {q.title}: " + "; ".join(notes)

    def regularization(self):
        q = rubric.REGULARIZATION
        about = _sentences_about(q, self.sentences)
        if not about:
            return 0, (f"Q2 0/{q.points} {q.title}: expected what dropout, L2 or augmentation changed in the "
                       "curves of activity 11, found no sentence about regularization; try describing how the "
                       "training and validation curves moved")
        self._unknown(("regularized_train", "regularized_last_val"), 10)
        quoted = [c for c in self.checks if c.fact.startswith("regularized_")]
        curves = sorted({w.lower() for s in about + [self.sentences[c.quote.sentence] for c in quoted]
                         for w in rubric.found(rubric.CURVES, s)})
        points = 2 if curves else 1
        notes = [f"refers to the curves ({', '.join(curves)})" if curves else
                 "expected a reference to the curves of activity 11, found none"]
        notes += [f"quotes {c.quote.text} = {compare.label(c.fact)}" for c in quoted]
        notes += self._missing(("regularized_train", "regularized_val", "regularized_gap"))
        points = self._numbers(2, points, notes)
        claim, narrowed = compare.gap_claim(self.comment), self.facts.get("gap_narrowed")
        if claim and narrowed is not None and (claim == "narrowed") != narrowed:
            points = self._contradiction(points, notes, f"says the gap {claim}, but it went from "
                                         f"{fmt(self.facts.get('first_gap'))} to "
                                         f"{fmt(self.facts.get('regularized_gap'))}",
                                         "Q2: what it says of the gap contradicts the student's results")
        return points, f"Q2 {points}/{q.points} {q.title}: " + "; ".join(notes)

    def classes_question(self):
        q = rubric.CLASSES
        claims = compare.class_claims(self.comment, self.classes)
        about = _sentences_about(q, self.sentences)
        if not about and not (claims["easiest"] or claims["hardest"]):
            return 0, (f"Q3 0/{q.points} {q.title}: expected the easiest and hardest classes of the report "
                       f"of activity 12 and a reason, found neither; try naming them with their f1-scores")
        unknown = self._unknown(("easiest",), 12)
        points, notes = 0, []
        for kind in ("easiest", "hardest"):
            said, truth = sorted(claims[kind]), self.facts.get(kind) or []
            if not said:
                notes.append(f"expected the {kind} class" + ("" if unknown else f" ({', '.join(truth)})")
                             + ", found none named")
            elif unknown or set(said) & set(truth):
                points += 1
                notes.append(f"{kind}: {', '.join(said)}" + ("" if unknown else " (agrees with the f1-scores)"))
            else:
                notes.append(f"calls {', '.join(said)} the {kind}, but by f1-score the {kind} is "
                             f"{', '.join(truth)}")
                self.doubts.append(f"Q3: the class it calls {kind} is not, by the student's report")
        named = [s for s in self.sentences if text.class_mentions(s, self.classes)]
        reasons = sorted({w.lower() for s in about + named for w in rubric.found(rubric.REASON, s)})
        if reasons and (claims["easiest"] or claims["hardest"]):
            points += 1
            notes.append(f"gives a reason ({', '.join(reasons[:4])})")
        else:
            notes.append("expected a reason (how the images of those classes look), found none")
        wrong = self._wrong_for(3)
        notes += [_wrong_note(c, self.facts) for c in wrong]
        return points, f"Q3 {points}/{q.points} {q.title}: " + "; ".join(notes)

    def transfer(self):
        q = rubric.TRANSFER
        about = _sentences_about(q, self.sentences)
        why = sorted({w.lower() for s in about for w in rubric.found(rubric.WHY_TRANSFER, s)})
        context = about + [s for s in self.sentences if re.search(NEXT_CONTEXT, s, re.IGNORECASE)]
        following = sorted({w.lower() for s in context for w in rubric.found(rubric.NEXT_STEP, s)})
        points = int(bool(why)) + int(bool(following))
        notes = [f"why: {', '.join(why)}" if why else
                 "expected why pretrained, frozen features need few images, found no such reason",
                 f"next: {', '.join(following[:4])}" if following else
                 "expected a next step (fine-tuning, more images, augmentation), found none"]
        return points, f"Q4 {points}/{q.points} {q.title}: " + "; ".join(notes)


def _wrong_note(check: compare.QuoteCheck, facts: dict) -> str:
    if not check.nearest:
        return f"quotes {check.quote.text}, and there are no results to compare it with"
    return (f"quotes {check.quote.text}, which matches none of the student's results (nearest: "
            f"{compare.label(check.nearest)} {fmt(check.nearest_value)}; tolerance "
            f"{compare.tolerance(check.quote, facts):.3g})")


def length_line(words: int) -> tuple[int, str]:
    low, high = rubric.WORDS_ASKED
    if low <= words <= high:
        return 0, f"length: {words} words (asked {low}-{high})"
    if rubric.FAR_OFF[0] <= words <= rubric.FAR_OFF[1]:
        return 0, f"length: {words} words, a little {'short' if words < low else 'long'} (asked {low}-{high})"
    return -1, (f"length: {words} words, far {'shorter' if words < low else 'longer'} than the {low}-{high} "
                f"asked (-1); try {'answering each question in a sentence or two' if words < low else 'keeping to what the four questions ask'}")


def assess(student: str, comment: str, facts: dict, max_points: float = rubric.RUBRIC_POINTS,
           classmates: dict | None = None, copies: list[Copy] | None = None) -> Assessment:
    """The pre-assessment of one comment. `classmates`: student -> facts of the others;
    `copies`: the near-copies found for this comment (copies.similarities). Facts that are missing,
    damaged or absurd count as missing (facts.usable), and never stop the assessment."""
    facts = usable(facts)
    result = Assessment(student, text.word_count(comment), max_points=max_points)
    scale = max_points / rubric.RUBRIC_POINTS
    if not comment.strip():
        result.suggested = 0.0
        result.checklist = [f"Activity 13: expected a comment of {rubric.WORDS_ASKED[0]}-{rubric.WORDS_ASKED[1]} "
                            "words on the four questions, found an empty answer cell; try writing it from "
                            "your own numbers and plots"]
        return result
    references = [c for c in (copies or []) if c.other in (SOLUTION, PROMPT)]
    for copy in copies or []:
        who = copy.other if copy.other in (SOLUTION, PROMPT) else f"the comment of {copy.other}"
        result.doubts.append(f"near-copy of {who} (similarity {copy.similarity:.2f})")
    review = _Review(comment, facts)
    if not text.is_english(comment):
        result.suggested = None
        result.doubts.append(f"not in English ({100 * text.english_share(comment):.0f} % English function "
                             "words): the checks read English")
        result.checklist.append(f"numbers: {_numbers_line(review)}")
        return result
    parts = [review.overfitting(), review.regularization(), review.classes_question(), review.transfer()]
    penalty, length = length_line(result.words)
    total = max(0, sum(points for points, _ in parts) + penalty)
    if references:
        total = 0
        result.checklist.append(f"copied from {references[0].other}: 0 points, as the rubric says for "
                                "copied text; try writing it from your own numbers and plots")
    result.checklist += [line for _, line in parts] + [length]
    result.suggested = round(2 * total * scale) / 2
    result.doubts += [d.removeprefix("Q: ") for d in review.doubts]
    if review.disagree:
        many = len(review.disagree) > 1
        result.doubts.append(f"{len(review.disagree)} quoted number{'s' if many else ''} "
                             f"{'match' if many else 'matches'} none of the student's results")
    source, count = compare.classmate_source(comment, review.wrong, {
        s: usable(f) for s, f in (classmates or {}).items() if s != student and f})
    if source:
        result.doubts.append(f"{count} of the numbers it quotes that are not the student's match the "
                             f"results of {source}")
    if result.words > rubric.FAR_OFF[1]:
        result.doubts.append("far longer than asked: the questions' words may be there by chance")
    return result


def _numbers_line(review: _Review) -> str:
    agree = [f"{c.quote.text} = {compare.label(c.fact)}" for c in review.checks if c.agrees]
    wrong = [c.quote.text for c in review.wrong]
    return ("; ".join(agree) or "none agree with the student's results") + (
        f"; not matching: {', '.join(wrong)}" if wrong else "")
