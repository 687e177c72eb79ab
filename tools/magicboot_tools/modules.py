"""Linux kernel modules from Debian's linux-image .deb (unpacked in the
cache), for initramfs images that load them with busybox insmod."""
import glob
import gzip
import lzma
import os
import re

from magicboot_tools.cli import Failure


def modinfo_depends(data: bytes) -> list[str]:
    m = re.search(rb"(?:^|\0)depends=([^\0]*)", data)
    return [d.decode() for d in m.group(1).split(b",") if d] if m else []


def module_root(arm64: str) -> str:
    """The one kernel's /lib/modules/<version> under the unpacked packages."""
    mod_dirs = sorted(glob.glob(os.path.join(arm64, "lib", "modules", "*")))
    if not mod_dirs:
        raise Failure(f"no kernel modules in {arm64}/lib/modules (run tools/setup)")
    if len(mod_dirs) > 1:
        raise Failure(f"more than one kernel's modules in {arm64}/lib/modules: "
                      f"{[os.path.basename(d) for d in mod_dirs]}")
    return mod_dirs[0]


def module_closure(mod_root: str, names: list[str]) -> list[tuple[str, bytes]]:
    """[(name, bytes)] for `names` and what they depend on, in load order
    (dependencies first), xz/gz undone (busybox insmod takes plain .ko)."""
    index = {}
    for path in glob.glob(os.path.join(mod_root, "kernel", "**", "*.ko*"), recursive=True):
        base = os.path.basename(path)
        name = re.sub(r"\.ko(\.xz|\.gz|\.zst)?$", "", base)
        index[name.replace("_", "-")] = path
    loaded, order = {}, []

    def load(name, chain):
        key = name.replace("_", "-")
        if key in loaded:
            return
        if key in chain:
            raise Failure(f"module dependency cycle: {' -> '.join(chain + [key])}")
        path = index.get(key)
        if path is None:
            raise Failure(f"module {name} not found under {mod_root}")
        with open(path, "rb") as f:
            data = f.read()
        if path.endswith(".xz"):
            data = lzma.decompress(data)
        elif path.endswith(".gz"):
            data = gzip.decompress(data)
        elif path.endswith(".zst"):
            raise Failure(f"{path}: zstd modules are not supported")
        for dep in modinfo_depends(data):
            load(dep, chain + [key])
        loaded[key] = True
        order.append((os.path.basename(re.sub(r"\.(xz|gz)$", "", path))[:-3], data))

    for m in names:
        load(m, [])
    return order
