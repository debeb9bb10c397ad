"""Gradescope: build the autograder zip, and grade one submission inside Gradescope's container.

    labkit gradescope-bundle [--out autograder.zip]     (on the grader's machine)
    python -m autograder.integrations.gradescope run [--root DIR]    (what the zip's run_autograder calls)

The zip holds setup.sh, run_autograder, the kit's source (kit/), the course (course/: a
course_config.py that points at the bundled cache, the grading plan, the assignment's files that sit
next to the notebook, and the cache with the hidden test split and the pretrained reference base) and
manifest.json. `run` grades /autograder/submission/*.ipynb with the pytest entry point
(autograder.integrations.pytest) and writes /autograder/results/results.json in Gradescope's format: one
test per grade cell, its points, the check's message; hidden checks are shown after grades are
published. $LABKIT_AUTOGRADER_ROOT replaces /autograder (tests, local trials).

One module per job: layout (the names inside the zip), scripts (setup.sh and run_autograder),
bundle (the zip), results (results.json), container (grading inside the container and its command
line)."""
from autograder.integrations.gradescope.bundle import (
                                                          BundleError,
                                                          build_bundle,
                                                          bundle_files,
                                                          bundled_config,
)
from autograder.integrations.gradescope.container import (
                                                          autograder_root,
                                                          find_submission,
                                                          main,
                                                          run,
                                                          run_pytest,
                                                          work_folder,
)
from autograder.integrations.gradescope.layout import (
                                                          ASSIGNMENT_FILES,
                                                          BUNDLE_KIND,
                                                          CACHE,
                                                          COURSE,
                                                          DEFAULT_ROOT,
                                                          KIT,
                                                          PLAN_FILE,
                                                          ROOT_VARIABLE,
)
from autograder.integrations.gradescope.results import (
                                                          AFTER_PUBLISHED,
                                                          VISIBILITIES,
                                                          VISIBLE,
                                                          failed_results,
                                                          results_json,
                                                          write_results,
)
from autograder.integrations.gradescope.scripts import RUN_AUTOGRADER, SETUP_SH

__all__ = ["ASSIGNMENT_FILES", "AFTER_PUBLISHED", "BUNDLE_KIND", "BundleError", "CACHE", "COURSE", "DEFAULT_ROOT",
           "KIT", "PLAN_FILE", "ROOT_VARIABLE", "RUN_AUTOGRADER", "SETUP_SH", "VISIBILITIES", "VISIBLE",
           "autograder_root", "build_bundle", "bundle_files", "bundled_config", "failed_results",
           "find_submission", "main", "results_json", "run", "run_pytest", "work_folder", "write_results"]
