"""The checks that the notebook's grade cells call: one function per property.

Each returns a `CheckResult` and prints one "Activity N: ... ok" line to stdout, or raises
`CheckFailed` (an AssertionError) whose message names the activity, the expected, the found and
a hint. Settings come from lab_settings.json in the current folder."""
from autograder.checks.result import CheckFailed, CheckResult  # noqa: I001  (result first: no cycles)
from autograder.checks.data import dataset_loaded, imports
from autograder.checks.figures import architecture_diagram, curves_figure, sample_figure
from autograder.checks.handin import hidden_accuracy, saved_model
from autograder.checks.models import base_pretrained, base_unchanged, regularized, transfer_model
from autograder.checks.report import classification_report_matches
from autograder.checks.training import accuracies, compiled_and_fitted, regularized_fitted

__all__ = [
    "CheckFailed", "CheckResult",
    "imports", "dataset_loaded", "sample_figure", "base_pretrained", "transfer_model", "base_unchanged",
    "architecture_diagram", "compiled_and_fitted", "accuracies", "regularized", "regularized_fitted",
    "curves_figure", "classification_report_matches", "saved_model", "hidden_accuracy",
]
