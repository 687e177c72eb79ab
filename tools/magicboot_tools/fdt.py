"""The tools' one reader of flattened device trees (devicetree spec v0.4,
ch. 5) and of a FIT, which is one. It reads the structure block directly,
because dtc/fdtget print a 26 MiB property as text."""
import struct
from collections.abc import Iterator

MAGIC = 0xD00DFEED
HEADER = struct.Struct(">IIIIIIIIII")  # magic .. size_dt_struct
BEGIN_NODE, END_NODE, PROP, NOP, END = 1, 2, 3, 4, 9


class FdtError(ValueError):
    """Not a device tree, or a damaged one; the message says where."""


def _cstring(blob: bytes, at: int, what: str) -> str:
    end = blob.find(b"\0", at)
    if at >= len(blob) or end < 0:
        raise FdtError(f"{what} at {at:#x} runs past the end of the blob")
    return blob[at:end].decode(errors="replace")


def properties(blob: bytes) -> Iterator[tuple[str, str, bytes]]:
    """(node path, property name, value) for every property, in order; the
    root's path is "/". FdtError for a blob that is no DT or is damaged."""
    if len(blob) < HEADER.size:
        raise FdtError(f"{len(blob)} bytes: too short for a device tree header")
    magic, total, off_struct, off_strings, _, _, _, _, _, size_struct = HEADER.unpack_from(blob)
    if magic != MAGIC:
        raise FdtError(f"magic {magic:#010x}, not a device tree ({MAGIC:#x})")
    if total > len(blob) or off_struct >= total or off_strings > total:
        raise FdtError(f"header says {total} bytes (structure at {off_struct:#x}, strings at "
                       f"{off_strings:#x}) but the blob has {len(blob)}")
    limit = min(total, off_struct + size_struct) if size_struct else total
    path: list[str] = []
    pos = off_struct
    while True:
        if pos + 4 > limit:
            raise FdtError(f"structure block ends at {pos:#x} without FDT_END")
        tag = struct.unpack_from(">I", blob, pos)[0]
        pos += 4
        if tag == BEGIN_NODE:
            name = _cstring(blob, pos, "node name")
            path.append(name)
            pos = (pos + len(name.encode()) + 1 + 3) & ~3
        elif tag == END_NODE:
            if not path:
                raise FdtError(f"FDT_END_NODE at {pos - 4:#x} closes no node")
            path.pop()
        elif tag == PROP:
            if pos + 8 > limit:
                raise FdtError(f"property header at {pos:#x} runs past the structure block")
            length, nameoff = struct.unpack_from(">II", blob, pos)
            if pos + 8 + length > limit:
                raise FdtError(f"property of {length} bytes at {pos:#x} runs past the structure block")
            name = _cstring(blob, off_strings + nameoff, "property name")
            yield "/".join(path) or "/", name, blob[pos + 8:pos + 8 + length]
            pos = (pos + 8 + length + 3) & ~3
        elif tag == NOP:
            continue
        elif tag == END:
            if path:
                raise FdtError(f"FDT_END at {pos - 4:#x} with {len(path)} node(s) open")
            return
        else:
            raise FdtError(f"unknown tag {tag:#x} at {pos - 4:#x}")


def property_map(blob: bytes) -> dict[tuple[str, str], bytes]:
    """{(node path, property name): value}."""
    return {(p, n): v for p, n, v in properties(blob)}


def string(value: bytes | None) -> str:
    """A string property's text (without its NUL); "" for None."""
    return (value or b"").rstrip(b"\0").decode()


def fit_default_config(blob: bytes) -> str:
    """The name of a FIT's default configuration; FdtError if it has none."""
    conf = string(property_map(blob).get(("/configurations", "default")))
    if not conf:
        raise FdtError("the FIT has no default configuration")
    return conf


def fit_kernel_data(blob: bytes) -> bytes:
    """The embedded data of the kernel of a FIT's default configuration."""
    props = property_map(blob)
    conf = string(props.get(("/configurations", "default")))
    kernel = string(props.get((f"/configurations/{conf}", "kernel")))
    data = props.get((f"/images/{kernel}", "data"))
    if data is None:
        raise FdtError(f"no embedded data for the default configuration's kernel ({conf!r} -> {kernel!r})")
    return data
