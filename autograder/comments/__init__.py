"""Activity 13 (the written comment): a pre-assessment for the grader, never a grade.

facts    each student's numbers, from the artifacts judged outside the kernel (fresh process)
text     the comment as submitted: words, quoted numbers, class names, language
rubric   the lab's four questions: their vocabulary and points
compare  quoted numbers and class claims against the student's facts (and classmates')
copies   near-copies of a classmate's comment, the posted solution or the activity text
assess   one student's suggested score, checklist and reasons to read it carefully
publish  the values of grades.csv's activity-13 columns and the comment on the grade in the gradebook
listing  `labkit comments`: the class sorted by the suggestion, facts beside the text
"""
