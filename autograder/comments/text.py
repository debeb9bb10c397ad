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
    before: str = ""   # the words before it in its sentence, and after it
    after: str = ""


def answer_cell(notebook):
    """The activity's manually graded answer cell of a notebook, else None."""
    from autograder.course.vocabulary import activity_of

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
                found.append(Quote(match.group(0).strip(), value / 100, decimals + 2, index,
                                   sentence[:match.start()], sentence[match.end():]))
        for match in _FRACTION.finditer(sentence):
            value, decimals = _number(match.group(1))
            if value <= 1 and not _a_setting(sentence[:match.start()]):
                found.append(Quote(match.group(1), value, decimals, index, sentence[:match.start()],
                                   sentence[match.end():]))
    return found


def _a_setting(before: str) -> bool:
    return bool(SETTING_WORDS & {w.lower() for w in re.findall(r"[A-Za-z0-9]+", before)[-3:]})


_TOKEN = re.compile(r"\d+(?:[.,]\d+)?%?(?:['’]?s\b)?|[^\W\d_]+(?:['’][^\W\d_]+)?")
# words around a digit that make it something other than a class ("activity 5", "5 epochs")
NOT_A_CLASS_BEFORE = ("activity", "activities", "epoch", "epochs", "step", "question", "layer", "top")
NOT_A_CLASS_AFTER = ("epoch", "image", "picture", "layer", "class", "percent", "time", "point", "word")


def aliases(class_names: list[str]) -> dict[tuple, str]:
    """Ways a comment names each class: its folder name in words ("digit_5" -> "digit 5"), the
    part that tells it apart from the others ("5", and "five" for a digit), singular or plural."""
    split = {name: tuple(t.lower() for t in _TOKEN.findall(name.replace("_", " "))) for name in class_names}
    common = set.intersection(*(set(parts) for parts in split.values())) if len(split) > 1 else set()
    found: dict[tuple, str] = {}
    for name, parts in split.items():
        own = tuple(t for t in parts if t not in common) or parts
        for form in {parts, own}:
            found[form] = name
            found[(*form[:-1], form[-1] + "s")] = name        # "the 8s", "roses" for "rose"
            found[(*form[:-1], form[-1] + "es")] = name       # "sixes"
            if form[-1].endswith("s"):
                found[(*form[:-1], form[-1][:-1])] = name     # "rose" for "roses"
            if len(form) == 1 and form[0] in DIGIT_WORDS:
                word = DIGIT_WORDS[form[0]]
                found[(word,)] = found[(word + "s",)] = found[(word + "es",)] = name
    return found


DIGIT_WORDS = {digit: word for word, digit in SPELLED.items()}


def class_mentions(sentence: str, class_names: list[str]) -> list[tuple[str, int]]:
    """(class name, character offset) for each class the sentence names (see aliases). A class
    named by a number counts only as a whole word that is not part of a number, an epoch or an
    activity ("digit 5", "the 8s", "five"), not "0.5", "5 epochs" or "activity 5"."""
    tokens = list(_TOKEN.finditer(sentence))
    words = [re.sub(r"(?<=\d)['’]s$", "s", t.group(0).lower()) for t in tokens]
    known = aliases(class_names)
    longest = max((len(form) for form in known), default=0)
    found, position = [], 0
    while position < len(tokens):
        for size in range(min(longest, len(tokens) - position), 0, -1):
            name = known.get(tuple(words[position:position + size]))
            if name is not None and not _not_a_class(words, position, size):
                found.append((name, tokens[position].start()))
                position += size
                break
        else:
            position += 1
    return found


def _not_a_class(words: list[str], position: int, size: int) -> bool:
    """A bare number with a word around it that makes it an activity, epoch or count."""
    if size > 1 or not words[position][:1].isdigit():
        return False
    before = words[position - 1] if position else ""
    after = words[position + 1] if position + 1 < len(words) else ""
    return before in NOT_A_CLASS_BEFORE or after.startswith(NOT_A_CLASS_AFTER)
