#!/usr/bin/env python3
"""Boots through tools/qemu/run, then judges the MAGICBOOT-HANDOVER JSON.

  check_boot.py [checks] -- <tools/qemu/run arguments>
  check_boot.py [checks] --log-only SERIAL.LOG
  check_boot.py --self-test

The harness must pass (its markers seen, no fail pattern); then the handover
JSON is reassembled from the serial log (tools/magicboot_tools/handover.py)
and checked:

  always    kernel, DTB and (if any) initrd lie each inside one RAM bank and
            are pairwise disjoint; DTB 8-byte aligned, at most 2 MiB;
            RAM banks disjoint.
  --xen     verdict clean, strategy magic, Xen present, shared_info mapped
            outside RAM and removed before the jump, no findings. Its
            source: --source S when given; else what stock Xen 4.17 offers:
            "extended-region" when /hypervisor has extended regions (then
            the GFN is the last page of the first one, which must lie
            outside RAM), "fallback" when not. param and fallback GFNs lie
            in GUEST_MAGIC (0x39000..0x39fff).
  --no-xen  verdict clean, no Xen, shared_info never mapped.
  --legacy  the U-Boot strategy: strategy ram-legacy, shared_info still
            mapped on a GFN inside a RAM bank -- and the --xen checks must
            reject this very report (the checker proves it catches it).
  --banks N exactly N RAM banks.   --initrd  an initrd was handed over.
"""
import argparse
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.realpath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "tools"))
from magicboot_tools import handover  # noqa: E402

MAGIC_GFNS = range(0x39000, 0x3A000)  # GUEST_MAGIC_BASE 0x39000000, 16 MiB
PAGE = 4096
MIB = 1 << 20


def rng(d):
    return d["start"], d["start"] + d["size"]


RAM_WINDOWS = ((0x40000000, 0xc0000000), (0x200000000, 0xfe00000000))  # GUEST_RAM0, GUEST_RAM1


def model_ext_regions(ram):
    """The extended regions the model computes (Model::extended_regions): per
    RAM window, from the domain's RAM end rounded up to 2 MiB to the window's
    end (at most 2^40), when at least 64 MiB. Real Xen's must be the same."""
    out = []
    for i, (base, size) in enumerate(RAM_WINDOWS):
        used = ram[i]["size"] if i < len(ram) else 0
        start = (base + used + 2 * MIB - 1) // (2 * MIB) * (2 * MIB)
        end = min(base + size, 1 << 40)
        if end - start >= 64 * MIB:
            out.append({"start": start, "size": end - start})
    return out


def check(report, xen=None, legacy=False, banks=None, initrd=False, source=None, want_gfn=None):
    """A list of problems (empty: the report passes)."""
    bad = []
    ram = [rng(b) for b in report.get("ram", [])]
    if not ram:
        bad.append("no RAM banks in the report")
    for i, a in enumerate(ram):
        for b in ram[i + 1:]:
            if a[0] < b[1] and b[0] < a[1]:
                bad.append(f"RAM banks [{a[0]:#x}, {a[1]:#x}) and [{b[0]:#x}, {b[1]:#x}) overlap")
    if banks is not None and len(ram) != banks:
        bad.append(f"{len(ram)} RAM bank(s), expected {banks}: {[(hex(s), hex(e)) for s, e in ram]}")

    def in_ram(lo, hi):
        return any(s <= lo and hi <= e for s, e in ram)

    blobs = {}
    for name in ("kernel", "dtb", "initrd"):
        d = report.get(name)
        if d is None:
            bad.append(f"no '{name}' in the report")
            continue
        if d["size"] == 0:
            if name != "initrd":
                bad.append(f"{name} is empty")
            continue
        blobs[name] = rng(d)
    if initrd and "initrd" not in blobs:
        bad.append("no initrd handed over (expected one)")
    for name, (lo, hi) in blobs.items():
        if not in_ram(lo, hi):
            bad.append(f"{name} [{lo:#x}, {hi:#x}) is not inside one RAM bank")
    names = list(blobs)
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            (a0, a1), (b0, b1) = blobs[a], blobs[b]
            if a0 < b1 and b0 < a1:
                bad.append(f"{a} [{a0:#x}, {a1:#x}) overlaps {b} [{b0:#x}, {b1:#x})")
    if "dtb" in blobs:
        lo, hi = blobs["dtb"]
        if lo % 8 or hi - lo > 2 * MIB:
            bad.append(f"DTB [{lo:#x}, {hi:#x}) not 8-byte aligned or over 2 MiB")

    si = report.get("shared_info") or {}  # null when there is no hypervisor
    xen_info = report.get("xen") or {}
    if xen is True:
        for key, want in (("verdict", "clean"), ("strategy", "magic")):
            if report.get(key) != want:
                bad.append(f"{key} is {report.get(key)!r}, expected {want!r}")
        if not xen_info.get("present"):
            bad.append("Xen not detected")
        gfn = si.get("gfn", -1)
        regions = xen_info.get("ext_regions") or []
        want = source or ("extended-region" if regions else "fallback")
        if si.get("source") != want:
            bad.append(f"shared_info source {si.get('source')!r}, expected {want!r}")
        if want_gfn is not None and gfn != want_gfn:
            bad.append(f"shared_info GFN {gfn:#x}, expected Xen's {want_gfn:#x}")
        dt_offer = xen_info.get("shared_info_gfn") or 0
        if dt_offer and dt_offer != si.get("gfn"):
            bad.append(f"the DT offers shared_info GFN {dt_offer:#x} (/hypervisor xen,shared-info-gfn), "
                       f"magicboot used {si.get('gfn')!r}")
        if regions and regions != model_ext_regions(report.get("ram") or []):
            bad.append(f"extended regions {regions} are not the model's {model_ext_regions(report.get('ram') or [])}"
                       " (xen_stubs Model::extended_regions)")
        if want == "extended-region":
            first = regions[0] if regions else {"start": 0, "size": 0}
            last = (first["start"] + first["size"]) // PAGE - 1
            if gfn != last:
                bad.append(f"shared_info GFN {gfn:#x} is not the last page of the first extended region ({last:#x})")
        elif gfn not in MAGIC_GFNS:
            bad.append(f"shared_info GFN {gfn:#x} is outside GUEST_MAGIC (0x39000..0x39fff)")
        if in_ram(gfn * PAGE, gfn * PAGE + PAGE):
            bad.append(f"shared_info GFN {gfn:#x} lies in RAM")
        if si.get("mapped") is not True or si.get("removed") is not True:
            bad.append(f"shared_info mapped={si.get('mapped')} removed={si.get('removed')}, expected both true")
        if report.get("findings"):
            bad.append(f"findings: {report['findings']}")
    elif xen is False:
        if report.get("verdict") != "clean":
            bad.append(f"verdict is {report.get('verdict')!r}, expected 'clean'")
        if xen_info.get("present"):
            bad.append("Xen detected on bare QEMU")
        if si.get("mapped"):
            bad.append("shared_info mapped without a hypervisor")
    if legacy:
        if report.get("strategy") != "ram-legacy":
            bad.append(f"strategy {report.get('strategy')!r}, expected 'ram-legacy' (wrong firmware?)")
        gfn = si.get("gfn", -1)
        if not in_ram(gfn * PAGE, gfn * PAGE + PAGE):
            bad.append(f"legacy: shared_info GFN {gfn:#x} is not in RAM")
        if si.get("removed") is not False:
            bad.append("legacy: shared_info was removed (expected left mapped)")
        if not check(report, xen=True):
            bad.append("legacy: the --xen checks accept this report; they must reject it")
    return bad


def judge(log_text, opts):
    try:
        report = handover.extract(log_text)
    except handover.HandoverError as e:
        return [str(e)], None
    return check(report, xen=opts.xen, legacy=opts.legacy, banks=opts.banks, initrd=opts.initrd,
                 source=getattr(opts, "source", None), want_gfn=getattr(opts, "gfn", None)), report


def self_test():
    """The checker catches each broken report, on logs split as Xen splits."""
    good = {"verdict": "clean", "strategy": "magic",
            "xen": {"present": True, "version": "4.17",
                    "ext_regions": [{"start": 0x60000000, "size": 0xa0000000},
                                    {"start": 0x200000000, "size": 0xfe00000000}]},
            "shared_info": {"gfn": 0xfffff, "source": "extended-region", "mapped": True, "removed": True},
            "kernel": {"start": 0x40400000, "size": 0x1ab0000},
            "initrd": {"start": 0x49c0a1fc, "size": 987827},
            "dtb": {"start": 0x5fe00000, "size": 1361},
            "ram": [{"start": 0x40000000, "size": 0x20000000}], "findings": []}
    import copy
    import json

    def xen_log(report):
        text = "MAGICBOOT-HANDOVER " + json.dumps(report, separators=(",", ":"))
        pieces = [text[i:i + 126] for i in range(0, len(text), 126)]
        lines = ["(XEN) DOM1: Starting...", "(XEN) DOM1: " + pieces[0], "(XEN) d1v0: vGICD: noise {"]
        lines += ["(XEN) DOM1: " + p for p in pieces[1:]]
        return "\n".join(lines + ["(XEN) DOM1: Starting kernel"]) + "\n"

    def variant(path, value):
        r = copy.deepcopy(good)
        obj = r
        for k in path[:-1]:
            obj = obj[k]
        obj[path[-1]] = value
        return r

    opts = argparse.Namespace(xen=True, legacy=False, banks=1, initrd=True, source=None)
    failures = 0
    bad_cases = {
        "gfn in RAM": variant(("shared_info", "gfn"), 0x5ffff),
        "gfn not the region's last page": variant(("shared_info", "gfn"), 0xffffe),
        "fallback despite regions": variant(("shared_info", "source"), "fallback"),
        "not removed": variant(("shared_info", "removed"), False),
        "source param": variant(("shared_info", "source"), "param"),
        "verdict": variant(("verdict",), "unchecked"),
        "kernel overlaps dtb": variant(("dtb", "start"), 0x40400000),
        "initrd outside RAM": variant(("initrd", "start"), 0x5ffff000),
        "no initrd": variant(("initrd", "size"), 0),
        "two banks expected one": variant(("ram",), [{"start": 0x40000000, "size": 0x20000000},
                                                     {"start": 0x200000000, "size": 0x40000000}]),
        "dtb misaligned": variant(("dtb", "start"), 0x5fe00004),
        "findings": variant(("findings",), ["no-ram-hole"]),
        "DT offer not used": variant(("xen", "shared_info_gfn"), 0x39fff),
    }
    bad_cases["regions not the model's"] = variant(("xen", "ext_regions"), [{"start": 0x60000000, "size": 0x9000000}])
    over_ram = variant(("xen", "ext_regions"), [{"start": 0x5f000000, "size": 0x1000000}])
    over_ram["shared_info"]["gfn"] = 0x5ffff  # the region's last page, in RAM
    bad_cases["region's page in RAM"] = over_ram
    bad, _ = judge(xen_log(good), opts)
    if bad:
        print(f"self-test: the good report was rejected: {bad}")
        failures += 1
    for name, report in bad_cases.items():
        bad, _ = judge(xen_log(report), opts)
        if not bad:
            print(f"self-test: broken case '{name}' was accepted")
            failures += 1
    truncated = xen_log(good).split("\n")
    if not judge("\n".join(truncated[:3]), opts)[0]:
        print("self-test: a report that never closes was accepted")
        failures += 1
    if not judge("no report here\n", opts)[0]:
        print("self-test: a log without a report was accepted")
        failures += 1
    legacy = variant(("shared_info", "gfn"), 0x5ffff)
    legacy["shared_info"]["removed"] = False
    legacy["strategy"], legacy["verdict"] = "ram-legacy", "unchecked"
    lopts = argparse.Namespace(xen=None, legacy=True, banks=None, initrd=False, source=None)
    if judge(xen_log(legacy), lopts)[0]:
        print(f"self-test: the legacy report was not recognised: {judge(xen_log(legacy), lopts)[0]}")
        failures += 1
    if not judge(xen_log(good), lopts)[0]:
        print("self-test: --legacy accepted a clean report")
        failures += 1
    bare = variant(("shared_info",), None)
    bare["xen"] = {"present": False, "version": "0.0"}
    nopts = argparse.Namespace(xen=False, legacy=False, banks=1, initrd=True)
    bare_log = "Starting...\nMAGICBOOT-HANDOVER " + json.dumps(bare) + "\nStarting kernel\n"
    if judge(bare_log, nopts)[0]:
        print("self-test: a clean bare report was rejected")
        failures += 1
    if not judge(xen_log(good), nopts)[0]:
        print("self-test: --no-xen accepted a report with Xen and shared_info mapped")
        failures += 1
    gopts = argparse.Namespace(xen=True, legacy=False, banks=1, initrd=True, source=None, gfn=0x39fff)
    if not judge(xen_log(good), gopts)[0]:
        print("self-test: --gfn 0x39fff accepted a report at GFN 0xfffff")
        failures += 1
    print(f"self-test: {len(bad_cases) + 8} cases, {failures} failure(s)")
    return 1 if failures else 0


def split_argv(argv):
    """(the checker's own arguments, the harness's: those after '--')."""
    if "--" in argv:
        at = argv.index("--")
        return argv[:at], argv[at + 1:]
    return argv, []


def serial_log(ap, opts, harness_args, who):
    """The log to judge: --log-only's file, or a boot through tools/qemu/run
    with the harness's arguments. None when the harness failed (said why)."""
    if opts.log_only:
        with open(opts.log_only, errors="replace") as f:
            return f.read()
    if not harness_args:
        ap.error("give the harness arguments after --")
    with tempfile.TemporaryDirectory(prefix=f"magicboot-{who}-") as tmp:
        log = os.path.join(tmp, "serial.log")
        cmd = [sys.executable, os.path.join(ROOT, "tools", "qemu", "run")] + harness_args + ["--log", log]
        rc = subprocess.run(cmd).returncode
        with open(log, errors="replace") as f:
            log_text = f.read()
    if rc != 0:
        print(f"{who}: FAIL: the harness failed (exit {rc})")
        return None
    return log_text


def main():
    argv, harness_args = split_argv(sys.argv[1:])
    ap = argparse.ArgumentParser(prog="check_boot.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--xen", dest="xen", action="store_true", default=None)
    g.add_argument("--no-xen", dest="xen", action="store_false")
    ap.add_argument("--legacy", action="store_true")
    ap.add_argument("--banks", type=int)
    ap.add_argument("--source", choices=("param", "dt-property", "extended-region", "fallback"),
                    help="the shared_info source --xen expects (default: stock Xen's, see above)")
    ap.add_argument("--initrd", action="store_true")
    ap.add_argument("--gfn", type=lambda v: int(v, 0), metavar="GFN",
                    help="the shared_info GFN --xen expects (Xen's slot, e.g. 0x39fff)")
    ap.add_argument("--log-only", metavar="LOG", help="judge an existing serial log, boot nothing")
    ap.add_argument("--missing-hint", default="", help="printed when the harness's --kernel file is missing")
    ap.add_argument("--self-test", action="store_true")
    opts = ap.parse_args(argv)
    if opts.self_test:
        return self_test()

    if not opts.log_only and "--kernel" in harness_args:
        kernel = harness_args[harness_args.index("--kernel") + 1]
        if not os.path.isfile(kernel):
            print(f"check_boot: FAIL: firmware {kernel} is missing. {opts.missing_hint}")
            return 1
    log_text = serial_log(ap, opts, harness_args, "check_boot")
    if log_text is None:
        return 1

    bad, report = judge(log_text, opts)
    if report is not None:
        si = report.get("shared_info")
        si_text = (f"shared_info gfn {si.get('gfn', 0):#x} ({si.get('source')}, removed {si.get('removed')})"
                   if si else "no shared_info")
        print(f"check_boot: handover: verdict {report.get('verdict')}, strategy {report.get('strategy')}, "
              f"{si_text}, {len(report.get('ram', []))} RAM bank(s)")
        for name in ("kernel", "initrd", "dtb"):
            d = report.get(name, {})
            if d.get("size"):
                print(f"check_boot:   {name:6} [{d['start']:#x}, {d['start'] + d['size']:#x})")
    for b in bad:
        print(f"check_boot: FAIL: {b}")
    if bad:
        return 1
    print("check_boot: PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
