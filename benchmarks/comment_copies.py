"""Measurement: how well near-copies of activity-13 comments stand apart from comments written
independently, for the similarity the grader uses (TF-IDF over words and word pairs) and for two
alternatives (character n-grams, single words).

    .venv/bin/python benchmarks/comment_copies.py

The comments are the tests' (tests/comment_samples.py) and the demo's (autograder/demo/simulated_comments.py),
plus the posted solution's example answer; copies are the same comments with a few words or all
numbers changed. Reported per analyzer: the lowest similarity of a copy, the highest of two
independent comments, and the margin between them (larger is better; the threshold sits inside it)."""
from __future__ import annotations

import itertools
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from comment_samples import ANA, BEN, GERMAN, TWENTY_WORDS, good_comment  # noqa: E402

from autograder.comments import assess, copies, publish  # noqa: E402
from autograder.course import config
from autograder.demo import simulated_comments as demo_comments  # noqa: E402


def corpus() -> tuple[dict[str, str], set]:
    """name -> text, and the pairs that are copies."""
    solution = publish.reference_texts(config.load())[assess.SOLUTION]
    texts = {"good_ana": good_comment(ANA), "own_words_ana": demo_comments.own_words(ANA),
             "their_numbers_ben": demo_comments.their_numbers(BEN), "solution": solution,
             "german": GERMAN, "short": TWENTY_WORDS}
    texts["good_ben_numbers"] = good_comment(BEN)                      # same words, every number changed
    texts["own_words_edited"] = demo_comments.near_copy(texts["own_words_ana"])
    texts["solution_edited"] = (solution.replace("The first model", "My first model")
                                .replace("Next steps:", "Next I would try"))
    pairs = {frozenset(p) for p in (("good_ana", "good_ben_numbers"), ("own_words_ana", "own_words_edited"),
                                    ("solution", "solution_edited"))}
    return texts, pairs


def separation(analyzer: str, ngrams: tuple[int, int]) -> tuple[float, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    texts, pairs = corpus()
    names = list(texts)
    matrix = cosine_similarity(TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True)
                               .fit_transform([texts[n] for n in names]))
    copy_scores, apart = [], []
    for (i, a), (j, b) in itertools.combinations(enumerate(names), 2):
        (copy_scores if frozenset((a, b)) in pairs else apart).append(matrix[i, j])
    return min(copy_scores), max(apart)


def main() -> int:
    print(f"threshold in use: {copies.NEAR_COPY}")
    print(f"{'analyzer':<28}{'lowest copy':>12}{'highest apart':>15}{'margin':>8}")
    for analyzer, ngrams in (("word", (1, 2)), ("char_wb", (3, 5)), ("word", (1, 1))):
        low, high = separation(analyzer, ngrams)
        print(f"{analyzer + ' ' + str(ngrams):<28}{low:>12.3f}{high:>15.3f}{low - high:>8.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
