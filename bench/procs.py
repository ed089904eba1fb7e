"""Server processes under test: start (pinned), wait for health, stop; CPU and RSS from /proc."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import httpx

TICK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")
SERVER_CPU = 0
GENERATOR_CPU = 1


_START_CPUS = sorted(os.sched_getaffinity(0))  # before the generator pins itself


def cpus() -> list[int]:
    return list(_START_CPUS)


def can_pin() -> bool:
    return SERVER_CPU in _START_CPUS and GENERATOR_CPU in _START_CPUS


def pin_self() -> bool:
    """Pin the load generator to its CPU (if the machine has two)."""
    if not can_pin():
        return False
    os.sched_setaffinity(0, {GENERATOR_CPU})
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(c) for c in text.split())
    except OSError:
        pass
    return found


def tree(pid: int) -> list[int]:
    """The process and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(_children(p))
    return out


def pids_named(*names: str) -> list[int]:
    """Processes whose command name is one of ``names`` (PostgreSQL, Redis: read-only)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                comm = Path(f"/proc/{entry}/comm").read_text().strip()
            except OSError:
                continue
            if any(comm.startswith(n) for n in names):
                found.append(int(entry))
    return found


def pids_matching(names: tuple[str, ...], needles: tuple[str, ...]) -> list[int]:
    """Processes named one of ``names`` whose command line holds one of ``needles``."""
    found = []
    for pid in pids_named(*names):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if any(n in cmdline for n in needles):
            found.append(pid)
    return found


def cpu_by_pid(pids: Iterable[int]) -> dict[int, float]:
    """utime + stime of each of these processes that is still there (seconds)."""
    found = {}
    for pid in pids:
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        found[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (14, 15)
    return found


def cpu_seconds(pids: Iterable[int]) -> float:
    """utime + stime of these processes (seconds; a process that is gone counts 0)."""
    return sum(cpu_by_pid(pids).values())


def cpu_busy(cpu: int) -> float:
    """Seconds CPU ``cpu`` has spent busy (everything but idle and iowait) since boot."""
    for line in Path("/proc/stat").read_text().splitlines():
        if line.startswith(f"cpu{cpu} "):
            v = [int(x) for x in line.split()[1:]]
            return (sum(v[:8]) - v[3] - v[4]) / TICK
    return 0.0


def rss_bytes(pids: Iterable[int]) -> int:
    total = 0
    for pid in pids:
        try:
            total += int(Path(f"/proc/{pid}/statm").read_text().split()[1]) * PAGE
        except OSError:
            continue
    return total


CGROUP_CPU_V1 = Path("/sys/fs/cgroup/cpu")
CGROUP_V2 = Path("/sys/fs/cgroup")
# The quota is granted per period, and a node that spends it waits out the rest of the
# period: at a quarter of a CPU per 100 ms (the kernel's default period) that is a stall of
# up to 75 ms, most of the 100 ms p99 that ends a saturation step, so knees came out where
# the stalls happened to fall. Per 10 ms the stall is at most 7.5 ms, closer to a slower
# core of its own. (The kernel takes quotas down to 1 ms.)
CFS_PERIOD_US = 10_000


def cap_cpu(pid: int, share: float) -> Path:
    """Put ``pid`` (and the children it starts later) in a cgroup of its own that may use
    ``share`` of one CPU (a CFS quota; cgroup v1's cpu controller or v2's cpu.max). Answers
    the cgroup's directory, for ``uncap``. Needs a writable cgroup file system (root)."""
    quota = max(1000, int(share * CFS_PERIOD_US))
    name = f"knock-bench-{os.getpid()}-{pid}"
    if (CGROUP_CPU_V1 / "cpu.cfs_quota_us").exists():
        group = CGROUP_CPU_V1 / name
        group.mkdir()
        (group / "cpu.cfs_period_us").write_text(str(CFS_PERIOD_US))
        (group / "cpu.cfs_quota_us").write_text(str(quota))
    elif (CGROUP_V2 / "cgroup.subtree_control").exists():
        (CGROUP_V2 / "cgroup.subtree_control").write_text("+cpu")
        group = CGROUP_V2 / name
        group.mkdir()
        (group / "cpu.max").write_text(f"{quota} {CFS_PERIOD_US}")
    else:
        raise RuntimeError("no cgroup cpu controller to cap a node's CPU with")
    (group / "cgroup.procs").write_text(str(pid))
    return group


def uncap(group: Path) -> None:
    with contextlib.suppress(OSError):
        group.rmdir()  # once its processes are gone


class Server:
    """A server process on 127.0.0.1, pinned to the server CPU where possible, and with
    ``cpu_cap`` > 0 allowed only that share of one CPU (``cap_cpu``)."""

    def __init__(
        self,
        argv: list[str],
        env: dict[str, str],
        port: int,
        *,
        extra_pids: Callable[[], list[int]] | None = None,
        cpu: int = SERVER_CPU,
        cpu_cap: float = 0.0,
    ) -> None:
        self.cpu_index = cpu  # where pinning puts it (a second node goes to the other CPU)
        self.cpu_cap = cpu_cap
        self._cgroup: Path | None = None
        self.argv = argv
        self.env = env
        self.port = port
        # PostgreSQL / Redis processes that serve this run (looked up at every sample:
        # PostgreSQL starts a backend per connection).
        self.extra_pids = extra_pids or (lambda: [])
        self.process: subprocess.Popen[bytes] | None = None
        self.pinned = False
        # CPU last seen of every process counted: a PostgreSQL backend that exits (its
        # connection closed) keeps what it had, so the total never goes back.
        self._cpu_seen: dict[int, float] = {}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - kept open while it runs

    def start(self, pin: bool, timeout_s: float = 180.0) -> None:
        argv = list(self.argv)
        preexec = None
        if pin and can_pin():
            self.pinned = True
            if shutil.which("taskset"):
                argv = ["taskset", "-c", str(self.cpu_index), *argv]
            else:

                def preexec() -> None:
                    os.sched_setaffinity(0, {self.cpu_index})

        self.process = subprocess.Popen(
            argv,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._log,
            preexec_fn=preexec,
        )
        if self.cpu_cap > 0:
            self._cgroup = cap_cpu(self.process.pid, self.cpu_cap)
        deadline = time.monotonic() + timeout_s
        url = f"http://127.0.0.1:{self.port}/api/v1/health"
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_tail()}")
            try:
                if httpx.get(url, timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        tail = self.log_tail()  # before stop() closes the log
        self.stop()
        raise RuntimeError(f"server did not start in {timeout_s} s: {tail}")

    @property
    def pids(self) -> list[int]:
        assert self.process is not None
        return tree(self.process.pid) + self.extra_pids()

    def cpu(self) -> float:
        """CPU seconds of the tree and ``extra_pids``, those that exited included (up to
        their last sample)."""
        self._cpu_seen.update(cpu_by_pid(self.pids))
        return sum(self._cpu_seen.values())

    def own_cpu(self) -> float:
        """This process tree alone, without ``extra_pids``."""
        assert self.process is not None
        return cpu_seconds(tree(self.process.pid))

    def rss(self) -> int:
        return rss_bytes(self.pids)

    def own_rss(self) -> int:
        assert self.process is not None
        return rss_bytes(tree(self.process.pid))

    def log_tail(self) -> str:
        if self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-3000:]

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        if self._cgroup is not None:
            uncap(self._cgroup)
            self._cgroup = None
        self._log.close()


def python() -> str:
    return sys.executable
