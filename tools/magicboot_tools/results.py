"""What a plugin run and a benchmark produce, as dataclasses. as_json()
gives the JSON the tools print and keep (fields left None are omitted, the
rest in the order declared here)."""
import dataclasses
from dataclasses import dataclass, field
from typing import Any


def _json(value: Any) -> Any:
    if dataclasses.is_dataclass(value):
        return {f.name: _json(getattr(value, f.name)) for f in dataclasses.fields(value)
                if getattr(value, f.name) is not None}
    if isinstance(value, dict):
        return {k: _json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json(v) for v in value]
    return value


class JsonMixin:
    def as_json(self) -> dict:
        return _json(self)


@dataclass
class PluginResult(JsonMixin):
    """One run of tools/qemu/icount-plugin.c or profile-plugin.c (their
    out= file): guest instructions from reset to the kernel's first one."""
    stop_pc: int                 # the kernel's first instruction
    total: int                   # instructions from reset
    started: bool                # magicboot's entry (start=) ran
    at_start: int                # instructions before it
    in_range: int | None = None  # icount: instructions inside range= (the domU's RAM)
    cntvct: list[int] = field(default_factory=list)  # the count at each CNTVCT_EL0 read
    hist: list[list[int]] | None = None  # profile: [pc, final, at entry, at read 0, ...] per PC

    KEYS = ("stop_pc", "total", "started", "at_start")

    @classmethod
    def from_json(cls, d: dict) -> "PluginResult":
        return cls(stop_pc=d["stop_pc"], total=d["total"], started=bool(d.get("started")),
                   at_start=d.get("at_start", 0), in_range=d.get("in_range"), cntvct=list(d.get("cntvct", [])),
                   hist=d.get("hist"))


@dataclass
class StageCount(JsonMixin):
    stage: str
    ticks: int    # CNTVCT ticks magicboot reported
    plugin: int   # instructions the plugin counted between the same reads


@dataclass
class CrossCheck(JsonMixin):
    """The plugin's count between magicboot's first and last stage reads
    against the stages' CNTVCT ticks x 16. `why` instead when no reads match."""
    agree: bool
    plugin: int | None = None
    cntvct_x16: int | None = None
    difference: int | None = None
    stages: list[StageCount] | None = None
    why: str | None = None


@dataclass
class Split(JsonMixin):
    """magicboot's instructions: entry -> first stage read, the stages, last read -> kernel."""
    entry_to_stages: int
    stages: int
    stages_to_kernel: int


@dataclass
class BootCount(JsonMixin):
    """One boot's count. magicboot rows fill the entry fields (and, under
    Xen or xl, domu/xen_share; with the whole report the cross-check);
    U-Boot rows the bootcmd."""
    where: str              # bare | xen | xl
    payload: str            # raw | gzip | fit
    seconds: float
    kernel_entry: int
    from_reset: int
    before_entry: int | None = None
    from_entry: int | None = None
    full_report: bool | None = None
    domu: int | None = None        # the domU's own instructions from magicboot's entry
    xen_share: int | None = None   # Xen's (and dom0's) in that window
    zero_copy: bool | None = None
    stage_ticks: dict[str, int] | None = None
    cross_check: CrossCheck | None = None
    split: Split | None = None
    bootcmd: str | None = None     # U-Boot's

    @property
    def headline(self) -> int:
        """The count a progress line shows: the domU's under Xen, else from reset."""
        return self.domu if self.domu is not None else self.from_reset


@dataclass
class PayloadRow(JsonMixin):
    """One payload's boots, by who: magicboot, magicboot_full, u_boot, xen, xen_full, xl."""
    payload_bytes: int
    image_bytes: int
    runs: dict[str, BootCount] = field(default_factory=dict)

    def get(self, who: str) -> BootCount | None:
        return self.runs.get(who)

    def as_json(self) -> dict:  # the runs sit next to the sizes, as they always have
        return {"payload_bytes": self.payload_bytes, "image_bytes": self.image_bytes,
                **{who: r.as_json() for who, r in self.runs.items()}}


@dataclass
class Sizes(JsonMixin):
    magicboot_bin: int
    u_boot_bin: int
    magicboot_sections: dict[str, int] = field(default_factory=dict)


@dataclass
class DiskRate(JsonMixin):
    """bench-boot --disk: one xl boot reading a PV disk whole."""
    bytes: int
    requests: int
    max_in_flight: int
    read_kib_per_s: int        # magicboot's blkfront: ring, blkback, copy out
    hash_us: int               # its SHA-256 of the same bytes, timed apart
    dom0_dd_kib_per_s: int     # the ceiling: dom0 reading the image through a loop device
    percent_of_ceiling: float
    linux_agrees: bool         # Linux's blkfront read the same SHA-256 after the handover
    waits: int = 0             # times blkfront found no answer yet and paused
    sleeps: int = 0            # of them, asleep in Xen (SCHEDOP_poll) rather than spinning


@dataclass
class BenchResult(JsonMixin):
    """tools/bench-boot's whole result (its --json)."""
    qemu: str
    options: str
    payloads: dict[str, PayloadRow]
    sizes: Sizes
    errors: list[str] = field(default_factory=list)
    cross_check_failed: list[str] = field(default_factory=list)
    seconds: float = 0.0
    pv_disk: DiskRate | None = None

    def as_json(self) -> dict:
        d = _json(self)
        d["payloads"] = {k: r.as_json() for k, r in self.payloads.items()}
        return d
