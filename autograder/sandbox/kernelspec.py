"""The `labkit-sandbox` kernelspec, written under sys.prefix so that Jupyter finds it."""
from __future__ import annotations

import json
import sys
from pathlib import Path

from autograder.course.files import write_text_atomic


def spec() -> dict:
    """kernel.json: this Python's ipykernel (through the kit's launcher), started by the sandbox provisioner."""
    from autograder.sandbox import KERNEL_NAME, PROVISIONER_NAME

    return {
        # ipykernel, releasing TensorFlow's start-up pages (autograder.sandbox.library_pages); no
        # history database: a grading kernel never needs one, and HOME is a throw-away /tmp
        "argv": [sys.executable, "-m", "autograder.sandbox.kernel_launcher", "-f", "{connection_file}",
                 "--HistoryManager.hist_file=:memory:"],
        "display_name": f"Python 3 ({KERNEL_NAME})",
        "language": "python",
        # a SIGINT to the launcher would reach bubblewrap, not the kernel: interrupt by message
        "interrupt_mode": "message",
        "metadata": {"debugger": False, "kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}},
    }


def folder(user: bool = False) -> Path:
    """sys.prefix/share/jupyter/kernels/<name>, on Jupyter's path first in a virtualenv; with
    `user`, the same under the user's Jupyter data folder (when sys.prefix is not writable)."""
    from jupyter_core.paths import jupyter_data_dir

    from autograder.sandbox import KERNEL_NAME

    base = Path(jupyter_data_dir()) if user else Path(sys.prefix) / "share" / "jupyter"
    return base / "kernels" / KERNEL_NAME


def ensure_kernelspec() -> Path:
    """Write the kernelspec if it is missing or differs; return its folder. Idempotent.

    KernelSpecManager.install_kernel_spec always deletes and copies the folder, which a kernel
    starting at the same moment in another worker could find half-written; an atomic replace of
    one file, only when it changes, cannot be seen half-done."""
    from jupyter_client.kernelspec import KernelSpecManager

    from autograder.sandbox import KERNEL_NAME

    text = json.dumps(spec(), indent=1) + "\n"
    try:
        target = _write(folder(), text)
    except OSError:   # a system-wide installation: the user's own Jupyter folder
        target = _write(folder(user=True), text)
    found = KernelSpecManager().find_kernel_specs().get(KERNEL_NAME)
    if found and Path(found).resolve() != target.resolve() and (Path(found) / "kernel.json").read_text() != text:
        raise RuntimeError(f"Jupyter finds another {KERNEL_NAME} kernelspec first, in {found}; remove it "
                           f"(this one is {target})")
    return target


def _write(target: Path, text: str) -> Path:
    path = target / "kernel.json"
    try:
        if path.read_text() == text:
            return target
    except OSError:
        pass
    write_text_atomic(path, text)
    return target
