"""`labkit demo`: the whole life of the assignment, with a simulated class."""
