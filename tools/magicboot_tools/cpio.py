"""cpio "newc" archives as the kernel's initramfs unpacker reads them (SVR4,
no CRC). Written by hand, so no root, no cpio tool and no host file modes
matter: owners and times are 0, the output is reproducible."""
import io
import posixpath


class Newc:
    """Entries in the order added; a name added twice is kept once, and a
    file's or link's missing parent directories come first."""

    def __init__(self) -> None:
        self.out = io.BytesIO()
        self.ino = 1
        self.names: set[str] = set()

    def _entry(self, name: str, mode: int, data: bytes = b"", rdev: tuple[int, int] = (0, 0),
               nlink: int = 1) -> None:
        if name in self.names:
            return
        self.names.add(name)
        name_b = name.encode() + b"\0"
        fields = [self.ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
        self.ino += 1
        self.out.write(b"070701" + b"".join(b"%08X" % v for v in fields))
        self.out.write(name_b)
        self._pad()
        self.out.write(data)
        self._pad()

    def _pad(self) -> None:
        self.out.write(b"\0" * (-self.out.tell() % 4))

    def dirs(self, path: str) -> None:
        """path and each directory above it ("a/b": "a", then "a/b")."""
        parts = path.split("/")
        for i in range(1, len(parts) + 1):
            self._entry("/".join(parts[:i]), 0o040755, nlink=2)

    def _parent(self, name: str) -> None:
        if "/" in name:
            self.dirs(posixpath.dirname(name))

    def file(self, name: str, data: bytes, perm: int = 0o644) -> None:
        self._parent(name)
        self._entry(name, 0o100000 | perm, data)

    def symlink(self, name: str, target: str) -> None:
        self._parent(name)
        self._entry(name, 0o120777, target.encode())

    def chardev(self, name: str, major: int, minor: int, perm: int = 0o600) -> None:
        self._entry(name, 0o020000 | perm, rdev=(major, minor))

    def finish(self) -> bytes:
        self._entry("TRAILER!!!", 0)
        return self.out.getvalue()
