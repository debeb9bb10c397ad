"""The comment as submitted, and what can be read from it: sentences, words, quoted numbers,
class names and whether it is written in English. Plain text matching, so every finding can be
pointed at in the comment."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ACTIVITY = 13
STUBS = ("YOUR ANSWER HERE",)   # nbgrader's markdown stub: an untouched cell is an empty comment
SPELLED = {"zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
           "seven": "7", "eight": "8", "nine": "9"}
# English function words (scikit-learn's stop-word list): their share tells English prose apart
MIN_ENGLISH_SHARE = 0.2

_PERCENT = re.compile(r"(?<![\w.,])(\d{1,3}(?:[.,]\d+)?)\s*(?:%|percent\b|per cent\b|percentage points?\b)",
                      re.IGNORECASE)
_FRACTION = re.compile(r"(?<![\w.,])((?:0?[.,]|1\.)\d+)(?![\d%]|\s*(?:%|percent|per cent))", re.IGNORECASE)
# a number right after one of these words is a setting, not a result ("a dropout rate of 0.5")
SETTING_WORDS = {"dropout", "rate", "l2", "penalty", "factor", "lambda", "learning", "decay", "momentum",
                 "seed", "split", "batch"}
_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[^a-z])|\n\s*\n|\n\s*[-*]\s+|\n\s*\d+[.)]\s+")


@dataclass(frozen=True)
class Quote:
    """A number the comment quotes, as a fraction (93 % -> 0.93), with the digits it was given to."""

    text: str
    value: float
    decimals: int      # decimals of the fraction: "0.9" -> 1, "93%" -> 2, "93.4%" -> 3
    sentence: int


def answer_cell(notebook):
    """The activity's manually graded answer cell of a notebook, else None."""
    from autograder.grading.results import activity_of

    for cell in notebook.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if activity_of(meta.get("grade_id")) == ACTIVITY and meta.get("solution") and cell.cell_type == "markdown":
            return cell
    return None


def read_comment(notebook_path: str | Path | None) -> tuple[str, str]:
    """(grade_id, text) of the activity-13 answer in a submitted notebook; ('', '') without one."""
    import nbformat

    try:
        cell = answer_cell(nbformat.read(str(notebook_path), as_version=4))
    except Exception:  # an unreadable notebook has no comment to assess
        return "", ""
    if cell is None:
        return "", ""
    return cell.metadata["nbgrader"]["grade_id"], clean(cell.source)


def clean(markdown: str) -> str:
    """The comment's prose: the stub and markdown emphasis and headings left out."""
    text = str(markdown or "")
    for stub in STUBS:
        text = text.replace(stub, "")
    text = re.sub(r"^\s{0,3}#+\s*", "", text, flags=re.MULTILINE)
    text = re.sub(r"(\*\*|__|`)", "", text)
    return text.strip()


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def word_count(text: str) -> int:
    """Words as a reader counts them: numbers like 0.93 count too."""
    return len(re.findall(r"\S*\w\S*", text))


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def english_share(text: str) -> float:
    """Share of the words that are English function words ('the', 'and', 'is' ...)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    found = [w.lower() for w in words(text)]
    return sum(w in ENGLISH_STOP_WORDS for w in found) / len(found) if found else 0.0


def is_english(text: str) -> bool:
    return english_share(text) >= MIN_ENGLISH_SHARE


def _number(text: str) -> tuple[float, int]:
    digits = text.replace(",", ".")
    decimals = len(digits.split(".")[1]) if "." in digits else 0
    return float(digits), decimals


def quotes(text: str) -> list[Quote]:
    """Every accuracy-like number: fractions between 0 and 1 and percentages."""
    found = []
    for index, sentence in enumerate(sentences(text)):
        for match in _PERCENT.finditer(sentence):
            value, decimals = _number(match.group(1))
            if value <= 100 and not _a_setting(sentence[:match.start()]):
                found.append(Quote(match.group(0).strip(), value / 100, decimals + 2, index))
        for match in _FRACTION.finditer(sentence):
            value, decimals = _number(match.group(1))
            if value <= 1 and not _a_setting(sentence[:match.start()]):
                found.append(Quote(match.group(1), value, decimals, index))
    return found


def _a_setting(before: str) -> bool:
    return bool(SETTING_WORDS & {w.lower() for w in re.findall(r"[A-Za-z0-9]+", before)[-3:]})


_TOKEN = re.compile(r"\d+(?:[.,]\d+)?%?|[^\W\d_]+(?:['’][^\W\d_]+)?")
# words around a digit that make it something other than a class ("activity 5", "5 epochs")
NOT_A_CLASS_BEFORE = ("activity", "activities", "epoch", "epochs", "step", "question", "layer", "top")
NOT_A_CLASS_AFTER = ("epoch", "image", "picture", "layer", "class", "percent", "time", "point", "word")


def class_mentions(sentence: str, class_names: list[str]) -> list[tuple[str, int]]:
    """(class name, character offset) for each class the sentence names. Class names that are
    digits count only as whole words that are not part of a number, an epoch or an activity
    ("digit 5", "the 8s", "five"), not "0.5", "5 epochs" or "activity 5"."""
    tokens = list(_TOKEN.finditer(sentence))
    lowered = {name.lower(): name for name in class_names}
    digits = any(name.isdigit() for name in lowered)
    found = []
    for position, match in enumerate(tokens):
        word = match.group(0).lower()
        word = SPELLED.get(word, word) if digits else word
        word = re.sub(r"(?<=\d)['’]?s$", "", word)
        name = lowered.get(word) or lowered.get(word.removesuffix("s")) or lowered.get(word.removesuffix("es"))
        if name is None:
            continue
        if name.isdigit():
            before = tokens[position - 1].group(0).lower() if position else ""
            after = tokens[position + 1].group(0).lower() if position + 1 < len(tokens) else ""
            if before in NOT_A_CLASS_BEFORE or after.startswith(NOT_A_CLASS_AFTER):
                continue
        found.append((name, match.start()))
    return found
