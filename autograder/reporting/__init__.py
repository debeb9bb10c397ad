"""What a graded class leaves for people to read: grades.csv, the class table, the grade picture
and every student's feedback page."""
