#!/usr/bin/env python3
"""abi_checks.cpp against Xen's public headers with our series applied.

  abi_checks_patched_headers.py CXX SOURCE_DIR [--headers DIR]

Copies the public headers magicboot builds against (libxen-dev's
/usr/include/xen, i.e. Xen's xen/include/public), applies the hunks of
xen/patches/*.patch that touch xen/include/public/, and compiles
hypercall/src/abi_checks.cpp (and the loader's view of the ABI,
xen_abi.h) against them: the static_asserts must hold for stock and patched
headers alike. Also compiles against the stock copy, and fails if the
series touched no public header (then this test would prove nothing).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile

PUBLIC = "xen/include/public/"


def public_hunks(patch_text):
    """The per-file diffs of a format-patch mail that touch PUBLIC."""
    parts = re.split(r"(?m)^(?=diff --git )", patch_text)
    keep = []
    for p in parts:
        m = re.match(r"diff --git a/(\S+) b/(\S+)", p)
        if m and m.group(2).startswith(PUBLIC):
            # The mail's signature ("-- \n2.39.5") follows the last diff.
            keep.append(re.split(r"(?m)^-- \n", p)[0])
    return keep


def compile_against(cxx, src, include_root):
    cmd = [cxx, "-std=c++20", "-fsyntax-only", "-Wall", "-Werror",
           "-I", include_root,
           "-I", os.path.join(src, "hypercall", "include"),
           "-I", os.path.join(src, "base", "include"),
           os.path.join(src, "hypercall", "src", "abi_checks.cpp")]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    return r.returncode, r.stdout


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("cxx")
    ap.add_argument("source_dir")
    ap.add_argument("--headers", default="/usr/include/xen", help="the stock public headers (default libxen-dev's)")
    opts = ap.parse_args()
    patches = sorted(os.path.join(opts.source_dir, "xen", "patches", f)
                     for f in os.listdir(os.path.join(opts.source_dir, "xen", "patches"))
                     if f.endswith(".patch") and not f.startswith("0000-"))
    with tempfile.TemporaryDirectory(prefix="magicboot-abi-") as tmp:
        stock = os.path.join(tmp, "stock")
        patched = os.path.join(tmp, "patched")
        shutil.copytree(opts.headers, os.path.join(stock, "xen"))
        shutil.copytree(opts.headers, os.path.join(patched, "xen"))
        touched = []
        for p in patches:
            with open(p) as f:
                for hunk in public_hunks(f.read()):
                    name = re.match(r"diff --git a/(\S+)", hunk).group(1)
                    # a/xen/include/public/X -> xen/X under the include root
                    r = subprocess.run(["patch", "-p4", "-d", os.path.join(patched, "xen"), "--no-backup-if-mismatch"],
                                       input=hunk, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                    if r.returncode != 0:
                        print(f"FAIL: {os.path.basename(p)}: {name} does not apply to {opts.headers}:\n{r.stdout}")
                        return 1
                    touched.append(name)
        if not touched:
            print("FAIL: the series touches no public header: nothing to check")
            return 1
        for what, root in (("stock", stock), ("patched", patched)):
            rc, out = compile_against(opts.cxx, opts.source_dir, root)
            if rc != 0:
                print(f"FAIL: abi_checks.cpp against the {what} headers:\n{out}")
                return 1
        print(f"ok: abi_checks.cpp holds against the stock headers and with {', '.join(sorted(set(touched)))} patched")
    return 0


if __name__ == "__main__":
    sys.exit(main())
