"""The lab's four questions for activity 13 (see the notebook's activity-13 text), their points in
the grader's rubric, and the words that show a sentence is about each. The vocabulary is plain
regular expressions so that the checklist can say which words were found."""
from __future__ import annotations

import re
from dataclasses import dataclass

WORDS_ASKED = (100, 200)       # the length the activity asks for
FAR_OFF = (50, 400)            # shorter or longer than this costs a point and needs reading
GAP_OVERFITTING = 0.05         # a training accuracy this far above validation is overfitting
GAP_NONE = 0.02                # ... and one at most this far above it is not
RUBRIC_POINTS = 10             # the rubric's total; suggestions scale to the cell's points


@dataclass(frozen=True)
class Question:
    number: int
    title: str                 # what was asked, for the checklist
    points: int                # rubric points (of RUBRIC_POINTS)
    topic: str                 # a sentence with these words addresses the question


def _any(*patterns: str) -> str:
    return r"\b(?:" + "|".join(patterns) + r")"


OVERFITTING = Question(1, "overfitting (first model: training vs. validation accuracy)", 3, _any(
    r"over-?fit", r"under-?fit", r"memori[sz]", r"generali[sz]", r"gap\b",
    r"difference between (?:the )?training and (?:the )?validation"))
REGULARIZATION = Question(2, "what regularization changed, referring to the curves", 2, _any(
    r"regulari[sz]", r"drop-?out", r"l2\b", r"weight decay", r"penalt", r"augment"))
CLASSES = Question(3, "easiest and hardest classes in the report, and why", 3, _any(
    r"easiest", r"hardest", r"(?:best|worst)[- ]", r"precision", r"recall", r"f1", r"f-?score",
    r"classification report", r"confus", r"most difficult", r"highest", r"lowest"))
TRANSFER = Question(4, "why a frozen pretrained base works with few images, and what next", 2, _any(
    r"pre-?trained", r"frozen", r"freez", r"transfer", r"features?\b", r"imagenet", r"base model",
    r"the base\b"))
QUESTIONS = (OVERFITTING, REGULARIZATION, CLASSES, TRANSFER)

CURVES = _any(r"curves?", r"plots?", r"graphs?", r"figures?", r"losse?s?\b", r"epochs?", r"activity 11")
NO_OVERFITTING = (r"\b(?:no|not|n't|never|without|hardly|barely)\b(?:\W+\w+){0,4}?\W+(?:sign of )?over-?fit"
                  r"|\bover-?fit\w*\W+(?:\w+\W+){0,2}(?:not|never|absent)\b")
NARROWED = r"\b(?:narrow|smaller|reduc|clos|shr[iu]nk|less|lower|decreas)\w*"
WIDENED = r"\b(?:wid|larger|bigger|grew|grow|increas|higher)\w*"
GAP = r"\b(?:gap|difference)\b"
REASON = _any(r"because", r"since", r"similar", r"resembl", r"looks? like", r"shapes?", r"strokes?",
              r"confus", r"ambigu", r"share", r"loops?", r"written", r"handwrit", r"mistak", r"due to",
              r"might be", r"may be", r"probably", r"fewer", r"texture", r"colou?r", r"background")
EASIEST = _any(r"easiest", r"best", r"highest", r"strongest", r"most accurate", r"top", r"perfect",
               r"easy", r"easier")
HARDEST = _any(r"hardest", r"worst", r"lowest", r"weakest", r"poorest", r"most difficult", r"least",
               r"difficult", r"hard", r"harder", r"struggl")
WHY_TRANSFER = _any(r"pre-?trained", r"already learn", r"learned features", r"learnt", r"features?\b",
                    r"imagenet", r"related task", r"reuse", r"re-use")
NEXT_STEP = _any(r"fine-?tun", r"unfreez", r"more (?:training )?(?:data|images|examples|epochs|samples)",
                 r"bigger (?:data|model)", r"larger (?:data|model)", r"augment", r"learning rate", r"next",
                 r"would try", r"could try", r"try", r"in future", r"improve")


def found(pattern: str, text: str) -> list[str]:
    """The words of `text` that match `pattern`, as written."""
    return [m.group(0) for m in re.finditer(pattern, text, re.IGNORECASE)]


def about(question: Question, sentence: str) -> bool:
    return bool(found(question.topic, sentence))
