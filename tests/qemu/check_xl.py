#!/usr/bin/env python3
"""Boots through `tools/qemu/run xl`, then holds magicboot's view of the magic
pages against the toolstack's.

  check_xl.py [checks] -- <tools/qemu/run xl arguments>
  check_xl.py [checks] --log-only SERIAL.LOG
  check_xl.py --self-test

The harness must pass (its markers seen, no fail pattern). Then, from the
serial log (tools/magicboot_tools/handover.py undoes dom0's relay and Xen's
lines that interrupt it):

  always       every `MAGICBOOT-XL {json}` line dom0 printed (one per guest
               boot, numbered 1, 2, ..., each boot a new domid): the console
               and xenstore ring-refs (PFNs) lie in GUEST_MAGIC (0x39000000,
               16 MiB), differ, and lie outside the guest's RAM (its
               static-max laid out as Xen does: 3 GiB at 0x40000000, the
               rest at 0x200000000); the event channel ports are > 0.
  --boots N    exactly N boots (MAGICBOOT-XL lines).
  --handover ORIGIN
               magicboot's MAGICBOOT-HANDOVER relayed from ORIGIN ("guest":
               the PV console, "guest-vuart": the vpl011), one per boot, the
               i-th held against the i-th MAGICBOOT-XL: magic.console_pfn =
               console ring-ref, console_evtchn = console port, store_pfn =
               store ring-ref, store_evtchn = store port; the PFNs outside
               the RAM banks the report names, which add up to static-max;
               and check_boot.py's --xen checks (--banks N, --initrd).
  --disk-hash  dom0's MAGICBOOT-DOM0-DISK (sha256sum of the image it
               serves) and Linux's MAGICBOOT-LINUX-DISK (its own blkfront,
               after the handover), each once per boot, with the same
               SHA-256 and size; magicboot's MAGICBOOT-FW-DISK (the whole
               disk read through its blkfront: a firmware built with
               CONFIG_PV_BLOCK) is optional, but when there is one it must
               come once per boot and agree too; and --no-backend-errors.
  --no-backend-errors
               no backend error in the log: dom0's blkback (`blkback ...
               error|fail`), the hotplug script (hotplug-error,
               magicboot-block:), xenbus errors, libxl's (`dom0: xl: ...
               error`: dom0 relays the error lines of xl create and of xl's
               monitor of the guest) and Xen's grant table (`(XEN) ...
               grant_table.c`, or a Xen line naming grants with a warning,
               error or failure). MAGICBOOT-* lines are not searched.
  --disk-error CHECK
               magicboot refused to boot with MAGICBOOT-ERROR naming CHECK
               (e.g. vbd-none: no disk), and Linux never ran.
  --rootfs-label LABEL
               a disk boot reached the disk's own root filesystem (tools/
               make-disk's boot layouts): one MAGICBOOT-ROOTFS {json} per boot
               relayed from [guest], printed by /sbin/init of that root
               filesystem: "root" /dev/xvda2 (what /proc/mounts has on /;
               --rootfs-root DEV), "fstype" ext4, "mode" ro, "label" LABEL
               (magicboot.label= on Linux's command line: the extlinux label
               or BLS entry that booted; '' for none), "marker" the one only
               that filesystem holds (magicboot_tools/rootfs.py ROOTFS_MARKER);
               with --rootfs-initrd NAME its "initrd" (the initrd that
               mounted it names itself, e.g. initrd.img-V); and no
               MAGICBOOT-INITRD-ERROR.
"""
import argparse
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, HERE)
import check_boot  # noqa: E402
from magicboot_tools import handover, rootfs  # noqa: E402

PAGE = 4096
MAGIC = (0x39000000, 0x3A000000)            # GUEST_MAGIC (boards/xen_arm64/board.h kMagic)
RAM0 = (0x40000000, 0x40000000 + (3 << 30))  # GUEST_RAM0: 3 GiB
RAM1_BASE = 0x200000000                      # GUEST_RAM1
PAIRS = [("console_pfn", "console_ring_ref"), ("console_evtchn", "console_port"),
         ("store_pfn", "store_ring_ref"), ("store_evtchn", "store_port")]


def xl_ram(static_max_kb):
    """The banks Xen gives a guest of that much RAM."""
    size = static_max_kb * 1024
    low = min(size, RAM0[1] - RAM0[0])
    banks = [(RAM0[0], RAM0[0] + low)]
    if size > low:
        banks.append((RAM1_BASE, RAM1_BASE + size - low))
    return banks


def in_banks(banks, pfn):
    return any(lo <= pfn * PAGE and (pfn + 1) * PAGE <= hi for lo, hi in banks)


def check_values(xl, boot):
    """Problems with one MAGICBOOT-XL line (the boot-th)."""
    bad = []
    tag = f"boot {boot}"
    if xl.get("boot") != boot:
        bad.append(f"{tag}: MAGICBOOT-XL says boot {xl.get('boot')!r}")
    smax = xl.get("static_max_kb")
    if not isinstance(smax, int) or smax <= 0:
        bad.append(f"{tag}: static_max_kb {smax!r} is not a size")
        smax = None
    for key in ("console_ring_ref", "store_ring_ref"):
        pfn = xl.get(key)
        if not isinstance(pfn, int):
            bad.append(f"{tag}: {key} {pfn!r} missing")
            continue
        if not (MAGIC[0] <= pfn * PAGE and (pfn + 1) * PAGE <= MAGIC[1]):
            bad.append(f"{tag}: {key} {pfn:#x} is outside GUEST_MAGIC (0x39000..0x39fff)")
        if smax and in_banks(xl_ram(smax), pfn):
            bad.append(f"{tag}: {key} {pfn:#x} lies in the guest's RAM")
    if isinstance(xl.get("console_ring_ref"), int) and xl.get("console_ring_ref") == xl.get("store_ring_ref"):
        bad.append(f"{tag}: console and store share the PFN {xl.get('console_ring_ref')!r}")
    for key in ("console_port", "store_port"):
        if not isinstance(xl.get(key), int) or xl[key] <= 0:
            bad.append(f"{tag}: {key} {xl.get(key)!r} is not an event channel")
    return bad


def check_pair(report, xl, boot, banks=None, initrd=False, source=None, gfn=None):
    """Problems between magicboot's handover report and dom0's values."""
    tag = f"boot {boot}"
    bad = [f"{tag}: handover: {b}"
           for b in check_boot.check(report, xen=True, banks=banks, initrd=initrd, source=source, want_gfn=gfn)]
    magic = report.get("magic") or {}
    for mine, theirs in PAIRS:
        if magic.get(mine) != xl.get(theirs):
            bad.append(f"{tag}: magicboot's {mine} {magic.get(mine)!r} != the toolstack's {theirs} "
                       f"{xl.get(theirs)!r}")
    ram = [(b["start"], b["start"] + b["size"]) for b in report.get("ram", [])]
    for key in ("console_pfn", "store_pfn"):
        pfn = magic.get(key)
        if isinstance(pfn, int) and in_banks(ram, pfn):
            bad.append(f"{tag}: {key} {pfn:#x} lies in a RAM bank of the report")
    total = sum(hi - lo for lo, hi in ram)
    if isinstance(xl.get("static_max_kb"), int) and total != xl["static_max_kb"] * 1024:
        bad.append(f"{tag}: the report's RAM ({total // 1024} KiB) != static-max ({xl['static_max_kb']} KiB)")
    return bad


BACKEND_ERRORS = re.compile(r"(xen-)?blkback.*(error|fail)|vbd.*error|hotplug-error|magicboot-block:|"
                            r"\(XEN\).*(grant_table\.c|grant.*(warn|error|bad|fail))|xenbus.*(error|fail)|"
                            r"^dom0: xl: .*(error|fail)|libxl: error", re.IGNORECASE)


def backend_errors(log_text):
    """The log's backend error lines, as problems."""
    return [f"backend error in the log: {line.strip()[:200]}" for line in log_text.splitlines()
            if "MAGICBOOT-" not in line and BACKEND_ERRORS.search(line)]


def check_disk(log_text, boots):
    """Problems with the readers' hashes of the PV disk (dom0's and Linux's,
    magicboot's when it printed one)."""
    bad = []
    try:
        dom0 = handover.extract_all(log_text, marker="MAGICBOOT-DOM0-DISK ", relay=True)
        fw = [r for o, r in handover.extract_relayed(log_text, marker="MAGICBOOT-FW-DISK ") if o == "guest"]
        linux = [r for o, r in handover.extract_relayed(log_text, marker="MAGICBOOT-LINUX-DISK ") if o == "guest"]
    except handover.HandoverError as e:
        return [str(e)]
    for name, got in (("MAGICBOOT-DOM0-DISK", dom0), ("MAGICBOOT-FW-DISK", fw), ("MAGICBOOT-LINUX-DISK", linux)):
        if len(got) != boots and not (name == "MAGICBOOT-FW-DISK" and not got):
            bad.append(f"{len(got)} {name} line(s) for {boots} boot(s)")
    if dom0:
        want = (dom0[0].get("sha256"), dom0[0].get("bytes"))
        if not isinstance(want[0], str) or len(want[0]) != 64 or not isinstance(want[1], int) or want[1] <= 0:
            bad.append(f"MAGICBOOT-DOM0-DISK is not a hash and a size: {dom0[0]}")
        for name, got in (("magicboot", fw), ("Linux", linux)):
            for i, r in enumerate(got):
                if (r.get("sha256"), r.get("bytes")) != want:
                    bad.append(f"boot {i + 1}: {name} read sha256 {r.get('sha256')} ({r.get('bytes')} bytes), "
                               f"dom0 has {want[0]} ({want[1]} bytes)")
    return bad


def check_rootfs(log_text, boots, label, initrd=None, root="/dev/xvda2"):
    """Problems with the disk boot's MAGICBOOT-ROOTFS lines (see --rootfs-label)."""
    try:
        lines = [r for o, r in handover.extract_relayed(log_text, marker="MAGICBOOT-ROOTFS ") if o == "guest"]
    except handover.HandoverError as e:
        return [str(e)]
    bad = []
    if len(lines) != boots:
        bad.append(f"{len(lines)} MAGICBOOT-ROOTFS line(s) relayed as [guest] for {boots} boot(s)")
    want = {"root": root, "fstype": "ext4", "mode": "ro", "label": label, "marker": rootfs.ROOTFS_MARKER}
    if initrd is not None:
        want["initrd"] = initrd
    for i, r in enumerate(lines):
        for key, value in want.items():
            if r.get(key) != value:
                bad.append(f"boot {i + 1}: MAGICBOOT-ROOTFS {key} {r.get(key)!r}, expected {value!r}")
    for line in log_text.splitlines():
        if "MAGICBOOT-INITRD-ERROR" in line:
            bad.append(f"the initrd failed: {line.strip()[:200]}")
    return bad


def judge(log_text, opts):
    """(problems, [(xl, report or None)])."""
    try:
        values = handover.extract_all(log_text, marker=handover.XL_MARKER, relay=True)
        reports = [r for origin, r in handover.extract_relayed(log_text) if origin == opts.handover]
    except handover.HandoverError as e:
        return [str(e)], []
    bad = []
    if not values:
        bad.append("dom0 printed no MAGICBOOT-XL line")
    if opts.boots is not None and len(values) != opts.boots:
        bad.append(f"{len(values)} boot(s) (MAGICBOOT-XL lines), expected {opts.boots}")
    domids = [v.get("domid") for v in values]
    if len(set(domids)) != len(domids):
        bad.append(f"boots share a domid: {domids}")
    for i, xl in enumerate(values):
        bad += check_values(xl, i + 1)
    if getattr(opts, "disk_hash", False):
        bad += check_disk(log_text, len(values))
    if getattr(opts, "disk_hash", False) or getattr(opts, "no_backend_errors", False):
        bad += backend_errors(log_text)
    if getattr(opts, "rootfs_label", None) is not None:
        bad += check_rootfs(log_text, len(values), opts.rootfs_label, getattr(opts, "rootfs_initrd", None),
                            getattr(opts, "rootfs_root", None) or "/dev/xvda2")
    disk_error = getattr(opts, "disk_error", None)
    if disk_error:
        errors = refusals(log_text)
        if errors != [disk_error] * len(values) or not values:
            bad.append(f"MAGICBOOT-ERROR checks {errors}, expected {disk_error} once per boot")
        if "Booting Linux" in log_text.split("MAGICBOOT-XL", 1)[-1]:
            bad.append("Linux started after magicboot refused")
    pairs = [(xl, None) for xl in values]
    if opts.handover:
        if len(reports) != len(values):
            bad.append(f"{len(reports)} MAGICBOOT-HANDOVER relayed as [{opts.handover}] for "
                       f"{len(values)} boot(s)")
        for i, (xl, report) in enumerate(zip(values, reports)):
            bad += check_pair(report, xl, i + 1, banks=opts.banks, initrd=opts.initrd,
                              source=getattr(opts, "source", None), gfn=getattr(opts, "gfn", None))
            pairs[i] = (xl, report)
    return bad, pairs


def refusals(log_text):
    """The checks magicboot's MAGICBOOT-ERROR lines name, in order. The
    error's kind may be two words ("bad input")."""
    return re.findall(r"^\[guest\] MAGICBOOT-ERROR [a-z ]+: step \S+: ([\w-]+):", log_text, re.MULTILINE)


def self_test():
    """The checks catch each broken input, on logs relayed as dom0 relays them
    (Xen's lines cutting into dom0's)."""
    good_report = {"verdict": "clean", "strategy": "magic", "xen": {"present": True, "version": "4.17"},
                   "shared_info": {"gfn": 0x39fff, "source": "fallback", "mapped": True, "removed": True},
                   "magic": {"console_pfn": 0x39000, "console_evtchn": 2, "store_pfn": 0x39001,
                             "store_evtchn": 1},
                   "kernel": {"start": 0x40400000, "size": 0x1ab0000},
                   "initrd": {"start": 0x49a0a1fc, "size": 987827},
                   "dtb": {"start": 0x5fe00000, "size": 1561},
                   "ram": [{"start": 0x40000000, "size": 0x20000000}], "findings": []}
    good_xl = {"boot": 1, "domid": 1, "name": "guest", "vcpus": 1, "static_max_kb": 524288,
               "target_kb": 524288, "console_ring_ref": 0x39000, "console_port": 2,
               "store_ring_ref": 0x39001, "store_port": 1, "vuart_ring_ref": 0x39003, "vuart_port": 3}

    def log(boots, cut=True):
        """boots: [(report or None, xl or None)]; Xen's line cuts the first
        handover line in two, as it can on dom0's console."""
        out = ["(XEN) *** Serial input to DOM0", "dom0: toolstack up"]
        for n, (report, xl) in enumerate(boots):
            if n:
                out.append(f"dom0: guest boot {n + 1}")
            if report is not None:
                line = "[guest-vuart] MAGICBOOT-HANDOVER " + json.dumps(report, separators=(",", ":"))
                if cut and n == 0:
                    out += [line[:150] + "(XEN) d1v0: vGICD: unhandled word write {", line[150:]]
                else:
                    out.append(line)
                out.append("[guest-vuart] Starting kernel at 0x40400000, DTB 0x5fe00000 ...")
            if xl is not None:
                out.append("MAGICBOOT-XL " + json.dumps(xl))
        return "\n".join(out) + "\n"

    def with_(d, path, value):
        d = copy.deepcopy(d)
        obj = d
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
        return d

    second_xl = with_(with_(good_xl, ("boot",), 2), ("domid",), 2)
    opts = argparse.Namespace(handover="guest-vuart", boots=None, banks=1, initrd=True)
    two = argparse.Namespace(handover="guest-vuart", boots=2, banks=1, initrd=True)
    failures = 0
    good_cases = {
        "one boot, the handover cut by a Xen line": (log([(good_report, good_xl)]), opts),
        "two boots": (log([(good_report, good_xl), (good_report, second_xl)]), two),
        "no handover check": (log([(None, good_xl)]), argparse.Namespace(handover=None, boots=1, banks=None,
                                                                         initrd=False)),
    }
    bad_cases = {
        "console evtchn differs": log([(good_report, with_(good_xl, ("console_port",), 3))]),
        "store pfn differs": log([(with_(good_report, ("magic", "store_pfn"), 0x39002), good_xl)]),
        "store evtchn differs": log([(with_(good_report, ("magic", "store_evtchn"), 4), good_xl)]),
        "console pfn differs": log([(with_(good_report, ("magic", "console_pfn"), 0x39003), good_xl)]),
        "ring-ref in RAM (both agree)": log([(with_(good_report, ("magic", "console_pfn"), 0x40000),
                                              with_(good_xl, ("console_ring_ref",), 0x40000))]),
        "ring-ref below GUEST_MAGIC": log([(with_(good_report, ("magic", "store_pfn"), 0x38fff),
                                            with_(good_xl, ("store_ring_ref",), 0x38fff))]),
        "console and store share a page": log([(with_(good_report, ("magic", "store_pfn"), 0x39000),
                                                with_(good_xl, ("store_ring_ref",), 0x39000))]),
        "port missing": log([(good_report, with_(good_xl, ("store_port",), None))]),
        "no MAGICBOOT-XL": log([(good_report, None)]),
        "no handover": log([(None, good_xl)]),
        "report RAM != static-max": log([(good_report, with_(good_xl, ("static_max_kb",), 1048576))]),
        "handover not clean": log([(with_(good_report, ("verdict",), "unchecked"), good_xl)]),
    }
    two_bad = {
        "second boot, same domid": log([(good_report, good_xl), (good_report, with_(good_xl, ("boot",), 2))]),
        "second boot without handover": log([(good_report, good_xl), (None, second_xl)]),
        "one boot where two expected": log([(good_report, good_xl)]),
        "second boot's evtchn differs": log([(good_report, good_xl),
                                             (good_report, with_(second_xl, ("store_port",), 5))]),
    }
    for name, (text, o) in good_cases.items():
        bad, _ = judge(text, o)
        if bad:
            print(f"self-test: good case '{name}' was rejected: {bad}")
            failures += 1
    for cases, o in ((bad_cases, opts), (two_bad, two)):
        for name, text in cases.items():
            bad, _ = judge(text, o)
            if not bad:
                print(f"self-test: broken case '{name}' was accepted")
                failures += 1
    # The relay reassembly itself: the cut line comes back whole.
    got = handover.extract_relayed(log([(good_report, good_xl)]))
    if [o for o, _ in got] != ["guest-vuart"] or got[0][1] != good_report:
        print(f"self-test: the cut handover line did not come back whole: {got}")
        failures += 1
    # The disk check: the three hashes agree, or each way they can fail is caught.
    h = "ab" * 32

    def disk_log(fw=h, linux=h, extra="", linux_bytes=8388608):
        lines = [f'MAGICBOOT-DOM0-DISK {{"sha256":"{h}","bytes":8388608}}']
        if fw:
            lines.append(f'[guest] MAGICBOOT-FW-DISK {{"sha256":"{fw}","bytes":8388608,"requests":9}}')
        if linux:
            lines.append(f'[guest] MAGICBOOT-LINUX-DISK {{"sha256":"{linux}","bytes":{linux_bytes}}}')
        return "\n".join(lines + [extra]) + "\n"
    two_disk = disk_log() + disk_log(fw=None)  # boot 2 without the firmware's line
    disk_cases = {"agree": (disk_log(), 1, False), "firmware differs": (disk_log(fw="cd" * 32), 1, True),
                  "no firmware line (a firmware without PV block)": (disk_log(fw=None), 1, False),
                  "two boots, no firmware line": (disk_log(fw=None) * 2, 2, False),
                  "two boots, one firmware line": (two_disk, 2, True),
                  "Linux differs, no firmware line": (disk_log(fw=None, linux="cd" * 32), 1, True),
                  "Linux read another size": (disk_log(linux_bytes=4194304), 1, True),
                  "Linux never read it": (disk_log(linux=None), 1, True),
                  "dom0 printed no hash": (disk_log().split("\n", 1)[1], 1, True)}
    for name, (text, boots, broken) in disk_cases.items():
        if bool(check_disk(text, boots)) != broken:
            print(f"self-test: disk case '{name}' was {'accepted' if broken else 'rejected'}: "
                  f"{check_disk(text, boots)}")
            failures += 1
    # The backend-error check: each kind of error line is caught, a clean
    # run's lines are not.
    clean = ["(XEN) Grant table range: 0x00000040200000-0x00000040240000",
             "[   10.48] xen-blkback: backend/vbd/1/51712: using 1 queues, protocol 1 (arm-abi) persistent grants",
             "[guest] [    2.1] blkfront: xvda: flush diskcache: disabled; persistent grants: enabled;",
             '[guest] MAGICBOOT-FW-DISK {"sha256":"' + h + '","error":"none"}',
             "dom0: xl create done (domid 1)"]
    errors = ["[   9.1] xen-blkback: backend/vbd/1/51712: error mapping ring",
              "(XEN) grant_table.c:1234:d0v0 Bad ref 0x5 for d1",
              "(XEN) d0v0 grant table: failed to map grant 7",
              "dom0: xl: libxl: error: libxl_device.c:1109:device_backend_callback: Domain 1:unable to add device",
              "libxl: error: libxl_aoutils.c:646:libxl__kill_xs_path: Device Model already exited",
              "[   11.2] vbd vbd-1-51712: 2 error writing ring-ref",
              "[   11.2] xenbus: failed to write error node for backend/vbd/1/51712",
              "magicboot-block: no free loop device"]
    if backend_errors("\n".join(clean)):
        print(f"self-test: a clean log has backend errors: {backend_errors(chr(10).join(clean))}")
        failures += 1
    for line in errors:
        if not backend_errors("\n".join(clean + [line])):
            print(f"self-test: backend error line accepted: {line}")
            failures += 1
    # The root filesystem check: the disk's own /sbin/init spoke, or each
    # way it can be wrong is caught.
    def rootfs_line(**over):
        r = {"root": "/dev/xvda2", "fstype": "ext4", "mode": "ro", "label": "l0",
             "initrd": "initrd.img-6.1.0-57-cloud-arm64", "marker": rootfs.ROOTFS_MARKER}
        r.update(over)
        return "[guest] MAGICBOOT-ROOTFS " + json.dumps(r, separators=(",", ":")) + "\n"
    ask = "[guest] MAGICBOOT-ROOTFS-ASK type a line\n"
    rootfs_cases = {"the disk's root, label l0": (ask + rootfs_line(), 1, {}, False),
                    "with its initrd named": (rootfs_line(), 1, {"initrd": "initrd.img-6.1.0-57-cloud-arm64"}, False),
                    "two boots": (rootfs_line() * 2, 2, {}, False),
                    "the other label": (rootfs_line(label="l0r"), 1, {}, True),
                    "no label on the command line": (rootfs_line(label=""), 1, {}, True),
                    "another root device": (rootfs_line(root="/dev/xvda1"), 1, {}, True),
                    "root mounted read-write": (rootfs_line(mode="rw"), 1, {}, True),
                    "another filesystem type": (rootfs_line(fstype="vfat"), 1, {}, True),
                    "a marker of another filesystem": (rootfs_line(marker="initramfs"), 1, {}, True),
                    "another initrd": (rootfs_line(initrd="initrd.img-6.1.0-9-cloud-arm64"), 1,
                                       {"initrd": "initrd.img-6.1.0-57-cloud-arm64"}, True),
                    "no MAGICBOOT-ROOTFS": (ask, 1, {}, True),
                    "one line for two boots": (rootfs_line(), 2, {}, True),
                    "from the vuart, not the PV console": (rootfs_line().replace("[guest]", "[guest-vuart]"), 1,
                                                           {}, True),
                    "the initrd failed too": (rootfs_line() + "[guest] MAGICBOOT-INITRD-ERROR no /dev/xvda2 after "
                                              "20 s\n", 1, {}, True),
                    "a line that does not parse": (rootfs_line()[:-20] + "\n", 1, {}, True)}
    for name, (text, boots, kw, broken) in rootfs_cases.items():
        got = check_rootfs(text, boots, "l0", **kw)
        if bool(got) != broken:
            print(f"self-test: rootfs case '{name}' was {'accepted' if broken else 'rejected'}: {got}")
            failures += 1
    refusal_cases = {"[guest] MAGICBOOT-ERROR unsupported: step xen: vbd-none: no disk\n": ["vbd-none"],
                     "[guest] MAGICBOOT-ERROR bad input: step payload: ext4-not-found: entry \"l0\": ...\n":
                     ["ext4-not-found"],
                     "[guest] magicboot: MAGICBOOT-ERROR bad input: step payload: x: y\n": []}
    for text, want in refusal_cases.items():
        if refusals(text) != want:
            print(f"self-test: refusal {text!r} read as {refusals(text)}, not {want}")
            failures += 1
    total = (len(good_cases) + len(bad_cases) + len(two_bad) + 1 + len(disk_cases) + 1 + len(errors)
             + len(rootfs_cases) + len(refusal_cases))
    print(f"self-test: {total} cases, {failures} failure(s)")
    return 1 if failures else 0


def main():
    argv, harness_args = check_boot.split_argv(sys.argv[1:])
    ap = argparse.ArgumentParser(prog="check_xl.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--handover", choices=["guest", "guest-vuart"])
    ap.add_argument("--boots", type=int)
    ap.add_argument("--banks", type=int)
    ap.add_argument("--initrd", action="store_true")
    ap.add_argument("--source", choices=("param", "dt-property", "extended-region", "fallback"),
                    help="the shared_info source expected (default: stock Xen's, as check_boot.py)")
    ap.add_argument("--gfn", type=lambda v: int(v, 0), metavar="GFN", help="the shared_info GFN expected")
    ap.add_argument("--disk-hash", action="store_true",
                    help="dom0, magicboot and Linux read the same PV disk (see above)")
    ap.add_argument("--no-backend-errors", action="store_true",
                    help="no blkback, hotplug, xenbus, libxl or grant-table error in the log (see above)")
    ap.add_argument("--disk-error", metavar="CHECK", help="magicboot refused with this check (see above)")
    ap.add_argument("--rootfs-label", metavar="LABEL",
                    help="the disk's root filesystem ran, booted by this label (see above)")
    ap.add_argument("--rootfs-initrd", metavar="NAME", help="with --rootfs-label: the initrd that mounted it")
    ap.add_argument("--rootfs-root", metavar="DEV", help="with --rootfs-label: the root device (default /dev/xvda2)")
    ap.add_argument("--log-only", metavar="LOG", help="judge an existing serial log, boot nothing")
    ap.add_argument("--self-test", action="store_true")
    opts = ap.parse_args(argv)
    if opts.self_test:
        return self_test()
    if (opts.rootfs_initrd is not None or opts.rootfs_root is not None) and opts.rootfs_label is None:
        ap.error("--rootfs-initrd and --rootfs-root go with --rootfs-label")

    log_text = check_boot.serial_log(ap, opts, harness_args, "check_xl")
    if log_text is None:
        return 1

    bad, pairs = judge(log_text, opts)
    def hx(v):
        return f"{v:#x}" if isinstance(v, int) else repr(v)

    for i, (xl, report) in enumerate(pairs):
        print(f"check_xl: boot {i + 1}: domid {xl.get('domid')}: the toolstack's console ring-ref "
              f"{hx(xl.get('console_ring_ref'))} port {xl.get('console_port')}, store ring-ref "
              f"{hx(xl.get('store_ring_ref'))} port {xl.get('store_port')}, static-max "
              f"{xl.get('static_max_kb')} KiB")
        if report is not None:
            m = report.get("magic", {})
            print(f"check_xl: boot {i + 1}: magicboot's console pfn {hx(m.get('console_pfn'))} evtchn "
                  f"{m.get('console_evtchn')}, store pfn {hx(m.get('store_pfn'))} evtchn {m.get('store_evtchn')}")
    for b in bad:
        print(f"check_xl: FAIL: {b}")
    if bad:
        return 1
    print("check_xl: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
