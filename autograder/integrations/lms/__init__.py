"""The LMS: grades from grades.csv into the files Canvas and Moodle import (export.py), or straight into
the LMS gradebook over LTI 1.3 Assignment and Grade Services (passback.py, on lti.py and users.py)."""
