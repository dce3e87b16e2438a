"""What a local Spark master URL (`local`, `local[N]`, `local[*,F]`, `local-cluster[N,C,M]`) says about task slots.

One parser for the engine, the rules, the simulator and the cost model; the forms are
the ones SparkContext accepts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_LOCAL = re.compile(r"local(?:\[\s*(\*|\d+)\s*(?:,\s*\d+\s*)?\])?")
_LOCAL_CLUSTER = re.compile(r"local-cluster\[\s*(\d+)\s*,\s*(\d+)\s*,\s*\d+\s*\]")


@dataclass(frozen=True)
class LocalMaster:
    """Executors and cores per executor of a local master; `cores` is None for `local[*]` (the machine's count)."""

    executors: int
    cores: int | None
    cluster: bool = False  # local-cluster: executors are their own JVMs; otherwise the driver runs the tasks

    @property
    def total_cores(self) -> int | None:
        return self.executors * self.cores if self.cores is not None else None


def local_master(master: str | None) -> LocalMaster | None:
    """The layout `master` names, or None when it is not a local master (yarn, k8s://, spark://, unknown)."""
    text = (master or "").strip()
    match = _LOCAL_CLUSTER.fullmatch(text)
    if match:
        return LocalMaster(executors=int(match.group(1)), cores=int(match.group(2)), cluster=True)
    match = _LOCAL.fullmatch(text)
    if not match:
        return None
    slots = match.group(1)
    if slots is None:
        return LocalMaster(executors=1, cores=1)
    return LocalMaster(executors=1, cores=None if slots == "*" else int(slots))


def task_jvm_role(master: str | None) -> str:
    """Which JVMs run the tasks: "driver" in local mode (`local`, `local[N]`), else "executor"."""
    local = local_master(master)
    return "driver" if local is not None and not local.cluster else "executor"


def heap_key(master: str | None) -> str:
    """The setting that sizes the heap tasks run in: `spark.driver.memory` in local mode, else `spark.executor.memory`."""
    return f"spark.{task_jvm_role(master)}.memory"
