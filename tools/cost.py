"""What an application cost, how much of it paid for idle executors, and what each finding saves in money.

Cost follows the executor timeline of an `AppProfile`: every executor is charged for
its cores and memory from the time it was added until it was removed (or the
application ended); the driver for the whole application. Prices come from
`tools/pricing.toml`, a user TOML file merged over it, and explicit overrides.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import BaseModel, Field, ValidationError

from tools.errors import ConfigurationError
from tools.eventlog.master import local_master
from tools.eventlog.model import AppProfile, ExecutorProfile
from tools.eventlog.slots import peak_executors
from tools.findings import Finding
from tools.units import parse_size

DEFAULT_PRICING_FILE = Path(__file__).with_name("pricing.toml")
MS_PER_HOUR = 3_600_000
MIB_PER_GB = 1024
DEFAULT_MEMORY_MIB = 1024  # spark.executor.memory / spark.driver.memory default
MIN_OVERHEAD_MIB = 384
OVERHEAD_FACTOR = 0.10


class InstanceType(BaseModel):
    cores: int = Field(gt=0)
    memory_gb: float = Field(gt=0)
    price_per_hour: float = Field(ge=0)
    dbu_per_hour: float = Field(default=0.0, ge=0)


class Pricing(BaseModel):
    """Prices in one currency: per core-hour and GB-hour, or an instance type (with optional DBUs)."""

    currency: str = "USD"
    price_per_core_hour: float = Field(default=0.0, ge=0)
    price_per_gb_hour: float = Field(default=0.0, ge=0)
    price_per_dbu: float = Field(default=0.0, ge=0)
    instance_type: str | None = None
    instances: dict[str, InstanceType] = Field(default_factory=dict)
    sources: list[str] = Field(default_factory=list)  # files the prices came from

    def rates(self) -> tuple[float, float]:
        """(price per core-hour, price per GB-hour) after resolving the instance type."""
        if self.instance_type is None:
            return self.price_per_core_hour, self.price_per_gb_hour
        instance = self.instances[self.instance_type]
        hourly = instance.price_per_hour + instance.dbu_per_hour * self.price_per_dbu
        return hourly / instance.cores, 0.0

    def describe(self) -> str:
        core, gb = self.rates()
        if self.instance_type:
            return f"{self.instance_type}: {core:.4f} {self.currency} per core-hour (memory and DBUs included)"
        return f"{core:.4f} {self.currency} per core-hour + {gb:.4f} {self.currency} per GB-hour"


def load_pricing(
    file: Path | None = None,
    instance_type: str | None = None,
    overrides: dict[str, float | str | None] | None = None,
) -> Pricing:
    """The default prices, with the user's TOML file merged over them, then explicit overrides."""
    data = _read_toml(DEFAULT_PRICING_FILE)
    sources = [str(DEFAULT_PRICING_FILE)]
    if file is not None:
        user = _read_toml(Path(file).expanduser())
        instances = {**data.get("instances", {}), **user.pop("instances", {})}
        data = {**data, **user, "instances": instances}
        sources.append(str(file))
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    if instance_type is not None:
        data["instance_type"] = instance_type
    try:
        pricing = Pricing(**data, sources=sources)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ConfigurationError(f"bad pricing: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}") from exc
    if pricing.instance_type is not None and pricing.instance_type not in pricing.instances:
        known = ", ".join(sorted(pricing.instances)) or "none"
        raise ConfigurationError(f"unknown instance type {pricing.instance_type!r} (known: {known}; add it under [instances] in your pricing file)")
    return pricing


class PricingSettings(BaseModel):
    """The `pricing` settings section: a TOML file merged over tools/pricing.toml, an instance type, overrides."""

    file: Path | None = None
    instance_type: str | None = None
    currency: str | None = None
    price_per_core_hour: float | None = None
    price_per_gb_hour: float | None = None
    price_per_dbu: float | None = None


def pricing_from_settings(
    section: PricingSettings | None, file: Path | None = None, instance_type: str | None = None
) -> Pricing:
    """Prices from a `pricing` settings section (defaults when None); `file` and `instance_type` (CLI options) win over it."""
    section = section or PricingSettings()
    overrides = section.model_dump(include={"currency", "price_per_core_hour", "price_per_gb_hour", "price_per_dbu"})
    return load_pricing(file=file or section.file, instance_type=instance_type or section.instance_type, overrides=overrides)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise ConfigurationError(f"pricing file not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigurationError(f"pricing file {path} is not valid TOML: {exc}") from exc


class ExecutorCost(BaseModel):
    executor_id: str
    cores: int
    memory_gb: float  # heap + overhead
    lifetime_ms: float
    allocated_core_hours: float
    used_core_hours: float
    allocated_gb_hours: float
    cost: float
    idle_cost: float


class AppCost(BaseModel):
    """The money an application spent, split into executors / driver and used / idle."""

    app_id: str
    currency: str
    pricing: str  # one-line description of the rates used
    duration_ms: float
    executor_count: int
    peak_executors: int = 0  # most alive at once
    allocated_core_hours: float
    used_core_hours: float
    idle_core_hours: float
    utilization: float | None  # used / allocated executor core time
    allocated_gb_hours: float
    driver_core_hours: float
    driver_gb_hours: float
    executor_cost: float
    driver_cost: float
    total_cost: float
    idle_cost: float  # the part of executor_cost paid for cores and memory no task used
    executors: list[ExecutorCost] = Field(default_factory=list)
    assumptions: list[str] = Field(default_factory=list)


def memory_mib(value: str | None, default_mib: int = DEFAULT_MEMORY_MIB) -> float:
    """A JVM memory string (`4g`, `512m`, `1024` = MiB, `2t`) in MiB."""
    size = parse_size(value, default_unit="m")
    return float(default_mib) if size is None else size / 1024**2


def container_memory_gb(profile: AppProfile, role: str, heap_mib: float | None = None) -> float:
    """Heap plus overhead (and PySpark / off-heap memory when set) of one executor or the driver, in GB;
    `heap_mib` replaces the configured heap (the overhead follows it unless set explicitly)."""
    heap = memory_mib(profile.property(f"spark.{role}.memory")) if heap_mib is None else heap_mib
    overhead_text = profile.property(f"spark.{role}.memoryOverhead")
    factor = float(profile.property(f"spark.{role}.memoryOverheadFactor", str(OVERHEAD_FACTOR)) or OVERHEAD_FACTOR)
    overhead = memory_mib(overhead_text) if overhead_text else max(MIN_OVERHEAD_MIB, heap * factor)
    extra = memory_mib(profile.property("spark.executor.pyspark.memory"), 0) if role == "executor" else 0.0
    if role == "executor" and (profile.property("spark.memory.offHeap.enabled") or "").lower() == "true":
        extra += memory_mib(profile.property("spark.memory.offHeap.size"), 0)
    return (heap + overhead + extra) / MIB_PER_GB


def _app_bounds(profile: AppProfile) -> tuple[float, float]:
    start = profile.start_time_ms
    end = profile.end_time_ms
    times = [t for e in profile.executors for t in (e.added_time_ms, e.removed_time_ms) if t is not None]
    if start is None:
        start = min(times) if times else 0
    if end is None:
        end = max(times + [start + (profile.duration_ms or 0)])
    return float(start), float(end)


def _executor_lifetime_ms(executor: ExecutorProfile, start: float, end: float) -> float:
    added = executor.added_time_ms if executor.added_time_ms is not None else start
    removed = executor.removed_time_ms if executor.removed_time_ms is not None else end
    return max(0.0, float(removed) - float(added))


def memory_freed_gb_ms(profile: AppProfile, heap_mib: float) -> float:
    """Executor container memory (GB-ms) a run would not have held with `heap_mib` of heap per executor."""
    freed_gb = container_memory_gb(profile, "executor") - container_memory_gb(profile, "executor", heap_mib)
    start, end = _app_bounds(profile)
    held_ms = sum(_executor_lifetime_ms(e, start, end) for e in profile.executors if e.executor_id != "driver")
    return max(0.0, freed_gb) * held_ms


def app_cost(profile: AppProfile, pricing: Pricing, include_driver: bool = True) -> AppCost:
    """Cost of `profile` under `pricing`, from its executor timeline."""
    core_price, gb_price = pricing.rates()
    start, end = _app_bounds(profile)
    duration = max(0.0, end - start)
    assumptions: list[str] = []
    default_cores = int(profile.property("spark.executor.cores") or 0) or None
    executor_gb = container_memory_gb(profile, "executor")
    executors = list(profile.executors)
    local = local_master(profile.master)
    local_cores = local.total_cores if local is not None else None
    if not executors and local_cores is not None:
        # local mode: the driver JVM runs the tasks; charge it as one executor with the local[N] cores
        executors = [ExecutorProfile(executor_id="driver", cores=local_cores, added_time_ms=int(start), removed_time_ms=int(end), task_time_ms=(profile.used_core_ms or 0.0) / profile.task_cpus)]
        assumptions.append(f"local mode ({profile.master}): the driver ran the tasks and is charged as one executor with {local_cores} cores")
    if any(e.executor_id == "driver" for e in executors):
        include_driver = False  # local mode: the driver is listed as the executor that ran the tasks
    rows: list[ExecutorCost] = []
    for executor in executors:
        memory_gb = container_memory_gb(profile, "driver") if executor.executor_id == "driver" else executor_gb
        cores = executor.cores or default_cores or 1
        if not executor.cores and not default_cores:
            assumptions.append(f"executor {executor.executor_id}: core count unknown, 1 assumed")
        lifetime = _executor_lifetime_ms(executor, start, end)
        allocated_core_h = cores * lifetime / MS_PER_HOUR
        held_core_h = executor.task_time_ms * profile.task_cpus / MS_PER_HOUR  # cores its tasks held, launch to finish
        used_core_h = min(held_core_h, allocated_core_h) if allocated_core_h else held_core_h
        gb_h = memory_gb * lifetime / MS_PER_HOUR
        cost = allocated_core_h * core_price + gb_h * gb_price
        idle_fraction = 1 - used_core_h / allocated_core_h if allocated_core_h else 0.0
        rows.append(
            ExecutorCost(
                executor_id=executor.executor_id,
                cores=cores,
                memory_gb=round(memory_gb, 3),
                lifetime_ms=lifetime,
                allocated_core_hours=allocated_core_h,
                used_core_hours=used_core_h,
                allocated_gb_hours=gb_h,
                cost=cost,
                idle_cost=cost * idle_fraction,
            )
        )
    driver_cores = int(profile.property("spark.driver.cores") or 1) if include_driver else 0
    driver_core_h = driver_cores * duration / MS_PER_HOUR
    driver_gb_h = container_memory_gb(profile, "driver") * duration / MS_PER_HOUR if include_driver else 0.0
    driver_cost = driver_core_h * core_price + driver_gb_h * gb_price
    allocated = sum(r.allocated_core_hours for r in rows)
    used = sum(r.used_core_hours for r in rows)
    executor_cost = sum(r.cost for r in rows)
    if profile.spark_properties.get("spark.executor.memory") is None:
        assumptions.append("spark.executor.memory not set: Spark's default 1g assumed")
    return AppCost(
        app_id=profile.app_id,
        currency=pricing.currency,
        pricing=pricing.describe(),
        duration_ms=duration,
        executor_count=len(rows),
        peak_executors=peak_executors(executors),
        allocated_core_hours=allocated,
        used_core_hours=used,
        idle_core_hours=max(0.0, allocated - used),
        utilization=used / allocated if allocated else None,
        allocated_gb_hours=sum(r.allocated_gb_hours for r in rows),
        driver_core_hours=driver_core_h,
        driver_gb_hours=driver_gb_h,
        executor_cost=executor_cost,
        driver_cost=driver_cost,
        total_cost=executor_cost + driver_cost,
        idle_cost=sum(r.idle_cost for r in rows),
        executors=rows,
        assumptions=sorted(set(assumptions)),
    )


def changed_cost(observed: AppCost, pricing: Pricing, runtime_ratio: float, executors_ratio: float = 1.0,
                 cores_ratio: float = 1.0, memory_ratio: float = 1.0) -> float:
    """What the observed run would cost taking `runtime_ratio` x as long on `executors_ratio` x the executors,
    each with `cores_ratio` x the cores and `memory_ratio` x the container memory (every executor and the
    driver held `runtime_ratio` x as long). With all ratios 1 it is the observed cost."""
    core_price, gb_price = pricing.rates()
    executors = sum(r.allocated_core_hours * core_price * cores_ratio + r.allocated_gb_hours * gb_price * memory_ratio
                    for r in observed.executors)
    return runtime_ratio * (observed.driver_cost + executors_ratio * executors)


def price_per_core_ms(profile: AppProfile, pricing: Pricing) -> float:
    """Money per executor core-millisecond, memory included (the executor's GB per core)."""
    core_price, gb_price = pricing.rates()
    cores = int(profile.property("spark.executor.cores") or 0) or None
    if cores is None:
        known = [e.cores for e in profile.executors if e.cores]
        local = local_master(profile.master)
        cores = known[0] if known else ((local.cores if local is not None else None) or 1)
    role = "executor" if any(e.executor_id != "driver" for e in profile.executors) else "driver"
    gb_per_core = container_memory_gb(profile, role) / cores
    return (core_price + gb_per_core * gb_price) / MS_PER_HOUR


def price_findings(findings: list[Finding], profile: AppProfile, pricing: Pricing) -> list[Finding]:
    """Copies of `findings` with `estimated_savings.cost` and `currency` filled from their core-time and memory
    savings (cost stays None for a finding that estimated neither, or only memory under an instance price,
    where memory is part of the instance)."""
    rate = price_per_core_ms(profile, pricing)
    gb_rate = pricing.rates()[1] / MS_PER_HOUR
    priced = []
    for finding in findings:
        s = finding.estimated_savings
        money = max(0.0, s.core_ms) * rate + max(0.0, s.memory_gb_ms) * gb_rate
        savings = s.model_copy(update={"cost": money if money > 0 else None, "currency": pricing.currency})
        priced.append(finding.model_copy(update={"estimated_savings": savings}))
    return priced


class CostReport(BaseModel):
    """An application's cost and its findings with their savings in money, largest first."""

    cost: AppCost
    findings: list[Finding] = Field(default_factory=list)


def cost_report(profile: AppProfile, pricing: Pricing, findings: list[Finding] | None = None) -> CostReport:
    """`app_cost` plus `price_findings`, findings ordered by money saved."""
    priced = sorted(price_findings(findings or [], profile, pricing), key=lambda f: f.estimated_savings.cost or 0.0, reverse=True)
    return CostReport(cost=app_cost(profile, pricing), findings=priced)
