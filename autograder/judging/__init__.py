"""Everything decided outside the student's kernel: the hand-over, the judge, the saved model's
verification on the hidden split, and how their verdicts set the points.

The kernel is hostile (DESIGN section 8), so it decides nothing: before each grade cell runs, the
grader has the kernel write the names that cell reads into a capture folder (`autograder.sandbox.capture`); after the
kernel has ended, the grader copies that folder without following links (`safe_copy`), and a fresh
process rebuilds the values (`rebuild`) and runs the grade cell's own checks on them (`judge`).
Every captured file is untrusted input: plain JSON, NumPy arrays read without pickle, Keras files
loaded in safe mode."""
