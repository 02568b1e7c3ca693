"""RFC 9113 §4.3 field blocks and RFC 7541 §4–6 decoding errors.

Every field block that cannot be decoded is a connection error COMPRESSION_ERROR (§4.3): the
dynamic table is connection state, so a server cannot just drop the one stream.
"""

from .. import frames as F
from ..registry import case


def _send_block(c, block, **kw):
    sid = c.new_stream()
    c.send(F.headers(sid, block, **kw))
    return sid


def _compression_error(c, block):
    c.start()
    _send_block(c, block)
    c.expect_connection_error(F.COMPRESSION_ERROR)


@case("hpack/7541-6.1/index-zero", "an indexed field with index 0 → COMPRESSION_ERROR")
def index_zero(c):
    _compression_error(c, c.block().indexed(0).bytes())


@case("hpack/7541-2.3.3/index-beyond-static",
      "index 62 with an empty dynamic table → COMPRESSION_ERROR")
def index_beyond_static(c):
    _compression_error(c, c.block().indexed(62).bytes())


@case("hpack/7541-2.3.3/index-far-beyond", "index 3000 → COMPRESSION_ERROR")
def index_far_beyond(c):
    _compression_error(c, c.block().indexed(3000).bytes())


@case("hpack/7541-6.2/name-index-beyond",
      "a literal whose name index is beyond both tables → COMPRESSION_ERROR")
def name_index_beyond(c):
    _compression_error(c, c.block().literal(None, "v", "without", name_index=70).bytes())


@case("hpack/7541-6.2.1/incremental-name-index-beyond",
      "a literal with incremental indexing whose name index is beyond both tables → "
      "COMPRESSION_ERROR")
def incremental_name_index_beyond(c):
    _compression_error(c, c.block().literal(None, "v", "incremental", name_index=99).bytes())


@case("hpack/7541-4.2/size-update-too-large",
      "a dynamic table size update above SETTINGS_HEADER_TABLE_SIZE → COMPRESSION_ERROR")
def size_update_too_large(c):
    c.start()
    limit = c.server_settings.get(F.HEADER_TABLE_SIZE, 4096)
    _send_block(c, F.Block().size_update(limit + 1).raw(c.block().bytes()).bytes())
    c.expect_connection_error(F.COMPRESSION_ERROR)


@case("hpack/7541-4.2/size-update-after-field",
      "a dynamic table size update after a field representation → COMPRESSION_ERROR")
def size_update_after_field(c):
    _compression_error(c, c.block().size_update(0).bytes())


@case("hpack/7541-4.2/size-update-between-fields",
      "a dynamic table size update between two field representations → COMPRESSION_ERROR")
def size_update_between(c):
    _compression_error(c, F.Block().indexed(2).size_update(100).raw(
        c.block().bytes()).bytes())


@case("hpack/7541-5.2/huffman-eos", "a Huffman string containing EOS → COMPRESSION_ERROR")
def huffman_eos(c):
    # 'a' (00011, 5 bits) + EOS (30 ones) + 5 padding ones = 40 bits.
    _compression_error(c, c.block().raw(b"\x00\x03x-h\x85" + bytes([0x1F, 0xFF, 0xFF, 0xFF, 0xFF]))
                       .bytes())


@case("hpack/7541-5.2/huffman-long-padding",
      "Huffman padding longer than 7 bits → COMPRESSION_ERROR")
def huffman_long_padding(c):
    # 'a' (00011) + 11 one bits of padding.
    _compression_error(c, c.block().raw(b"\x00\x03x-h\x82" + bytes([0x1F, 0xFF])).bytes())


@case("hpack/7541-5.2/huffman-zero-padding",
      "Huffman padding that is not the MSBs of EOS (zeros) → COMPRESSION_ERROR")
def huffman_zero_padding(c):
    # 'a' (00011) + 000 padding.
    _compression_error(c, c.block().raw(b"\x00\x03x-h\x81" + bytes([0x18])).bytes())


@case("hpack/7541-5.2/string-past-end",
      "a string length past the end of the field block → COMPRESSION_ERROR")
def string_past_end(c):
    _compression_error(c, c.block().raw(b"\x00\x05x-abc\x0aabc").bytes())


@case("hpack/7541-5.1/integer-truncated",
      "a field block ending inside a multi-octet integer → COMPRESSION_ERROR")
def integer_truncated(c):
    _compression_error(c, c.block().raw(b"\xff\x80").bytes())


@case("hpack/7541-5.1/integer-overflow",
      "an integer far beyond any implementation limit (2^70) → COMPRESSION_ERROR")
def integer_overflow(c):
    _compression_error(c, c.block().raw(b"\xff" + b"\xff" * 10 + b"\x01").bytes())


@case("hpack/7541-5.1/string-length-overflow",
      "a string length of 2^63 → COMPRESSION_ERROR")
def string_length_overflow(c):
    _compression_error(c, c.block().raw(b"\x00\x7f" + b"\xff" * 9 + b"\x01x").bytes())


@case("hpack/7541-4.4/evicted-entry",
      "referencing an entry evicted by a size update to 0 → COMPRESSION_ERROR")
def evicted_entry(c):
    c.start()
    sid = _send_block(c, c.block().literal("x-keep", "1", "incremental").bytes())
    c.expect_response(sid)
    _send_block(c, F.Block().size_update(0).size_update(4096).raw(c.block().bytes())
                .indexed(62).bytes())
    c.expect_connection_error(F.COMPRESSION_ERROR)


@case("hpack/7541-4.4/entry-larger-than-table",
      "an entry larger than the table empties it; referencing it → COMPRESSION_ERROR")
def entry_larger_than_table(c):
    c.start()
    sid = _send_block(c, F.Block().size_update(64).raw(c.block().bytes())
                      .literal("x-huge", "v" * 100, "incremental").bytes())
    c.expect_response(sid)
    _send_block(c, c.block().indexed(62).bytes())
    c.expect_connection_error(F.COMPRESSION_ERROR)


@case("hpack/4.3/error-in-continuation",
      "a decoding error in a CONTINUATION fragment → COMPRESSION_ERROR")
def error_in_continuation(c):
    c.start()
    sid = c.new_stream()
    c.send(F.headers(sid, c.block().bytes(), end_headers=False),
           F.continuation(sid, F.Block().indexed(0).bytes()))
    c.expect_connection_error(F.COMPRESSION_ERROR)


@case("hpack/4.3/error-in-trailers", "a decoding error in a trailer section → COMPRESSION_ERROR")
def error_in_trailers(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"body"), F.headers(sid, F.Block().indexed(0).bytes()))
    c.expect_connection_error(F.COMPRESSION_ERROR)


@case("hpack/4.3/decoded-after-stream-error",
      "a field block of a malformed (reset) request still updates the dynamic table")
def decoded_after_stream_error(c):
    c.start()
    sid = _send_block(c, c.block().literal("x-sync", "yes", "incremental")
                      .literal("X-Upper", "malformed").bytes())
    if c.expect_malformed(sid) in ("goaway", "closed"):
        return  # escalated to a connection error (§5.4.1): nothing left to keep in sync
    sid = _send_block(c, c.block().indexed(62).bytes())  # x-sync: yes
    c.expect_response(sid)


@case("hpack/4.3/decoded-after-refusal",
      "field blocks on streams the server refuses still keep the tables in sync (§5.1.2)")
def decoded_after_refusal(c):
    c.start()
    limit = c.server_settings.get(F.MAX_CONCURRENT_STREAMS)
    n = min(limit + 1, 1000) if limit is not None else 101
    for i in range(n):
        sid = c.new_stream()
        c.send(F.headers(sid, c.block().literal("x-n", str(i), "incremental").bytes(),
                         end_stream=False))
    c.drain(0.3)
    if c.closed:  # the server escalated the refusal to a connection error (§5.4.1)
        if c.opts.strict or not any("GOAWAY" in l and ("PROTOCOL_ERROR" in l or
                                                       "REFUSED_STREAM" in l) for l in c.log):
            c.fail("the connection ended instead of refusing one stream")
        return
    for s in range(1, c.next_stream_id, 2):
        if s not in c.reset_streams:
            c.send(F.rst_stream(s, F.CANCEL))
    sid = _send_block(c, c.block().indexed(62).bytes())  # the newest entry: x-n: n-1
    c.expect_response(sid)
