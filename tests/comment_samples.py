"""Comments and facts that the activity-13 tests write: two students with different results, and
comments of each kind an instructor meets in a class of 200."""
from __future__ import annotations


def class_scores(f1: dict) -> dict:
    return {name: {"precision": value, "recall": value, "f1-score": value, "support": 50.0}
            for name, value in f1.items()}


def student_facts(first, regularized, last, best, f1, hidden) -> dict:
    facts = {"class_names": sorted(f1), "classes": class_scores(f1), "hidden_accuracy": hidden,
             "first_train": first[0], "first_val": first[1], "first_gap": first[0] - first[1],
             "first_last_train": first[0] + 0.004, "first_last_val": first[1] - 0.004,
             "regularized_train": regularized[0], "regularized_val": regularized[1],
             "regularized_gap": regularized[0] - regularized[1],
             "regularized_last_train": last[0], "regularized_last_val": last[1],
             "regularized_last_gap": last[0] - last[1], "regularized_best_train": best[0],
             "regularized_best_val": best[1], "regularized_best_epoch": 12, "regularized_epochs": 15,
             "report_accuracy": regularized[1], "val_images": 250, "missing": {}}
    from autograder.comments.facts import derived, ranked

    return {**facts, **ranked(facts["classes"]), **derived(facts)}


# Two students of one class: their results differ by more than any tolerance.
ANA = student_facts(first=(0.984, 0.812), regularized=(0.952, 0.864), last=(0.912, 0.86), best=(0.92, 0.88),
                    f1={"5": 0.84, "6": 0.95, "7": 0.9, "8": 0.71, "9": 0.86}, hidden=0.853)
BEN = student_facts(first=(0.932, 0.7), regularized=(0.9, 0.78), last=(0.87, 0.77), best=(0.88, 0.79),
                    f1={"5": 0.8, "6": 0.74, "7": 0.92, "8": 0.77, "9": 0.62}, hidden=0.79)

GOOD = ("The first model reached a training accuracy of {t1} but a validation accuracy of only {v1}, a gap of "
        "{g1}, so it overfits: the head memorises the few training images. After adding dropout and an L2 "
        "penalty the regularized model reached {t2} on the training images and {v2} on validation; in the "
        "curves of activity 11 the validation loss stays close to the training loss and the gap narrowed to "
        "about {g2}. The classification report shows digit {easy} as the easiest class with an f1-score of "
        "{fe}, while {hard} is the hardest with {fh}, probably because that digit shares loops and strokes "
        "with other digits when it is written quickly. The frozen pretrained base already extracts useful "
        "stroke features learned from many digit images, so only the small head has to be trained from "
        "few images. Next I would try fine-tuning the top of the base with a small learning rate and more "
        "augmentation, and collecting more training images of the hardest digit.")


def good_comment(facts: dict) -> str:
    """A comment in the asked length that quotes `facts` rounded to two decimals."""
    easy, hard = facts["easiest"][0], facts["hardest"][0]
    return GOOD.format(t1=f"{facts['first_train']:.2f}", v1=f"{facts['first_val']:.2f}",
                       g1=f"{facts['first_gap']:.2f}", t2=f"{facts['regularized_train']:.2f}",
                       v2=f"{facts['regularized_val']:.2f}", g2=f"{facts['regularized_gap']:.2f}",
                       easy=easy, hard=hard, fe=f"{facts['classes'][easy]['f1-score']:.2f}",
                       fh=f"{facts['classes'][hard]['f1-score']:.2f}")


GERMAN = ("Das erste Modell erreicht auf den Trainingsbildern eine Genauigkeit von 0,98, auf den "
          "Validierungsbildern nur 0,81: eine Lücke von 0,17, also Überanpassung. Mit Dropout und einer "
          "L2-Strafe erreicht das regularisierte Modell 0,95 und 0,86; in den Kurven von Aktivität 11 bleibt "
          "der Validierungsverlust nahe am Trainingsverlust und die Lücke wird kleiner. Laut Bericht ist die "
          "Sechs am leichtesten und die Acht am schwersten, weil sie Schleifen mit anderen Ziffern teilt. Die "
          "eingefrorene, vortrainierte Basis liefert schon brauchbare Merkmale, deshalb genügen wenige "
          "Bilder. Als Nächstes würde ich das Feintuning der oberen Schichten mit kleiner Lernrate versuchen "
          "und mehr Bilder sammeln, besonders von den schwierigen Ziffern, damit das Modell besser lernt.")

TWENTY_WORDS = ("It overfits since training beats validation; dropout helped, digit 8 was hardest, and "
                "pretrained features made few images enough.")

FILLER = ("This lab was long and I spent an evening on it with my friends from the course, and we "
          "talked about many things that came up while the notebook was running on the laptop. ")


def very_long(facts: dict, words: int = 2000) -> str:
    """The good comment followed by filler until it reaches about `words` words."""
    text = good_comment(facts)
    while len(text.split()) < words:
        text += " " + FILLER
    return text
