"""Reads magicboot's `MAGICBOOT-HANDOVER {json}` line back out of a serial log.

Under Xen the domU's vpl011 output reaches the log as `(XEN) DOM1: ...` lines,
and Xen splits every line longer than ~126 characters, prefixing each piece
again. The JSON is reassembled by stripping that prefix and appending the
following pieces of the same domain until the braces balance (braces inside
JSON strings do not count). Lines of other origin (Xen's own `(XEN) d1v0:`
messages) may interleave and are skipped. On bare QEMU there is no prefix and
no split.
"""
import json
import re

MARKER = "MAGICBOOT-HANDOVER "
_PREFIX = re.compile(r"^\(XEN\) (DOM\d+): ")


class HandoverError(Exception):
    pass


def _balance(text, depth, in_string, escaped):
    """Scans text; returns (depth, in_string, escaped, index just past the
    closing brace or None)."""
    for i, c in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            in_string = True
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return depth, in_string, escaped, i + 1
    return depth, in_string, escaped, None


def extract_all(log_text):
    """Every handover JSON in the log, parsed, in order. Raises HandoverError
    for a report that never closes or does not parse."""
    lines = log_text.replace("\r", "").split("\n")
    found = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _PREFIX.match(line)
        origin = m.group(1) if m else None
        body = line[m.end():] if m else line
        at = body.find(MARKER)
        if at < 0:
            i += 1
            continue
        start_line = i + 1
        piece = body[at + len(MARKER):]
        text = ""
        depth, in_string, escaped = 0, False, False
        while True:
            depth, in_string, escaped, end = _balance(piece, depth, in_string, escaped)
            if end is not None:
                text += piece[:end]
                break
            text += piece
            # The next piece from the same origin.
            i += 1
            while i < len(lines):
                m = _PREFIX.match(lines[i])
                if origin is None or (m and m.group(1) == origin):
                    break
                i += 1
            if i >= len(lines):
                raise HandoverError(f"MAGICBOOT-HANDOVER at log line {start_line} never closes "
                                    f"(braces open: {depth}); got {len(text)} chars")
            piece = lines[i][m.end():] if (origin is not None and m) else lines[i]
        try:
            found.append(json.loads(text))
        except json.JSONDecodeError as e:
            raise HandoverError(f"MAGICBOOT-HANDOVER at log line {start_line} is not JSON ({e}): {text[:200]}")
        i += 1
    return found


def extract(log_text):
    """The last handover JSON in the log; HandoverError if there is none."""
    all_ = extract_all(log_text)
    if not all_:
        raise HandoverError("no MAGICBOOT-HANDOVER line in the log")
    return all_[-1]
