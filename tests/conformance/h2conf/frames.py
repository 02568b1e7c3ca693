"""Frame and field-block builders.

Well-formed frames come from hyperframe; `raw()` writes any bytes at all, which is what the error
cases need (wrong lengths, wrong stream ids, bad padding). `Block` writes HPACK representations
by hand (RFC 7541 §6) so a case can put exactly the octets it wants into a field block.
"""

import struct

from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hyperframe.frame import (ContinuationFrame, DataFrame, HeadersFrame, PingFrame,
                              PriorityFrame, RstStreamFrame, SettingsFrame)

# Frame types (RFC 9113 §6, RFC 9218 §7.1, RFC 7838 §4).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
ALTSVC = 0x0A
PRIORITY_UPDATE = 0x10
UNKNOWN_TYPE = 0xEE

# Flags (RFC 9113 §6).
END_STREAM = 0x1
ACK = 0x1
END_HEADERS = 0x4
PADDED = 0x8
PRIORITY_FLAG = 0x20

# Error codes (RFC 9113 §7).
ERRORS = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM", 0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM", 0xC: "INADEQUATE_SECURITY", 0xD: "HTTP_1_1_REQUIRED",
}
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR, SETTINGS_TIMEOUT, STREAM_CLOSED, \
    FRAME_SIZE_ERROR, REFUSED_STREAM, CANCEL, COMPRESSION_ERROR = range(10)


def error_name(code):
    return ERRORS.get(code, "0x%x" % code)


# Settings (RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1).
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS, INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, \
    MAX_HEADER_LIST_SIZE = range(1, 7)
ENABLE_CONNECT_PROTOCOL = 0x8
NO_RFC7540_PRIORITIES = 0x9

MAX_WINDOW = 2**31 - 1
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def raw(ftype, flags, stream_id, payload=b"", length=None):
    """Any frame, byte for byte: `length` overrides the header's length field."""
    n = len(payload) if length is None else length
    return struct.pack(">I", n)[1:] + struct.pack(">BBI", ftype, flags, stream_id) + payload


def settings_payload(pairs):
    return b"".join(struct.pack(">HI", k, v) for k, v in pairs)


def settings(pairs=(), stream_id=0):
    return raw(SETTINGS, 0, stream_id, settings_payload(pairs))


def settings_ack():
    f = SettingsFrame(0)
    f.flags.add("ACK")
    return f.serialize()


def ping(data=b"h2conf!!", ack=False):
    f = PingFrame(0)
    f.opaque_data = data
    if ack:
        f.flags.add("ACK")
    return f.serialize()


def window_update(stream_id, increment):
    return raw(WINDOW_UPDATE, 0, stream_id, struct.pack(">I", increment))


def rst_stream(stream_id, code=CANCEL):
    return RstStreamFrame(stream_id, error_code=code).serialize()


def goaway(last_stream_id=0, code=NO_ERROR, debug=b"", stream_id=0):
    return raw(GOAWAY, 0, stream_id, struct.pack(">II", last_stream_id, code) + debug)


def priority(stream_id, depends_on=0, weight=15, exclusive=False):
    return PriorityFrame(stream_id, depends_on=depends_on, stream_weight=weight,
                         exclusive=exclusive).serialize()


def priority_payload(depends_on=0, weight=15, exclusive=False):
    return struct.pack(">IB", depends_on | (0x80000000 if exclusive else 0), weight)


def data(stream_id, body=b"", end_stream=False, pad=None):
    f = DataFrame(stream_id, body)
    if end_stream:
        f.flags.add("END_STREAM")
    if pad is not None:
        f.flags.add("PADDED")
        f.pad_length = pad
    return f.serialize()


def headers(stream_id, block, end_stream=True, end_headers=True, pad=None, prio=None):
    """`prio` is (depends_on, weight, exclusive) for the PRIORITY flag (RFC 9113 §6.2)."""
    f = HeadersFrame(stream_id, block)
    if end_stream:
        f.flags.add("END_STREAM")
    if end_headers:
        f.flags.add("END_HEADERS")
    if pad is not None:
        f.flags.add("PADDED")
        f.pad_length = pad
    if prio is not None:
        f.flags.add("PRIORITY")
        f.depends_on, f.stream_weight, f.exclusive = prio
    return f.serialize()


def continuation(stream_id, block, end_headers=True):
    f = ContinuationFrame(stream_id, block)
    if end_headers:
        f.flags.add("END_HEADERS")
    return f.serialize()


def priority_update(prioritized_stream_id, value=b"u=1", stream_id=0):
    """RFC 9218 §7.1 PRIORITY_UPDATE."""
    return raw(PRIORITY_UPDATE, 0, stream_id, struct.pack(">I", prioritized_stream_id) + value)


def hpack_int(value, prefix_bits, first_byte_flags=0):
    """RFC 7541 §5.1 integer representation."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first_byte_flags | value])
    out = [first_byte_flags | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_huffman = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)


def hpack_str(s, huffman=False):
    """RFC 7541 §5.2 string literal."""
    b = s.encode("latin-1") if isinstance(s, str) else s
    if huffman:
        b = _huffman.encode(b)
        return hpack_int(len(b), 7, 0x80) + b
    return hpack_int(len(b), 7) + b


class Block:
    """A field block written representation by representation (RFC 7541 §6)."""

    def __init__(self):
        self.out = bytearray()

    def indexed(self, index):  # §6.1
        self.out += hpack_int(index, 7, 0x80)
        return self

    def literal(self, name, value, mode="without", name_index=None, huffman=False):
        """mode: 'incremental' (§6.2.1), 'without' (§6.2.2) or 'never' (§6.2.3)."""
        prefix, flags = {"incremental": (6, 0x40), "without": (4, 0x00),
                         "never": (4, 0x10)}[mode]
        if name_index is not None:
            self.out += hpack_int(name_index, prefix, flags)
        else:
            self.out += bytes([flags]) + hpack_str(name, huffman)
        self.out += hpack_str(value, huffman)
        return self

    def size_update(self, size):  # §6.3
        self.out += hpack_int(size, 5, 0x20)
        return self

    def raw(self, b):
        self.out += b
        return self

    def request(self, method="GET", path="/", authority="localhost", scheme="http"):
        """Request pseudo-header fields as literals without indexing (no table state)."""
        for n, v in ((":method", method), (":scheme", scheme), (":path", path),
                     (":authority", authority)):
            if v is not None:
                self.literal(n, v)
        return self

    def bytes(self):
        return bytes(self.out)
