"""Generic part: requests the server must answer correctly, using every frame type it must
accept, padding, CONTINUATION, the dynamic table across requests, PING and priority signals."""

from .. import frames as F
from ..registry import case


@case("generic/get", "GET → 200 with the handler's body")
def get(c):
    c.start()
    sid = c.request()
    c.expect_response(sid)


@case("generic/post-one-data", "POST with the body in one DATA frame → 200")
def post_one(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"hello world", end_stream=True))
    c.expect_response(sid)


@case("generic/post-content-length", "POST with content-length and a body in three frames → 200")
def post_cl(c):
    c.start()
    sid = c.request("POST", end_stream=False, extra=[("content-length", "9")])
    c.send(F.data(sid, b"abc"), F.data(sid, b"def"), F.data(sid, b"ghi", end_stream=True))
    c.expect_response(sid)


@case("generic/post-1mib", "POST of 1 MiB through the server's flow-control windows → 200")
def post_big(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send_body(sid, bytes(range(256)) * 4096)
    c.expect_response(sid, timeout=10)


@case("generic/post-every-frame-type", "POST interleaving PRIORITY, WINDOW_UPDATE, PING, "
      "SETTINGS, an unknown frame and padded DATA → 200")
def post_every(c):
    c.start()
    sid = c.request("POST", end_stream=False, pad=3, prio=(0, 16, False))
    c.send(F.priority(sid, 0, 32), F.data(sid, b"a", pad=4), F.window_update(0, 100),
           F.window_update(sid, 100), F.ping(b"every!!!"), c.our_settings([]),
           F.raw(F.UNKNOWN_TYPE, 0, sid, b"?"), F.data(sid, b"b"),
           F.headers(sid, c.encode([("x-trailer", "t")])))
    c.expect_response(sid)


@case("generic/padded-everything", "HEADERS and DATA padded with 255 octets → 200")
def padded_max(c):
    c.start()
    sid = c.request("POST", end_stream=False, pad=255)
    c.send(F.data(sid, b"body", end_stream=True, pad=255))
    c.expect_response(sid)


@case("generic/sequential-10", "10 requests one after another on one connection → all 200")
def sequential(c):
    c.start()
    for _ in range(10):
        sid = c.request()
        c.expect_response(sid)


@case("generic/concurrent-20", "20 concurrent requests → all 200")
def concurrent(c):
    c.start()
    sids = [c.request() for _ in range(20)]
    for sid in sids:
        c.expect_response(sid, timeout=4)


@case("generic/concurrent-posts", "10 concurrent POSTs with interleaved DATA → all 200")
def concurrent_posts(c):
    c.start()
    sids = [c.request("POST", end_stream=False) for _ in range(10)]
    for i in range(3):
        c.send(*[F.data(s, b"chunk%d" % i) for s in sids])
    c.send(*[F.data(s, b"", end_stream=True) for s in reversed(sids)])
    for sid in sids:
        c.expect_response(sid, timeout=4)


@case("generic/dynamic-table-reuse", "requests reusing the dynamic table (indexed fields from "
      "earlier requests) → all 200")
def dynamic_reuse(c):
    c.start()
    extra = [("user-agent", "h2conf/1.0"), ("x-custom", "custom-value")]
    for _ in range(5):
        sid = c.request(extra=extra)  # hpack.Encoder indexes, then references
        c.expect_response(sid)


@case("generic/dynamic-table-by-hand", "a request made only of dynamic-table references → 200")
def dynamic_by_hand(c):
    c.start()
    sid = c.new_stream()
    b = F.Block()
    fields = c.request_fields()
    for n, v in fields:
        b.literal(n, v, "incremental")
    c.send(F.headers(sid, b.bytes()))
    c.expect_response(sid)
    sid = c.new_stream()
    # Inserted in order, so the newest (the last field) is index 62.
    c.send(F.headers(sid, F.Block().indexed(65).indexed(64).indexed(63).indexed(62).bytes()))
    c.expect_response(sid)


@case("generic/dynamic-table-eviction", "a small dynamic table (size update to 100) evicting "
      "entries while requests go on → 200 each")
def eviction(c):
    c.start()
    for i in range(4):
        sid = c.new_stream()
        b = F.Block()
        if i == 0:
            b.size_update(100)
        b.raw(c.block().bytes()).literal("x-n", "value-%d" % i, "incremental")
        if i:
            b.indexed(62)  # the entry just inserted (older ones are evicted)
        c.send(F.headers(sid, b.bytes()))
        c.expect_response(sid)


@case("generic/size-update-zero-then-back", "size updates to 0 and back to 4096 at the start of "
      "a block → 200")
def size_update_zero(c):
    c.start()
    sid = c.new_stream()
    c.send(F.headers(sid, F.Block().size_update(0).size_update(4096).raw(c.block().bytes())
                     .bytes()))
    c.expect_response(sid)


@case("generic/never-indexed", "never-indexed and without-indexing literals → 200")
def never_indexed(c):
    c.start()
    sid = c.new_stream()
    b = c.block().literal("authorization", "secret", "never").literal(None, "x", "never",
                                                                       name_index=32)
    c.send(F.headers(sid, b.bytes()))
    c.expect_response(sid)


@case("generic/huffman", "Huffman-coded names and values → 200")
def huffman(c):
    c.start()
    sid = c.new_stream()
    b = F.Block()
    for n, v in c.request_fields(extra=[("x-huffman", "compressed value")]):
        b.literal(n, v, huffman=True)
    c.send(F.headers(sid, b.bytes()))
    c.expect_response(sid)


@case("generic/static-table", "pseudo-headers from the static table (:method GET = 2, :scheme = "
      "6/7) → 200")
def static_table(c):
    c.start()
    sid = c.new_stream()
    b = F.Block().indexed(2).indexed(7 if c.opts.tls else 6).literal(None, c.opts.path,
                                                                      name_index=4)
    b.literal(None, c.opts.authority, name_index=1)
    c.send(F.headers(sid, b.bytes()))
    c.expect_response(sid)


@case("generic/large-header-continuation", "a 12 KB field value split over CONTINUATION → 200")
def large_header(c):
    c.start()
    limit = c.server_settings.get(F.MAX_HEADER_LIST_SIZE, 1 << 20)
    size = max(100, min(12000, limit - 500))
    sid = c.new_stream()
    b = c.block().literal("x-large", "L" * size).bytes()
    step = 4000
    parts = [b[i:i + step] for i in range(0, len(b), step)]
    c.send(F.headers(sid, parts[0], end_headers=len(parts) == 1),
           *[F.continuation(sid, p, end_headers=(i == len(parts) - 2))
             for i, p in enumerate(parts[1:])])
    c.expect_response(sid)


@case("generic/many-fields", "a request with 100 regular fields → 200")
def many_fields(c):
    c.start()
    sid = c.request(extra=[("x-field-%03d" % i, "v%d" % i) for i in range(100)])
    c.expect_response(sid)


@case("generic/ping-between-requests", "PINGs between requests are answered; requests → 200")
def ping_between(c):
    c.start()
    for i in range(3):
        c.send(F.ping(b"between%d" % i))
        c.expect_ping_ack(b"between%d" % i)
        sid = c.request()
        c.expect_response(sid)


@case("generic/priority-signals", "RFC 7540 PRIORITY frames, a PRIORITY flag, a Priority header "
      "and PRIORITY_UPDATE together → 200")
def priority_signals(c):
    c.start()
    c.send(F.priority(1, 0, 100), F.priority_update(1, b"u=1"))
    sid = c.request(sid=1, prio=(0, 200, False), extra=[("priority", "u=1")])
    c.expect_response(sid)


@case("generic/upload-with-trailers", "POST with body and trailers → 200")
def upload_trailers(c):
    c.start()
    sid = c.request("POST", end_stream=False, extra=[("te", "trailers")])
    c.send(F.data(sid, b"x" * 1000), F.headers(sid, c.encode([("x-digest", "abc")])))
    c.expect_response(sid)


@case("generic/response-decodes-across-requests", "the server's own HPACK state stays "
      "consistent: 10 responses decode (RFC 7541 §2.3)")
def responses_decode(c):
    c.start()
    sids = [c.request() for _ in range(10)]
    for sid in sids:
        c.expect_response(sid, timeout=4)


@case("generic/large-window", "a client window of 2^31-1 (connection and stream) → 200")
def large_window(c):
    c.start([(F.ENABLE_PUSH, 0), (F.INITIAL_WINDOW_SIZE, F.MAX_WINDOW)])
    c.send(F.window_update(0, F.MAX_WINDOW - 65535))
    c.recv_conn_window = F.MAX_WINDOW
    sid = c.request()
    c.expect_response(sid)


@case("generic/big-frames", "SETTINGS_MAX_FRAME_SIZE 2^24-1 from the client: the server may "
      "send larger frames, and the response completes")
def big_frames(c):
    c.start([(F.ENABLE_PUSH, 0), (F.MAX_FRAME_SIZE, 2**24 - 1)])
    sid = c.request()
    c.expect_response(sid)
