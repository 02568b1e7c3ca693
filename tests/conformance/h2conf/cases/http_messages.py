"""RFC 9113 §8.1–§8.5: HTTP message rules. A malformed request is a stream error PROTOCOL_ERROR
(§8.1.1); `expect_malformed` also accepts a 4xx response outside --strict."""

from .. import frames as F
from ..registry import case


def _malformed(cid, requirement, build, end_stream=True):
    """Registers a case sending the field block `build(c)` and expecting a malformed verdict."""
    @case(cid, requirement)
    def run(c):
        c.start()
        sid = c.new_stream()
        c.send(F.headers(sid, build(c), end_stream=end_stream))
        c.expect_malformed(sid)
    return run


def _ok(cid, requirement, build, status=200):
    @case(cid, requirement)
    def run(c):
        c.start()
        sid = c.new_stream()
        c.send(F.headers(sid, build(c)))
        c.expect_response(sid, status=status)
    return run


def _pseudo(c, order=(":method", ":scheme", ":path", ":authority"), **override):
    """A block with the request pseudo-header fields in `order`; override values (None drops)."""
    values = {":method": "GET", ":scheme": c.opts.scheme, ":path": c.opts.path,
              ":authority": c.opts.authority}
    values.update({k.replace("_", ":", 1) if k.startswith("_") else k: v
                   for k, v in override.items()})
    b = F.Block()
    for name in order:
        if values.get(name) is not None:
            b.literal(name, values[name])
    return b


# §8.2.1 field validity
_malformed("8.2.1/uppercase-name", "a field name with uppercase letters → malformed",
           lambda c: c.block().literal("X-Upper", "1").bytes())
_malformed("8.2.1/space-in-name", "a field name containing SP → malformed",
           lambda c: c.block().literal("x bad", "1").bytes())
_malformed("8.2.1/colon-in-name", "a regular field name containing ':' → malformed",
           lambda c: c.block().literal("x:bad", "1").bytes())
_malformed("8.2.1/control-in-name", "a field name containing 0x01 → malformed",
           lambda c: c.block().literal("x\x01bad", "1").bytes())
_malformed("8.2.1/del-in-name", "a field name containing DEL (0x7f) → malformed",
           lambda c: c.block().literal("x\x7fbad", "1").bytes())
_malformed("8.2.1/non-ascii-in-name", "a field name containing 0xe9 → malformed",
           lambda c: c.block().literal(b"x\xe9bad", "1").bytes())
_malformed("8.2.1/nul-in-value", "a field value containing NUL → malformed",
           lambda c: c.block().literal("x-v", "a\x00b").bytes())
_malformed("8.2.1/lf-in-value", "a field value containing LF → malformed",
           lambda c: c.block().literal("x-v", "a\nb").bytes())
_malformed("8.2.1/cr-in-value", "a field value containing CR → malformed",
           lambda c: c.block().literal("x-v", "a\rb").bytes())
_malformed("8.2.1/leading-space-value", "a field value starting with SP → malformed",
           lambda c: c.block().literal("x-v", " a").bytes())
_malformed("8.2.1/trailing-tab-value", "a field value ending with HTAB → malformed",
           lambda c: c.block().literal("x-v", "a\t").bytes())
_ok("8.2.1/inner-space-value", "SP and HTAB inside a field value are valid",
    lambda c: c.block().literal("x-v", "a b\tc").bytes())
_ok("8.2.1/empty-value", "an empty field value is valid",
    lambda c: c.block().literal("x-empty", "").bytes())

# §8.2.2 connection-specific fields
for _name, _value in (("connection", "keep-alive"), ("keep-alive", "timeout=5"),
                      ("proxy-connection", "keep-alive"), ("transfer-encoding", "chunked"),
                      ("upgrade", "websocket")):
    _malformed("8.2.2/%s" % _name, "a %s field → malformed" % _name,
               lambda c, n=_name, v=_value: c.block().literal(n, v).bytes())
_malformed("8.2.2/te-gzip", "TE with a value other than \"trailers\" → malformed",
           lambda c: c.block().literal("te", "gzip").bytes())
_malformed("8.2.2/te-trailers-and-more", "TE \"trailers, deflate\" → malformed",
           lambda c: c.block().literal("te", "trailers, deflate").bytes())
_ok("8.2.2/te-trailers", "TE: trailers is allowed",
    lambda c: c.block().literal("te", "trailers").bytes())

# §8.2.3 cookies
_ok("8.2.3/cookie-crumbs", "a Cookie split into several fields is accepted",
    lambda c: c.block().literal("cookie", "a=b").literal("cookie", "c=d")
    .literal("cookie", "e=f").bytes())

# §8.3 pseudo-header fields
_malformed("8.3/unknown-pseudo", "an undefined pseudo-header field → malformed",
           lambda c: c.block().literal(":foo", "bar").bytes())
_malformed("8.3/status-in-request", "a response pseudo-header (:status) in a request → malformed",
           lambda c: c.block().literal(":status", "200").bytes())
_malformed("8.3/pseudo-after-regular", "a pseudo-header field after a regular field → malformed",
           lambda c: _pseudo(c, order=(":method", ":scheme", ":path")).literal("x-a", "1")
           .literal(":authority", c.opts.authority).bytes())


@case("8.3/protocol-pseudo-header", "without SETTINGS_ENABLE_CONNECT_PROTOCOL=1 a :protocol "
      "pseudo-header is undefined (§8.3) → malformed; with it, an extended CONNECT lacking :path → "
      "malformed (RFC 8441 §3, §4)")
def protocol_pseudo(c):
    c.start()
    sid = c.new_stream()
    if c.server_settings.get(F.ENABLE_CONNECT_PROTOCOL) == 1:
        block = F.Block().literal(":method", "CONNECT").literal(":protocol", "websocket") \
            .literal(":scheme", c.opts.scheme).literal(":authority", c.opts.authority).bytes()
    else:
        block = c.block().literal(":protocol", "websocket").bytes()  # an undefined pseudo
    c.send(F.headers(sid, block, end_stream=False))
    c.expect_malformed(sid)

for _p in (":method", ":scheme", ":path", ":authority"):
    _malformed("8.3/duplicate-%s" % _p[1:], "a repeated %s → malformed" % _p,
               lambda c, p=_p: _pseudo(c).literal(p, {":method": "GET", ":scheme": c.opts.scheme,
                                                      ":path": c.opts.path,
                                                      ":authority": c.opts.authority}[p])
               .bytes())
for _p in (":method", ":scheme", ":path"):
    _malformed("8.3.1/missing-%s" % _p[1:], "a request without %s → malformed" % _p,
               lambda c, p=_p: _pseudo(c, **{p: None}).bytes())
_malformed("8.3.1/empty-path", "an empty :path for an http(s) URI → malformed",
           lambda c: _pseudo(c, **{":path": ""}).bytes())
_malformed("8.3.1/only-regular-fields", "a request with no pseudo-header fields → malformed",
           lambda c: F.Block().literal("x-a", "1").bytes())
_ok("8.3.1/host-without-authority", "Host instead of :authority is accepted",
    lambda c: _pseudo(c, **{":authority": None}).literal("host", c.opts.authority).bytes())
_ok("8.3.1/authority-and-host", ":authority with a matching Host is accepted",
    lambda c: _pseudo(c).literal("host", c.opts.authority).bytes())
_ok("8.3.1/options-asterisk", "OPTIONS with :path \"*\" gets a response", lambda c: _pseudo(
    c, **{":method": "OPTIONS", ":path": "*"}).bytes(), status=None)


@case("8.3.1/head-no-content", "a HEAD response carries no content (RFC 9110 §9.3.2)")
def head(c):
    c.start()
    sid = c.new_stream()
    c.send(F.headers(sid, _pseudo(c, **{":method": "HEAD"}).bytes()))
    c.expect_response(sid, status=None, body=b"", allow_body=False)


# §8.5 CONNECT
_malformed("8.5/connect-with-scheme", "CONNECT with :scheme → malformed",
           lambda c: F.Block().literal(":method", "CONNECT").literal(":scheme", "https")
           .literal(":authority", "example.com:443").bytes(), end_stream=False)
_malformed("8.5/connect-with-path", "CONNECT with :path → malformed",
           lambda c: F.Block().literal(":method", "CONNECT").literal(":path", "/")
           .literal(":authority", "example.com:443").bytes(), end_stream=False)
_malformed("8.5/connect-without-authority", "CONNECT without :authority → malformed",
           lambda c: F.Block().literal(":method", "CONNECT").bytes(), end_stream=False)


# §8.1 framing: content-length and trailers
def _body_case(cid, requirement, fields, chunks, malformed, trailers=None):
    @case(cid, requirement)
    def run(c):
        c.start()
        sid = c.new_stream()
        b = c.block()
        for n, v in fields:
            b.literal(n, v)
        c.send(F.headers(sid, b.bytes(), end_stream=not chunks and trailers is None))
        for i, chunk in enumerate(chunks):
            c.send(F.data(sid, chunk, end_stream=(i == len(chunks) - 1 and trailers is None)))
        if trailers is not None:
            c.send(F.headers(sid, trailers(c)))
        if malformed:
            c.expect_malformed(sid, after_response_start=True)
        else:
            c.expect_response(sid)
    return run


_body_case("8.1.1/content-length-too-small", "content-length 3 with 5 octets of DATA → malformed",
           [("content-length", "3")], [b"ab", b"cde"], True)
_body_case("8.1.1/content-length-too-large", "content-length 10 with 5 octets of DATA → malformed",
           [("content-length", "10")], [b"abcde"], True)
_body_case("8.1.1/content-length-no-data", "content-length 1 with END_STREAM on HEADERS → "
           "malformed", [("content-length", "1")], [], True)
_body_case("8.1.1/content-length-match", "content-length equal to the DATA octets is accepted",
           [("content-length", "6")], [b"abc", b"def"], False)
_body_case("8.1.1/content-length-zero", "content-length 0 without DATA is accepted",
           [("content-length", "0")], [], False)
_body_case("8.1.1/content-length-with-trailers", "content-length counted over DATA only, "
           "trailers after it are accepted", [("content-length", "4")], [b"abcd"], False,
           trailers=lambda c: F.Block().literal("x-checksum", "1").bytes())
_body_case("8.1.1/content-length-mismatch-trailers", "content-length 9 but 4 octets before the "
           "trailers → malformed", [("content-length", "9")], [b"abcd"], True,
           trailers=lambda c: F.Block().literal("x-checksum", "1").bytes())
_body_case("8.1/trailers", "DATA then a trailer section with END_STREAM is accepted",
           [], [b"body"], False, trailers=lambda c: F.Block().literal("x-t", "1").bytes())
_body_case("8.1/trailers-without-data", "a trailer section right after the header section is "
           "accepted", [], [], False, trailers=lambda c: F.Block().literal("x-t", "1").bytes())
_body_case("8.1/pseudo-in-trailers", "a pseudo-header field in trailers → malformed",
           [], [b"body"], True, trailers=lambda c: F.Block().literal(":path", "/").bytes())
_body_case("8.1/uppercase-in-trailers", "an uppercase field name in trailers → malformed",
           [], [b"body"], True, trailers=lambda c: F.Block().literal("X-T", "1").bytes())


@case("8.1/data-after-trailers", "DATA after the trailer section (stream half-closed) → stream "
      "error STREAM_CLOSED")
def data_after_trailers(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"a"), F.headers(sid, F.Block().literal("x-t", "1").bytes()),
           F.data(sid, b"late"))
    c.expect_stream_error(sid, F.STREAM_CLOSED)


@case("8.1/headers-after-trailers", "a second trailer section → stream error STREAM_CLOSED "
      "(half-closed remote), or connection error STREAM_CLOSED once the response closed the "
      "stream (§5.1 closed)")
def headers_after_trailers(c):
    c.start()
    sid = c.request("POST", end_stream=False)
    c.send(F.data(sid, b"a"), F.headers(sid, F.Block().literal("x-t", "1").bytes()),
           F.headers(sid, F.Block().literal("x-u", "2").bytes()))
    c.expect_stream_error(sid, F.STREAM_CLOSED, conn_ok=True)


@case("8.4/push-disabled", "with SETTINGS_ENABLE_PUSH 0 the server never sends PUSH_PROMISE "
      "(§6.5.2); responses still arrive")
def push_disabled(c):
    c.start()
    for _ in range(3):
        sid = c.request()
        c.expect_response(sid)  # the client fails any PUSH_PROMISE as a violation
