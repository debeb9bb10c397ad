"""Names inside the autograder zip and inside Gradescope's container, shared by the builder of the
zip and the grader that reads it."""

DEFAULT_ROOT = "/autograder"
ROOT_VARIABLE = "LABKIT_AUTOGRADER_ROOT"
COURSE = "course"
KIT = "kit"
PLAN_FILE = "grading_plan.json"
ASSIGNMENT_FILES = "assignment"     # under course/: what the notebook finds next to it
CACHE = "cache"                     # under course/: the hidden test split and reference base
BUNDLE_KIND = "labkit-gradescope-autograder"

# Memory on the default profile with the solution, measured (MB of resident memory at the peak:
# benchmarks/memory.py; the whole run in a cgroup of CONTAINER_MB: tests/test_gradescope.py).
CONTAINER_MB = 768                  # Gradescope's default autograder container
MEASURED_MB = {"kernel": 620, "judge": 560, "verifier": 520, "grading process": 140}
MEASURED_PROFILE = "digits"
