"""What every tool does with its command line: a bad argument is one line on
stderr naming it, exit 2, before anything is built or booted."""
import argparse
import os
import subprocess
import sys
import tempfile
from typing import Callable, NoReturn

Die = Callable[[str], NoReturn]


class Failure(Exception):
    """A step failed (a tool, a missing file); the message says which and
    why. Entry points print it with their own prefix."""


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error: "<prog>: <message> (try --help)", exit 2."""

    def error(self, message):
        print(f"{self.prog}: {message} (try --help)", file=sys.stderr)
        sys.exit(2)


def dier(prefix: str, default_code: int = 2) -> Callable[..., NoReturn]:
    """die(msg, code=default_code): "<prefix>: msg" on stderr, exit code."""
    def die(msg: str, code: int = default_code) -> NoReturn:
        print(f"{prefix}: {msg}", file=sys.stderr)
        sys.exit(code)
    return die


def input_file(opt: str, path: str, die: Die, kind: str | None = None, hint: str = "") -> str:
    """`path`, given as `opt`, is a readable, non-empty file; kind "image":
    an arm64 Image, "elf": an ELF, "arm64-elf": an arm64 ELF executable.
    `hint` follows "no such file"."""
    if not path:
        die(f"{opt}: empty path")
    if not os.path.exists(path):
        die(f"{opt} {path}: no such file{hint}")
    if os.path.isdir(path):
        die(f"{opt} {path}: is a directory, not a file")
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as e:
        die(f"{opt} {path}: cannot be read: {e.strerror}")
    if not head:
        die(f"{opt} {path}: empty file")
    if kind == "image" and head[0x38:0x3C] != b"ARM\x64":
        what = "a gzip'd file (unpack it: a raw Image is wanted)" if head[:2] == b"\x1f\x8b" else \
            "no arm64 Image (no 'ARM\\x64' magic at 0x38)"
        die(f"{opt} {path}: {what}")
    if kind == "elf" and head[:4] != b"\x7fELF":
        die(f"{opt} {path}: not an ELF file")
    if kind == "arm64-elf" and (head[:4] != b"\x7fELF" or head[0x12:0x14] != b"\xb7\x00"):
        die(f"{opt} {path}: not an arm64 ELF executable")
    return path


def writable_dir(opt: str, path: str, die: Die, shown: str | None = None) -> str:
    """Directory `path`, given as `opt` (whose value was `shown`, by default
    the path), exists or is made, and takes a file."""
    shown = path if shown is None else shown
    if not path:
        die(f"{opt}: empty path")
    if os.path.exists(path) and not os.path.isdir(path):
        die(f"{opt} {shown}: {'' if shown == path else path + ' is '}not a directory")
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".probe-"):
            pass
    except OSError as e:
        die(f"{opt} {shown}: cannot write in {path}: {e.strerror}")
    return path


def output_file(opt: str, path: str, die: Die, make_parent: bool = True) -> str:
    """A file to write, given as `opt`: not a directory, its directory
    writable (made when missing, unless make_parent is False)."""
    if not path:
        die(f"{opt}: empty path")
    if os.path.isdir(path):
        die(f"{opt} {path}: is a directory (give the file to write)")
    parent = os.path.dirname(os.path.abspath(path))
    if not make_parent and not os.path.isdir(parent):
        die(f"{opt} {path}: no directory {parent}")
    writable_dir(opt, parent, die, path)
    return path


def in_range(opt: str, value: int, lo: int, hi: int, die: Die) -> int:
    if not lo <= value <= hi:
        die(f"{opt} {value}: out of range ({lo}..{hi})")
    return value


def run_tool(cmd: list[str], what: str, **kw) -> str:
    """cmd's stdout; Failure naming `what`, the command and its stderr if it fails."""
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    if r.returncode != 0:
        raise Failure(f"{what} failed ({' '.join(cmd)}):\n{r.stderr.strip()}")
    return r.stdout
