"""nbgrader's Execute preprocessor, with its kernel started in the sandbox."""
from __future__ import annotations

from pathlib import Path

from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer
from traitlets.config import Config


class SandboxedExecute(Execute):
    """Execute whose kernel is `labkit-sandbox`, whatever kernel the notebook names, when `sandbox`
    is on (course_config.py SANDBOX); the plain kernel otherwise."""

    sandbox = Bool(True, help="start the kernel in the sandbox (autograder.sandbox)").tag(config=True)
    sandbox_memory_mb = Integer(0, help="hard memory limit of the sandbox by cgroup, where the machine "
                                "allows; 0: none").tag(config=True)

    def hard_memory_mb(self) -> int:
        return self.sandbox_memory_mb

    def preprocess_cell(self, cell, resources, index):
        """Run a cell in the kernel; the hidden-split check, which needs what the sandbox hides,
        is run by the grader on the model the notebook saved (autograder.judging.hidden_split)."""
        from autograder.judging import hidden_split

        if not (self.sandbox and hidden_split.needs_outside(cell)):
            return super().preprocess_cell(cell, resources, index)
        cwd = getattr(getattr(self.km, "provisioner", None), "cwd", None)
        cell.outputs = hidden_split.outputs(Path(cwd) if cwd else None)
        return cell, resources

    def create_kernel_manager(self):
        if not self.sandbox:
            return super().create_kernel_manager()
        from autograder.sandbox import KERNEL_NAME, ensure_kernelspec, preflight

        settings = self.config.get("SandboxProvisioner", {})
        preflight(settings.get("bwrap", "bwrap"))   # the cause and the fix, rather than a dead kernel
        ensure_kernelspec()
        self.kernel_name = KERNEL_NAME   # the notebook's metadata must not choose the kernel
        km = super().create_kernel_manager()
        # the provisioner takes its settings from the kernel manager's config
        km.update_config(Config({"SandboxProvisioner": {"memory_limit_mb": self.hard_memory_mb()}}))
        return km
