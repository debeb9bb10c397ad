"""The ground every room stands on: settings from course_config.py, the notebook's vocabulary
(activities, grade ids), the grading plan, result records, file helpers and seeding. Imports
nothing else of the kit."""
