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
