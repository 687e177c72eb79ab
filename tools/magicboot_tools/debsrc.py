"""Building from a Debian source package, as tools/build-xen (Xen) and
tools/build-peers (U-Boot) do: named steps with a log, a private apt
configuration for `apt-get source` (a deb-src list and its own state and
cache directories under $MAGICBOOT_CACHE; /etc/apt is never touched), a
cache keyed by the hash of the inputs with a stable link to the result, and
one build at a time.

    b = debsrc.Builder("build-peers", out_root)
    key = b.hash_inputs(script=__file__, parts=[...], files=[...])
    ...
    dsc = b.fetch_source("u-boot", "2023.01+dfsg-2+deb12u3", log)
"""
import fcntl
import glob
import hashlib
import os
import shutil
import subprocess
import sys
import time
from typing import NoReturn

from . import paths

MIRROR = "http://deb.debian.org/debian"
SUITE = "bookworm"
CROSS = "aarch64-linux-gnu-"


def compiler_version(cross: str = CROSS) -> str | None:
    """The first line of `<cross>gcc --version`, None when there is none."""
    try:
        return subprocess.run([cross + "gcc", "--version"], stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True).stdout.split("\n")[0]
    except OSError:
        return None


def src_cache(package: str) -> str:
    """Where one source package's private apt state and download live:
    $MAGICBOOT_CACHE/PACKAGE-src (build-xen's xen-src before there was a
    second one)."""
    return os.path.join(paths.CACHE, f"{package}-src")


def apt_opts(cache: str) -> list[str]:
    """apt-get options that read only cache/sources.list and keep apt's lists
    and archives in cache."""
    return ["-o", f"Dir::Etc::sourcelist={os.path.join(cache, 'sources.list')}",
            "-o", "Dir::Etc::sourceparts=/nonexistent",
            "-o", f"Dir::State::Lists={os.path.join(cache, 'lists')}",
            "-o", f"Dir::Cache={os.path.join(cache, 'apt-cache')}",
            "-o", "APT::Sandbox::User=root"]


class Builder:
    """One tool's build steps: progress lines "<name>: ..." (unless quiet),
    a failure that names its step and shows the tail of the log, the cache
    under out_root (HASH/ per result, links to them, a lock)."""

    def __init__(self, name: str, out_root: str):
        self.name = name
        self.out_root = out_root
        self.quiet = False

    # --- output --------------------------------------------------------------
    def say(self, msg: str) -> None:
        if not self.quiet:
            print(f"{self.name}: {msg}", flush=True)

    def die(self, msg: str, code: int = 1) -> NoReturn:
        print(f"{self.name}: {msg}", file=sys.stderr, flush=True)
        sys.exit(code)

    def fail_step(self, step: str, log: str, detail: str = "") -> NoReturn:
        tail = ""
        try:
            with open(log, errors="replace") as f:
                tail = "".join(f.readlines()[-30:])
        except OSError:
            pass
        self.die(f"step '{step}' failed{': ' + detail if detail else ''}\n"
                 f"--- last lines of {log} ---\n{tail.rstrip()}\n---")

    def run_step(self, step: str, cmd: list[str], log: str, cwd: str | None = None,
                 env: dict | None = None) -> None:
        """Runs cmd with its output appended to log; on failure, stops naming the step."""
        with open(log, "a") as f:
            f.write(f"\n$ {' '.join(cmd)}\n")
            f.flush()
            rc = subprocess.run(cmd, cwd=cwd, env=env, stdout=f, stderr=subprocess.STDOUT).returncode
        if rc != 0:
            self.fail_step(step, log, f"{cmd[0]} exited {rc}")

    # --- inputs and cache ----------------------------------------------------
    def compiler(self, cross: str = CROSS) -> str:
        v = compiler_version(cross)
        if v is None:
            self.die(f"{cross}gcc not found (run tools/setup)")
        return v

    @staticmethod
    def hash_inputs(parts: list[tuple[str, bytes]], files: list[str]) -> str:
        """16 hex digits over labelled parts and files (labelled by their
        path relative to the source tree); each length-prefixed."""
        h = hashlib.sha256()

        def add(label, data):
            h.update(f"{label} {len(data)}\n".encode())
            h.update(data)

        for label, data in parts:
            add(label, data)
        for p in files:
            with open(p, "rb") as f:
                add(os.path.relpath(p, paths.ROOT), f.read())
        return h.hexdigest()[:16]

    def link(self, link_name: str, target_dir: str, filename: str) -> str:
        """out_root/link_name -> HASH/filename, replaced atomically."""
        name = os.path.join(self.out_root, link_name)
        tmp = f"{name}.tmp{os.getpid()}"
        os.symlink(os.path.join(os.path.basename(target_dir), filename), tmp)
        os.replace(tmp, name)
        return name

    def prune(self, link_glob: str) -> None:
        """Removes results no link matching link_glob points to any more (older
        inputs) and what failed builds left. Call with the lock held."""
        keep = {os.path.dirname(os.readlink(link)) for link in glob.glob(os.path.join(self.out_root, link_glob))
                if os.path.islink(link)}
        for d in glob.glob(os.path.join(self.out_root, "*")):
            name = os.path.basename(d)
            key = name.split(".")[0]
            if len(key) == 16 and all(c in "0123456789abcdef" for c in key) and name not in keep:
                shutil.rmtree(d, ignore_errors=True)

    def lock(self, tool: str):
        """One build at a time (two runs of the same inputs would share a
        work directory); whoever waited finds the other's result cached. The
        returned file holds the lock until closed."""
        os.makedirs(self.out_root, exist_ok=True)
        f = open(os.path.join(self.out_root, ".lock"), "w")
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self.say(f"waiting for another {tool} to finish")
            fcntl.flock(f, fcntl.LOCK_EX)
        return f

    # --- steps ---------------------------------------------------------------
    def fetch_source(self, package: str, version: str, log: str, suites: tuple[str, ...] = (SUITE,)) -> str:
        """Step 'source': the .dsc's path, downloading PACKAGE=VERSION once with
        apt-get source --download-only and the private configuration in
        src_cache(package) (deb-src lines for `suites`, main)."""
        cache = src_cache(package)
        pkg_dir = os.path.join(cache, "pkg")
        upstream_version = version.split(":")[-1]
        dsc = os.path.join(pkg_dir, f"{package}_{upstream_version}.dsc")
        if os.path.isfile(dsc):
            self.say(f"source: {package} {version} already downloaded")
            return dsc
        t = time.monotonic()
        self.say(f"source: apt-get source --download-only {package}={version} (private apt config in {cache})")
        for d in ("lists/partial", "apt-cache/archives/partial", "pkg"):
            os.makedirs(os.path.join(cache, d), exist_ok=True)
        with open(os.path.join(cache, "sources.list"), "w") as f:
            for s in suites:
                f.write(f"deb-src {MIRROR} {s} main\n")
        self.run_step("source (apt-get update)", ["apt-get"] + apt_opts(cache) + ["-q", "update"], log)
        self.run_step("source (apt-get source)", ["apt-get"] + apt_opts(cache) +
                      ["-q", "source", "--download-only", f"{package}={version}"], log, cwd=pkg_dir)
        if not os.path.isfile(dsc):
            self.fail_step("source", log, f"{dsc} was not downloaded")
        self.say(f"source: downloaded in {time.monotonic() - t:.1f} s")
        return dsc

    def extract(self, dsc: str, src: str, log: str) -> None:
        """Step 'extract': dpkg-source -x (Debian's own patches applied)."""
        t = time.monotonic()
        self.say(f"extract: dpkg-source -x {os.path.basename(dsc)} (Debian's patches)")
        self.run_step("extract", ["dpkg-source", "--no-copy", "-x", dsc, src], log)
        self.say(f"extract: {time.monotonic() - t:.1f} s")

    def apply(self, patch: str, src: str, work: str, log: str) -> None:
        """Step 'patch': git apply one patch of ours to the extracted source."""
        rel = os.path.relpath(patch, paths.ROOT)
        self.say(f"patch: {rel}")
        # The ceiling keeps git from taking an enclosing repository (a cache
        # inside a work tree) as the root the paths are relative to.
        self.run_step(f"patch ({rel})", ["git", "apply", "--whitespace=error-all", "-p1", patch], log, cwd=src,
                      env=dict(os.environ, GIT_CEILING_DIRECTORIES=work))


def series(directory: str) -> list[str]:
    """The patches of a git format-patch series in directory, in order
    (0000-cover-letter.patch is the mail, not a patch)."""
    return sorted(p for p in glob.glob(os.path.join(directory, "*.patch"))
                  if not os.path.basename(p).startswith("0000-"))
