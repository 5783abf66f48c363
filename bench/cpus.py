"""How the load generator and the server share the machine's cores.

wrk runs one thread pinned to the last core; the server, gunicorn's master
and its workers, may use every core, that last one included. On the two-core
machine the benchmark was written for, that gives the server one core to
itself and the rest of the second once wrk has taken what it needs, and it
keeps wrk from migrating between cores in the middle of a run. The floor and
the SCIM server are pinned the same way, so the ratios between them compare
like with like.
"""

from __future__ import annotations

import dataclasses
import os
import shutil


@dataclasses.dataclass(frozen=True)
class Pinning:
    """The cores given to the server and to the load generator."""

    server: tuple[int, ...]
    load: tuple[int, ...]
    taskset: str | None

    @classmethod
    def detect(cls) -> Pinning:
        cores = tuple(sorted(os.sched_getaffinity(0)))
        taskset = shutil.which("taskset")
        if len(cores) < 2 or taskset is None:
            # With one core there is nothing to share out, and without
            # taskset the scheduler decides; the run still works.
            return cls(server=cores, load=cores, taskset=None)
        return cls(server=cores, load=cores[-1:], taskset=taskset)

    def server_prefix(self) -> list[str]:
        return self._prefix(self.server)

    def load_prefix(self) -> list[str]:
        return self._prefix(self.load)

    def describe(self) -> str:
        if self.taskset is None:
            return "not pinned (taskset missing or a single core)"
        return (
            f"load generator on CPU {_cpu_list(self.load)}, "
            f"servers on CPUs {_cpu_list(self.server)}"
        )

    def _prefix(self, cores: tuple[int, ...]) -> list[str]:
        if self.taskset is None:
            return []
        return [self.taskset, "--cpu-list", _cpu_list(cores)]


def _cpu_list(cores: tuple[int, ...]) -> str:
    return ",".join(str(core) for core in cores)
