"""The comments the demo's simulated class writes for activity 13, one of each kind a grader
meets: the posted example pasted in, an empty cell, a few words, a comment in one's own words
with one's own numbers, one with a classmate's numbers, and a near-copy of a classmate's."""
from __future__ import annotations

OWN_WORDS = (
    "My first model scored {train:.2f} on the training images and {val:.2f} on validation, {verdict}. "
    "Dropout and the L2 penalty slowed training down; in the loss curves of activity 11 the "
    "validation loss follows the training loss instead of drifting away, and the regularized "
    "model ends at {reg_train:.2f} on training and {reg_val:.2f} on validation, so with "
    "regularization the gap {change} to {reg_gap:.2f}. In the report digit {easy} is the easiest class "
    "(f1-score {easy_f1:.2f}) and digit {hard} the hardest ({hard_f1:.2f}); I think that is because "
    "a {hard} is written in many ways and shares strokes with other digits. The base was pretrained "
    "on other digits and stays frozen, so it already turns each image into good features and only "
    "the small head is learned from our few dozen images per class. Next I would try fine-tuning "
    "the top layers of the base with a low learning rate, and more images.")

THEIR_NUMBERS = (
    "Training accuracy was {train:.2f} and validation accuracy {val:.2f}, a gap of {gap:.2f} for the "
    "first model. With regularization the curves are closer together and validation reached "
    "{reg_val:.2f}. Digit {easy} had the best f1-score and digit {hard} the worst, since it looks like "
    "other digits. The frozen pretrained base gives features learned elsewhere, so few images are "
    "enough; next I would add augmentation.")

FEW_WORDS = "It overfits a bit, dropout helped, and the pretrained base made it work with few images."


def short(name: str) -> str:
    """A class as a student names it: 'digit_5' -> '5'."""
    return name.split("_")[-1]


def facts_values(facts: dict) -> dict:
    """The numbers a student reads off their outputs, from the graded facts."""
    classes = facts["classes"]
    easy, hard = facts["easiest"][0], facts["hardest"][-1]
    gap = facts["first_gap"]
    verdict = (f"so it overfits: the gap of {gap:.2f} shows it memorised part of the small training set"
               if gap > 0.05 else f"so it does not overfit: the gap is only {gap:.2f}")
    return {"train": facts["first_train"], "val": facts["first_val"], "gap": gap, "verdict": verdict,
            "reg_train": facts["regularized_train"], "reg_val": facts["regularized_val"],
            "reg_gap": facts["regularized_gap"], "change": "narrowed" if facts["gap_narrowed"] else "widened",
            "easy": short(easy), "hard": short(hard), "easy_f1": classes[easy]["f1-score"],
            "hard_f1": classes[hard]["f1-score"]}


def own_words(facts: dict) -> str:
    return OWN_WORDS.format(**facts_values(facts))


def their_numbers(facts: dict) -> str:
    return THEIR_NUMBERS.format(**facts_values(facts))


def near_copy(comment: str) -> str:
    """A classmate's comment with a few words changed."""
    return (comment.replace("My first model", "The first model").replace("I think that is", "Probably")
            .replace("Next I would try", "I would next try"))
