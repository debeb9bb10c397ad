"""The jupyter_client kernel provisioner that starts ipykernel inside bubblewrap."""
from __future__ import annotations

import os
import shutil
import signal
import tempfile
from pathlib import Path
from typing import Any

from jupyter_client.provisioning import LocalProvisioner
from traitlets import Integer, Unicode

from autograder.sandbox import cgroups, command, environment, leftovers, syscalls, uids, workdir


class SandboxProvisioner(LocalProvisioner):
    """LocalProvisioner whose kernel runs in a sandbox (see autograder.sandbox).

    The kernel talks ZMQ over unix sockets in a folder of its own (TCP inside an unshared network
    namespace cannot be reached from outside). `pid` is bubblewrap's, the root of the kernel's
    process tree, so the grader's memory watcher still sees every process of the kernel."""

    bwrap = Unicode("bwrap", help="the bubblewrap executable").tag(config=True)
    max_processes = Integer(512, help="processes and threads the kernel may have at once (TensorFlow "
                            "alone starts dozens of threads)").tag(config=True)
    memory_limit_mb = Integer(0, help="hard memory limit by cgroup where the machine allows; "
                              "0: none").tag(config=True)
    tmp_mb = Integer(1024, help="size of the kernel's private /tmp").tag(config=True)

    _folder: Path | None = None      # /tmp/lk-XXXXXXXX: s/ (sockets, bound); etc/, the filter, owner (not bound)
    _claim: uids.Claim | None = None
    _cgroup: cgroups.Cgroup | None = None
    _lent: tuple | None = None       # (working folder, owners) while the kernel's uid has it
    _scratch: str | None = None      # a working folder of our own when none was given

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """Point the connection at the socket folder, then wrap the kernel command in the sandbox."""
        try:
            return await self._prepare(**kwargs)
        except BaseException:  # e.g. an unsafe working folder: give back what was taken
            await self.cleanup()
            raise

    async def _prepare(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if self._folder is None:
            # short: a unix socket path has at most 107 bytes
            self._folder = Path(tempfile.mkdtemp(prefix="lk-", dir="/tmp"))
            (self._folder / "s").mkdir(mode=0o700)
            (self._folder / "etc").mkdir()
            leftovers.mark(self._folder)
            self._claim = uids.claim()
        sockets, uid = self._folder / "s", self._claim.uid
        km.transport, km.ip, km.cache_ports = "ipc", str(sockets / "k"), False
        km.connection_file = str(sockets / "kernel.json")
        kwargs = await super().pre_launch(**kwargs)   # writes the connection file, builds the command
        cwd = kwargs.get("cwd")
        if not cwd:  # never the grader's own current folder by default
            cwd = self._scratch = tempfile.mkdtemp(prefix="labkit-kernel-")
        cwd = workdir.check(cwd)
        as_root = os.geteuid() == 0
        if as_root:  # the kernel's uid must create its sockets and read the connection file
            for path in (sockets, *sockets.iterdir()):
                os.chown(path, uid, uid, follow_symlinks=False)
            if self._lent is None:
                self._lent = (cwd, workdir.lend(cwd, uid, uid))
        for name, text in command.etc_files(uid).items():
            (self._folder / "etc" / name).write_text(text)
        if self._cgroup is None:
            self._cgroup = cgroups.create(self.max_processes, self.memory_limit_mb)
        env = environment.kernel_env(kwargs.get("env") or {})
        layout = command.Layout(uid=uid, cwd=cwd, sockets=sockets, etc=self._folder / "etc", env=env,
                                as_root=as_root, bwrap=self.bwrap, max_processes=self.max_processes,
                                tmp_mb=self.tmp_mb, seccomp=syscalls.write(self._folder / "seccomp.bpf"),
                                cgroup_procs=self._cgroup.procs_files if self._cgroup else [])
        kwargs["cmd"] = command.build(layout, kwargs["cmd"])
        kwargs["env"], kwargs["cwd"] = env, str(cwd)   # bubblewrap itself gets no more than the kernel
        return kwargs

    async def send_signal(self, signum: int) -> None:
        """SIGKILL and SIGTERM end the sandbox; any other signal goes to the kernel inside, since
        bubblewrap would die of a SIGINT and take the kernel with it."""
        if signum in (signal.SIGKILL, signal.SIGTERM) or self.process is None:
            return await super().send_signal(signum)
        kernel = self.kernel_process()
        if kernel is not None:
            kernel.send_signal(signum)

    def kernel_process(self):
        """The kernel's process (a psutil.Process): bubblewrap's child is the sandbox's init, whose
        child is the kernel; None when it is gone."""
        import psutil

        try:
            process = psutil.Process(self.pid)
            for _ in range(2):
                children = process.children()
                if not children:
                    return None
                process = children[0]
            return process
        except psutil.Error:
            return None

    async def cleanup(self, restart: bool = False) -> None:
        """After the kernel: its cgroup, the working folder back to its owners, the socket folder."""
        await super().cleanup(restart=restart)
        if restart:
            return
        if self.process is not None and self.process.poll() is None:
            await self.kill()
            await self.wait()
        if self._cgroup is not None:
            self._cgroup.remove()   # succeeds once every process of the sandbox has ended
            self._cgroup = None
        if self._lent is not None:
            workdir.take_back(self._lent[0], self._claim.uid, self._lent[1])
            self._lent = None
        if self._claim is not None:
            self._claim.release()
            self._claim = None
        for folder in (self._folder, self._scratch):
            if folder:
                shutil.rmtree(folder, ignore_errors=True)
        self._folder = self._scratch = None
