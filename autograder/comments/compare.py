"""What the comment claims against what the student's facts show: each quoted number is matched to
the fact it agrees with (within a stated tolerance), each class called easiest or hardest to the
report's f1-scores. Numbers that match none of the student's facts are tried on classmates' facts."""
from __future__ import annotations

import re
from dataclasses import dataclass

from autograder.comments import facts as fact_names
from autograder.comments import rubric, text

ABS_TOLERANCE = 0.01   # a quoted accuracy agrees within one percentage point, or within the
# rounding of the digits it was quoted to ("0.9" agrees with 0.85 to 0.95), or within one image of
# the validation split: the grader runs the notebook again, and a run may differ from the
# student's by an image or so (with 20 validation images, 0.05)
REPORT_WORDS = r"\b(?:precision|recall|f1|f-?score|f1-score|support|report)"
NEAR_CUE = 40          # a class takes the meaning of an easy/hard word at most this many characters away
METRICS = ("precision", "recall", "f1-score")


# What a number is said to be, by the word naming it ("validation accuracy of 0.81", "0.95 on the
# training images"): the facts of that kind only.
KINDS = {"train": r"train\w*", "val": r"val\w*", "gap": r"gap|difference", "test": r"test|hidden",
         "f1": r"f1\S*|f-?score|precision|recall"}
NUMBER = r"(?<![\w-])\d*[.,]?\d+\s*%?(?![\w-])"


def kind_of(quote: text.Quote) -> str:
    """The kind the words around a quote give it: right after it ("0.95 on the training images"),
    else the nearest of the five words before it, up to the previous number; '' when none."""
    after = re.match(r"\s*(?:on|in|for|of)\s+(?:the\s+)?(\S+)", quote.after, re.IGNORECASE)
    if after:
        for kind, pattern in KINDS.items():
            if re.fullmatch(pattern, after.group(1).strip(".,;:"), re.IGNORECASE):
                return kind
    before = re.split(NUMBER, quote.before)[-1].split()[-5:]
    for word in reversed(before):
        for kind, pattern in KINDS.items():
            if re.fullmatch(pattern, word.strip(".,;:()"), re.IGNORECASE):
                return kind
    return ""


def of_kind(key: str, kind: str) -> bool:
    if kind == "f1":
        return key.startswith("class:") or key == "report_macro_f1"
    if kind == "val":
        return key.endswith("_val") or key == "report_accuracy"
    if kind == "test":
        return key == "hidden_accuracy"
    return key.endswith(f"_{kind}")


def tolerance(quote: text.Quote, facts: dict | None = None) -> float:
    images = (facts or {}).get("val_images")
    one_image = 1.0 / images if isinstance(images, int) and images > 0 else 0.0
    return max(ABS_TOLERANCE, 0.5 * 10.0 ** -quote.decimals, one_image)


@dataclass
class QuoteCheck:
    quote: text.Quote
    fact: str = ""          # the fact it agrees with, "" when none
    value: float | None = None
    nearest: str = ""       # the closest fact when it agrees with none
    nearest_value: float | None = None

    @property
    def agrees(self) -> bool:
        return bool(self.fact)


def label(key: str) -> str:
    if key.startswith("class:"):
        _, name, metric = key.split(":")
        return f"{metric} of class {name}"
    return fact_names.LABELS.get(key, key)


def candidates(sentence: str, facts: dict) -> dict[str, float]:
    """The facts a number in this sentence may refer to: the accuracies and gaps, and the report's
    per-class numbers when the sentence names a class or the report's measures."""
    found = {key: facts[key] for key in fact_names.LABELS if isinstance(facts.get(key), (int, float))}
    classes = facts.get("classes") or {}
    named = {name for name, _ in text.class_mentions(sentence, list(classes))}
    if named or re.search(REPORT_WORDS, sentence, re.IGNORECASE):
        for name in (named or classes):
            for metric in METRICS:
                found[f"class:{name}:{metric}"] = classes[name][metric]
    return found


def preferred(sentence: str) -> str:
    """The facts a sentence is about, by its words: the report's, the regularized or the first model's."""
    if re.search(REPORT_WORDS, sentence, re.IGNORECASE):
        return "class:"
    if rubric.about(rubric.REGULARIZATION, sentence):
        return "regularized_"
    if rubric.about(rubric.OVERFITTING, sentence) or re.search(r"\bfirst\b", sentence, re.IGNORECASE):
        return "first_"
    return ""


def check_quote(quote: text.Quote, sentence: str, facts: dict) -> QuoteCheck:
    """The fact a quote agrees with (within tolerance; the sentence's own subject first, then the
    closest), else the nearest fact."""
    options = candidates(sentence, facts)
    kind = kind_of(quote)
    options = {k: v for k, v in options.items() if of_kind(k, kind)} if kind else options
    if not options:
        return QuoteCheck(quote)
    subject = preferred(sentence)
    agreeing = [k for k in options if abs(options[k] - quote.value) <= tolerance(quote, facts) + 1e-9]
    if agreeing:
        rank = {k: i for i, k in enumerate(fact_names.LABELS)}   # results before curve records
        key = min(agreeing, key=lambda k: (not (subject and k.startswith(subject)),
                                           round(abs(options[k] - quote.value), 3), rank.get(k, len(rank)), k))
        return QuoteCheck(quote, key, options[key])
    key = min(options, key=lambda k: (abs(options[k] - quote.value), k))
    return QuoteCheck(quote, nearest=key, nearest_value=options[key])


def check_quotes(comment: str, facts: dict) -> list[QuoteCheck]:
    parts = text.sentences(comment)
    return [check_quote(q, parts[q.sentence], facts) for q in text.quotes(comment)]


def classmate_source(comment: str, wrong: list[QuoteCheck], classmates: dict[str, dict]) -> tuple[str, int]:
    """(student, how many) of the classmate whose facts explain most of the numbers that disagree
    with this student's own, when that is at least two and at least half of them; else ('', 0)."""
    parts = text.sentences(comment)
    best, count = "", 0
    for student in sorted(classmates):
        agreed = sum(check_quote(c.quote, parts[c.quote.sentence], classmates[student]).agrees for c in wrong)
        if agreed > count:
            best, count = student, agreed
    return (best, count) if count >= 2 and 2 * count >= len(wrong) else ("", 0)


def class_claims(comment: str, class_names: list[str]) -> dict[str, set]:
    """{'easiest': classes, 'hardest': classes} the comment calls so: each class named in a
    sentence takes the meaning of the nearest easy/hard word in that sentence."""
    claims = {"easiest": set(), "hardest": set()}
    for sentence in text.sentences(comment):
        mentions = text.class_mentions(sentence, class_names)
        cues = ([(m.start(), "easiest") for m in re.finditer(rubric.EASIEST, sentence, re.IGNORECASE)]
                + [(m.start(), "hardest") for m in re.finditer(rubric.HARDEST, sentence, re.IGNORECASE)])
        if not cues:
            continue
        for name, offset in mentions:
            distances = sorted((abs(start - offset), kind) for start, kind in cues
                               if abs(start - offset) <= NEAR_CUE)
            if not distances:
                continue
            if len(distances) > 1 and distances[0][0] == distances[1][0] and distances[0][1] != distances[1][1]:
                continue   # as near to an easy word as to a hard one: no claim
            claims[distances[0][1]].add(name)
    return claims


def overfitting_verdict(comment: str) -> str:
    """'none' when the comment says there is no overfitting, 'overfitting' when it says there is
    (about the first model: sentences about regularization are left out), else ''."""
    about_first = [s for s in text.sentences(comment) if not rubric.about(rubric.REGULARIZATION, s)]
    if any(re.search(rubric.NO_OVERFITTING, s, re.IGNORECASE) for s in about_first):
        return "none"
    if any(re.search(r"\bover-?fit", s, re.IGNORECASE) for s in about_first):
        return "overfitting"
    return ""


def gap_claim(comment: str) -> str:
    """'narrowed', 'widened' or '' from the sentences about the gap."""
    for sentence in text.sentences(comment):
        if re.search(rubric.GAP, sentence, re.IGNORECASE) and re.search(rubric.REGULARIZATION.topic, sentence,
                                                                           re.IGNORECASE):
            if re.search(rubric.NARROWED, sentence, re.IGNORECASE):
                return "narrowed"
            if re.search(rubric.WIDENED, sentence, re.IGNORECASE):
                return "widened"
    return ""
