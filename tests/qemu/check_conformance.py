#!/usr/bin/env python3
"""Holds the model to real Xen: the conformance sequence's answers, compared.

  check_conformance.py --model BIN --domain dom0less|xl [--param on|off|zero]
                       [--table FILE] -- <tools/qemu/run arguments>
  check_conformance.py --model BIN --domain ... --log-only SERIAL.LOG
  check_conformance.py --model BIN --self-test

The probe firmware, booted with "magicboot.conformance", runs a fixed
sequence of hypercalls under real Xen and prints each answer
(MAGICBOOT-CONFORMANCE index name arg rc value) and the pages it used
(MAGICBOOT-CONFORMANCE-INPUTS). magicboot-conformance (--model) runs the same
sequence against the model of the same domain. The two tables must agree
entry by entry -- same call, same rc, same value; any difference fails and
is listed. Nobody writes the expected answers down: real Xen gives them.
--table writes the side-by-side table (markdown) to FILE.
"""
import argparse
import os
import re
import subprocess
import sys

HERE = os.path.dirname(os.path.realpath(__file__))
sys.path.insert(0, HERE)
import check_boot  # noqa: E402  (serial_log, split_argv)

ENTRY = re.compile(r"MAGICBOOT-CONFORMANCE (\d+) (\S+) (0x[0-9a-f]+|0) (-?\d+) (0x[0-9a-f]+|0)\s*$")
INPUTS = re.compile(r"MAGICBOOT-CONFORMANCE-INPUTS magic (\S+) (\S+) (\S+) ram (\S+) (\S+) ram_mib (\d+)")
END = re.compile(r"MAGICBOOT-CONFORMANCE-END (\d+) entries")


class Table:
    def __init__(self, text):
        self.entries = []
        self.inputs = None
        self.end = None
        for line in text.splitlines():
            m = ENTRY.search(line)
            if m:
                i, name, arg, rc, value = m.groups()
                self.entries.append((int(i), name, int(arg, 16), int(rc), int(value, 16)))
                continue
            m = INPUTS.search(line)
            if m:
                self.inputs = m.groups()
                continue
            m = END.search(line)
            if m:
                self.end = int(m.group(1))


def errno_name(rc):
    names = {0: "0", -1: "EPERM", -2: "ENOENT", -3: "ESRCH", -12: "ENOMEM", -14: "EFAULT", -16: "EBUSY",
             -22: "EINVAL", -28: "ENOSPC", -38: "ENOSYS"}
    return names.get(rc, str(rc))


def compare(real, model):
    """The differences, one line each (empty: the tables agree)."""
    diffs = []
    if real.end is None or real.end != len(real.entries):
        diffs.append(f"real Xen's table is incomplete: {len(real.entries)} entries, END says {real.end}")
    if model.end is None or model.end != len(model.entries):
        diffs.append(f"the model's table is incomplete: {len(model.entries)} entries, END says {model.end}")
    for k in range(max(len(real.entries), len(model.entries))):
        r = real.entries[k] if k < len(real.entries) else None
        m = model.entries[k] if k < len(model.entries) else None
        if r is None or m is None:
            have = r or m
            diffs.append(f"#{have[0]} {have[1]}({have[2]:#x}): only {'real Xen' if r else 'the model'} made this call")
            continue
        if r[:3] != m[:3]:
            diffs.append(f"#{r[0]}: real Xen made {r[1]}({r[2]:#x}), the model {m[1]}({m[2]:#x}) "
                         "(an earlier answer sent them different ways)")
            break
        if r[3:] != m[3:]:
            diffs.append(f"#{r[0]} {r[1]}({r[2]:#x}): real Xen rc {errno_name(r[3])} value {r[4]:#x}, "
                         f"the model rc {errno_name(m[3])} value {m[4]:#x}")
    return diffs


def markdown(real, model):
    rows = ["| # | call | arg | real Xen | model |", "|---|---|---|---|---|"]
    for k in range(max(len(real.entries), len(model.entries))):
        r = real.entries[k] if k < len(real.entries) else None
        m = model.entries[k] if k < len(model.entries) else None
        e = r or m
        cell = lambda x: "-" if x is None else f"{errno_name(x[3])}" + (f" {x[4]:#x}" if x[4] else "")  # noqa: E731
        mark = "" if r and m and r == m else " **differs**"
        rows.append(f"| {e[0]} | {e[1]} | {e[2]:#x} | {cell(r)} | {cell(m)}{mark} |")
    return "\n".join(rows) + "\n"


def model_table(model_bin, domain, param, inputs):
    magic = ",".join(inputs[0:3])
    ram = ",".join(inputs[3:5])
    cmd = [model_bin, "--domain", domain, "--ram-mib", inputs[5], "--magic", magic, "--ram", ram,
           "--shared-info-param", param]
    out = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: exit {out.returncode}: {out.stdout.strip()}")
    return Table(out.stdout)


def self_test(model_bin):
    inputs = ("0x39ffe", "0x39ffd", "0x39ffc", "0x5ffff", "0x5fffe", "512")
    base = model_table(model_bin, "dom0less", "off", inputs)
    failures = 0
    if len(base.entries) < 40 or base.end != len(base.entries):
        print(f"self-test: the model's table has {len(base.entries)} entries")
        return 1
    text = "\n".join(f"(XEN) DOM1: MAGICBOOT-CONFORMANCE {i} {n} {a:#x} {rc} {v:#x}"
                     for i, n, a, rc, v in base.entries) + f"\nMAGICBOOT-CONFORMANCE-END {base.end} entries\n"
    if compare(Table(text), base):
        print(f"self-test: identical tables differ: {compare(Table(text), base)}")
        failures += 1
    cases = {
        "an rc changed": text.replace(" -22 0x0", " -1 0x0", 1),
        "a value changed": re.sub(r"xen_version 0x0 0 0x[0-9a-f]+", "xen_version 0x0 0 0x40010", text),
        "an entry missing": "\n".join(line for line in text.splitlines() if " remove_magic_again " not in line),
        "no END": "\n".join(line for line in text.splitlines() if "-END" not in line),
    }
    for what, bad in cases.items():
        if bad == text:
            print(f"self-test: could not make '{what}'")
            failures += 1
        elif not compare(Table(bad), base):
            print(f"self-test: {what}: not caught")
            failures += 1
    print(f"self-test: {len(cases) + 1} cases, {failures} failure(s)")
    return 1 if failures else 0


def main():
    argv, harness_args = check_boot.split_argv(sys.argv[1:])
    ap = argparse.ArgumentParser(prog="check_conformance.py", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="the magicboot-conformance binary")
    ap.add_argument("--domain", choices=("dom0less", "xl"))
    ap.add_argument("--param", choices=("on", "off", "zero"), default="off",
                    help="the model's HVM_PARAM_SHARED_INFO_PFN (on: the patched Xen)")
    ap.add_argument("--table", metavar="FILE", help="write the side-by-side table (markdown)")
    ap.add_argument("--log-only", metavar="LOG", help="judge an existing serial log, boot nothing")
    ap.add_argument("--self-test", action="store_true")
    opts = ap.parse_args(argv)
    if opts.self_test:
        return self_test(opts.model)
    if opts.domain is None:
        ap.error("--domain is required")
    log = check_boot.serial_log(ap, opts, harness_args, "check_conformance")
    if log is None:
        return 1
    real = Table(log)
    if real.inputs is None:
        print("check_conformance: FAIL: no MAGICBOOT-CONFORMANCE-INPUTS line in the serial log")
        return 1
    model = model_table(opts.model, opts.domain, opts.param, real.inputs)
    diffs = compare(real, model)
    if opts.table:
        with open(opts.table, "w") as f:
            f.write(markdown(real, model))
    for d in diffs:
        print(f"check_conformance: DIFFERS: {d}")
    if diffs:
        print(f"check_conformance: FAIL: {len(diffs)} difference(s) between real Xen and the model "
              "(where they differ, the model is wrong)")
        return 1
    print(f"check_conformance: PASS: {len(real.entries)} answers, real Xen and the model agree")
    return 0


if __name__ == "__main__":
    sys.exit(main())
