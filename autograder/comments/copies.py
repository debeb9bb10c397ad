"""Near-copies: a comment much like a classmate's, the posted solution's example answer or the
activity's own text. TF-IDF over words and word pairs (scikit-learn) with cosine similarity: a copy
with a few words or numbers changed stays close, while two comments written apart on the same
questions share the topic's words but few of their pairs. benchmarks/comment_copies.py measures
this against character n-grams and single words: word pairs leave the widest margin between the
least similar copy (0.86) and the most similar comments written apart (0.44)."""
from __future__ import annotations

from dataclasses import dataclass

NEAR_COPY = 0.7     # cosine similarity at or above which two comments count as near-copies
MIN_WORDS = 15      # shorter comments are too short to call copies


@dataclass(frozen=True)
class Copy:
    other: str          # a student id, or one of the reference names
    similarity: float


def similarities(comments: dict[str, str], references: dict[str, str]) -> dict[str, list[Copy]]:
    """student -> the classmates and references whose text is a near-copy of theirs, most similar
    first. `references`: name -> text (the posted solution, the activity's text)."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.metrics.pairwise import cosine_similarity

    from autograder.comments.text import word_count

    students = sorted(s for s, t in comments.items() if word_count(t) >= MIN_WORDS)
    names = [*students, *sorted(r for r, t in references.items() if t.strip())]
    texts = [comments[s] if s in comments else references[s] for s in names]
    if len(names) < 2:
        return {}
    vectors = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), sublinear_tf=True).fit_transform(texts)
    matrix = cosine_similarity(vectors)
    found: dict[str, list[Copy]] = {}
    for i, student in enumerate(students):
        close = [Copy(names[j], round(float(matrix[i, j]), 3)) for j in range(len(names))
                 if j != i and matrix[i, j] >= NEAR_COPY]
        if close:
            found[student] = sorted(close, key=lambda c: (-c.similarity, c.other))
    return found
