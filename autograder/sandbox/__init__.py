"""The student's kernel: the sandbox every grading kernel starts in (bubblewrap, no network, its own
pid namespace), and the kit's code that runs inside that kernel apart from the checks (the capture
of the values a grade cell reads, and what the kit's work there leaves as it found it). They live
outside `autograder.checks` so that a notebook that rewrites every check function does not reach
the hand-over.

A grading kernel runs the student's code, which is hostile (DESIGN section 8). Started through the
kernelspec `labkit-sandbox`, its provisioner runs ipykernel under bubblewrap as an unprivileged
uid that sees only /usr, the Python installation, the kit's package and its own working folder
(the only place it can write besides a private /tmp), under a seccomp filter, a process-count
limit, a disk limit on its folder and, where the machine allows, a cgroup memory limit. One module per job:

    kernelspec   the kernelspec that names the provisioner, written where Jupyter finds it
    kernel_launcher  the kernel's entry point: ipykernel, with library_pages installed first
    provisioner  the jupyter_client provisioner that wraps the kernel command
    command      the bubblewrap command line
    environment  the kernel's environment (an allow-list)
    workdir      handing the working folder to the kernel's uid and back
    uids         one unprivileged uid per running kernel (when the grader is root)
    cgroups      process and memory limits by cgroup, where the machine allows
    syscalls     the seccomp filter: no namespaces, mounts, ptrace, bpf, keyrings ...
    leftovers    what a killed grader left (sandbox folders, cgroups), removed at the next start
    preflight    start a tiny sandbox once; refuse with the cause and the fix if it fails
    watcher      the kernel's processes, found by the run's mark, watched for memory, killed together
    disk_watcher what the kernel writes into its working folder, stopped past the disk limit
    reach        run inside a sandboxed kernel: what it can reach (for `labkit sandbox-check`)
    capture      inside the kernel: write the values a grade cell reads into a capture folder
    as_built     inside the kernel: those values by their real types, saved through Keras's own
                 functions, never through methods the notebook's objects override
    layers       every layer nested in a model, for the checks and the hand-over
    run_state    inside the kernel: what the kit's work leaves as it found it (random state, ...)
    library_pages  inside the kernel (and the judge and verifier): TensorFlow without the library
                 pages its start-up read once, released at its first import

nbgrader's Execute preprocessor that starts this kernel is `autograder.preprocessors.sandboxed_execute`;
`labkit sandbox-check` is `autograder.grading.sandbox_check`.
"""
from __future__ import annotations

KERNEL_NAME = "labkit-sandbox"        # the kernelspec grading kernels start with
PROVISIONER_NAME = "labkit-sandbox"   # its provisioner, registered in pyproject.toml
CAPTURE_FOLDER = ".labkit_capture"    # in the kernel's working folder: where `capture` writes

from autograder.sandbox.kernelspec import ensure_kernelspec  # noqa: E402
from autograder.sandbox.preflight import SandboxUnavailable, preflight  # noqa: E402

__all__ = ["CAPTURE_FOLDER", "KERNEL_NAME", "PROVISIONER_NAME", "SandboxUnavailable", "ensure_kernelspec",
           "preflight"]
