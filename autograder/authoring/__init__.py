"""The instructor's side before grading: prepare the data and base, release the student version,
write the solutions, self-check a notebook, and compare transfer against training from scratch."""
