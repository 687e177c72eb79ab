"""Where things are: the source tree and the cache tools/setup fills."""
import glob
import hashlib
import os

TOOLS = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
ROOT = os.path.dirname(TOOLS)
CACHE = os.environ.get("MAGICBOOT_CACHE", os.path.expanduser("~/.cache/magicboot"))
ARM64 = os.path.join(CACHE, "arm64")  # Debian's arm64 packages, extracted by tools/setup
DEFAULT_XEN = os.path.join(ARM64, "boot/xen-4.17-arm64")


def tool(rel: str) -> str:
    """tools/<rel>, e.g. tool("make-payload")."""
    return os.path.join(TOOLS, rel)


def cached_kernels() -> list[str]:
    """Debian's arm64 kernels in the cache, oldest version first."""
    return sorted(glob.glob(os.path.join(ARM64, "boot/vmlinuz-*")))


def sha256_file(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_hash(*paths: str) -> str:
    """One hash of source files (a script and the modules it uses): a cache
    key part that changes when any of them does."""
    h = hashlib.sha256()
    for p in paths:
        h.update(sha256_file(os.path.realpath(p)).encode())
    return h.hexdigest()
