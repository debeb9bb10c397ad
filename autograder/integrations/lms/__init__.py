"""The LMS: grades from grades.csv into the files Canvas and Moodle import, matched to their roster."""
