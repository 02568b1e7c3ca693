"""h2conf: a raw-frame HTTP/2 conformance client (RFC 9113, RFC 7541, RFC 9218).

Frames are built with hyperframe (well-formed ones) or by hand (malformed ones) and field blocks
with the hpack package or by hand, so the suite shares no code with the server under test.
"""
