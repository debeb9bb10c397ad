"""The seccomp filter a grading kernel runs under: system calls that would let it out of the sandbox,
or at the machine, fail with EPERM; everything else is allowed.

Built with libseccomp (through pyseccomp, its bindings over the system's libseccomp.so.2) and
handed to bubblewrap (`--seccomp FD`) as a compiled program. The list follows what container
runtimes and Flatpak refuse: new namespaces (so no user namespace in which the kernel would be root
again), mounts, tracing other processes, kernel modules and keyrings, BPF, and the terminal
injection ioctl. System calls of another architecture (32-bit calls from a 64-bit process) are
killed by libseccomp's default, so the list cannot be side-stepped that way."""
from __future__ import annotations

import errno
import functools
from pathlib import Path

# every CLONE_NEW* flag: clone and unshare with any of them make a namespace
NAMESPACE_FLAGS = {"CLONE_NEWNS": 0x00020000, "CLONE_NEWCGROUP": 0x02000000, "CLONE_NEWUTS": 0x04000000,
                   "CLONE_NEWIPC": 0x08000000, "CLONE_NEWUSER": 0x10000000, "CLONE_NEWPID": 0x20000000,
                   "CLONE_NEWNET": 0x40000000, "CLONE_NEWTIME": 0x00000080}
REFUSED = (
    "setns", "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig",
    "fsmount", "fspick", "mount_setattr",                                   # namespaces and mounts
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",  # other processes' memory
    "bpf", "perf_event_open", "userfaultfd",                                # kernel attack surface
    "keyctl", "add_key", "request_key",                                     # kernel keyrings
    "init_module", "finit_module", "delete_module", "kexec_load", "kexec_file_load", "reboot",
    "swapon", "swapoff", "acct", "quotactl", "syslog", "ioperm", "iopl", "vhangup",
    "open_by_handle_at", "name_to_handle_at", "lookup_dcookie", "nfsservctl", "uselib",
    "personality",
)
TIOCSTI = 0x5412   # pushes characters into a terminal's input


class FilterUnavailable(RuntimeError):
    """libseccomp or its bindings are missing: no filter can be built."""


@functools.lru_cache(maxsize=1)
def program() -> bytes:
    """The compiled filter (BPF), built once per process."""
    import tempfile

    try:
        import pyseccomp as seccomp
    except (ImportError, OSError) as error:   # OSError: the bindings found no libseccomp.so.2
        raise FilterUnavailable(f"the seccomp filter needs libseccomp ({error}); install the Debian/Ubuntu "
                                "package libseccomp2 and the Python package pyseccomp") from None
    refused = seccomp.ERRNO(errno.EPERM)
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    for name in REFUSED:
        try:
            rules.add_rule(refused, name)
        except (ValueError, RuntimeError):   # unknown to this libseccomp (older than the call): skip
            continue
    for call in ("clone", "unshare"):
        argument = 0   # unshare(flags); clone(flags, ...) on x86-64
        for flag in NAMESPACE_FLAGS.values():
            rules.add_rule(refused, call, seccomp.Arg(argument, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes its flags in memory a filter cannot read: ENOSYS makes the C library use clone
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "clone3")
    rules.add_rule(refused, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, 0xFFFFFFFF, TIOCSTI))
    with tempfile.TemporaryFile() as handle:
        rules.export_bpf(handle)
        handle.seek(0)
        return handle.read()


def write(path: Path) -> Path:
    """The filter into `path` (a folder of the grader's, never bound into the sandbox)."""
    path.write_bytes(program())
    return path


def describe() -> str:
    """In words, for `labkit sandbox-check`."""
    return (f"{len(REFUSED) + 3} kinds of system call refused: new namespaces (user, mount, pid, net...), "
            "mount, ptrace, bpf, keyctl, kernel modules, perf, userfaultfd, terminal injection")
