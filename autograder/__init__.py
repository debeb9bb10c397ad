"""Auto-graded course kit for the lab "Transfer learning with a CNN"."""
__version__ = "0.1.0"
