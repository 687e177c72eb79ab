"""Reads magicboot's `MAGICBOOT-HANDOVER {json}` line back out of a serial log.

Under Xen the domU's vpl011 output reaches the log as `(XEN) DOM1: ...` lines,
and Xen splits every line longer than ~126 characters, prefixing each piece
again. The JSON is reassembled by stripping that prefix and appending the
following pieces of the same domain until the braces balance (braces inside
JSON strings do not count). Lines of other origin (Xen's own `(XEN) d1v0:`
messages) may interleave and are skipped. On bare QEMU there is no prefix and
no split.

Under xl (tools/qemu/run xl) the guest's consoles reach the log through
dom0, whose console Xen prints without a prefix: dom0's /init relays each
guest line whole as `[guest] LINE` (PV console) or `[guest-vuart] LINE`
(vpl011), and prints its own `MAGICBOOT-XL {json}` lines. Xen's own
`(XEN) ...` lines may land in the middle of one of dom0's lines (dom0's
console writes arrive in pieces); `dom0_lines` cuts them out and joins the
pieces again before anything is looked for (relay=True).
"""
import json
import re

MARKER = "MAGICBOOT-HANDOVER "
XL_MARKER = "MAGICBOOT-XL "
_PREFIX = re.compile(r"^\(XEN\) (DOM\d+): ")
RELAY_PREFIX = re.compile(r"^\[(guest(?:-vuart)?)\] ")
_XEN_LINE = "(XEN) "


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


def dom0_lines(log_text):
    """dom0's console output as dom0 wrote it: Xen's `(XEN) ...` lines taken
    out, also where one interrupted a line of dom0's (the rest of that line
    follows Xen's)."""
    out = []
    pending = None  # a dom0 line cut short by Xen's output
    for line in log_text.replace("\r", "").split("\n"):
        at = line.find(_XEN_LINE)
        if at == 0:
            continue  # Xen's own line (pending, if any, goes on after it)
        if at > 0:
            # Xen interrupted this line; the rest of it comes on a later line.
            pending = (pending or "") + line[:at]
            continue
        if pending is not None:
            line, pending = pending + line, None
        out.append(line)
    if pending is not None:
        out.append(pending)
    return out


def extract_relayed(log_text, marker=MARKER):
    """xl: every JSON after `marker` in a relayed guest line, in order, as
    (origin, parsed): origin "guest" (PV console) or "guest-vuart"."""
    found = []
    for n, line in enumerate(dom0_lines(log_text)):
        m = RELAY_PREFIX.match(line)
        if not m:
            continue
        body = line[m.end():]
        at = body.find(marker)
        if at < 0:
            continue
        found.append((m.group(1), _parse_one(body[at + len(marker):], n + 1)))
    return found


def _parse_one(text, line_no):
    depth, _, _, end = _balance(text, 0, False, False)
    if end is None:
        raise HandoverError(f"JSON at dom0 line {line_no} never closes (braces open: {depth}): {text[:200]}")
    try:
        return json.loads(text[:end])
    except json.JSONDecodeError as e:
        raise HandoverError(f"JSON at dom0 line {line_no} does not parse ({e}): {text[:200]}")


def extract_all(log_text, marker=MARKER, relay=False):
    """Every handover JSON in the log, parsed, in order. Raises HandoverError
    for a report that never closes or does not parse. relay=True: the JSON
    after `marker` in dom0's own lines (xl: MAGICBOOT-XL)."""
    if relay:
        found = []
        for n, line in enumerate(dom0_lines(log_text)):
            if line.startswith(marker):
                found.append(_parse_one(line[len(marker):], n + 1))
        return found
    lines = log_text.replace("\r", "").split("\n")
    found = []
    i = 0
    while i < len(lines):
        line = lines[i]
        m = _PREFIX.match(line)
        origin = m.group(1) if m else None
        body = line[m.end():] if m else line
        at = body.find(marker)
        if at < 0:
            i += 1
            continue
        start_line = i + 1
        piece = body[at + len(marker):]
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
