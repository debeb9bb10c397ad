"""nbgrader's Execute preprocessor, with its kernel started in the sandbox."""
from __future__ import annotations

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
