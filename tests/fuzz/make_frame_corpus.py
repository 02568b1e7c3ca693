#!/usr/bin/python3
"""Writes the seed corpus of frame_decoder_fuzz into corpus/frame_decoder/.

Each file is <knobs byte><split seed byte><wire bytes>. The wire bytes come from hyperframe (an
independent HTTP/2 frame implementation) and from the http2-frame-test-case vectors, so the seeds
do not depend on our own writer. Re-run only to change the seeds:
    /usr/bin/python3 tests/fuzz/make_frame_corpus.py [fixtures-dir]
"""
import json
import pathlib
import sys

from hyperframe import frame as hf

here = pathlib.Path(__file__).resolve().parent
out = here / "corpus" / "frame_decoder"
fixtures = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else here / "../../../shared/fixtures")
out.mkdir(parents=True, exist_ok=True)


def seed(name, wire, knobs=0, split=7):
    (out / name).write_bytes(bytes([knobs, split]) + wire)


def ser(*frames):
    return b"".join(f.serialize() for f in frames)


for path in sorted((fixtures / "http2-frame-test-case").rglob("*.json")):
    doc = json.loads(path.read_text())
    name = "vector-" + path.parent.name + "-" + path.stem
    seed(name, bytes.fromhex(doc["wire"]))

settings = hf.SettingsFrame(0, settings={1: 4096, 3: 100, 4: 65535, 5: 16384, 8: 1, 9: 1})
ack = hf.SettingsFrame(0, flags=["ACK"])
headers = hf.HeadersFrame(1, data=b"\x82\x86\x84\x41\x0fwww.example.com", flags=["END_HEADERS"])
padded_headers = hf.HeadersFrame(3, data=b"\x82\x86\x84", flags=["PADDED", "PRIORITY"],
                                 pad_length=9, depends_on=1, stream_weight=200, exclusive=True)
open_headers = hf.HeadersFrame(5, data=b"\x82\x86", flags=[])
continuation = hf.ContinuationFrame(5, data=b"\x84", flags=["END_HEADERS"])
data = hf.DataFrame(1, data=b"x" * 300, flags=["END_STREAM"])
padded_data = hf.DataFrame(3, data=b"hello", flags=["PADDED"], pad_length=20)
ping = hf.PingFrame(0, opaque_data=b"12345678")
ping_ack = hf.PingFrame(0, opaque_data=b"12345678", flags=["ACK"])
rst = hf.RstStreamFrame(3, error_code=8)
wu = hf.WindowUpdateFrame(0, window_increment=1 << 20)
wu_stream = hf.WindowUpdateFrame(1, window_increment=1000)
prio = hf.PriorityFrame(7, depends_on=3, stream_weight=16)
push = hf.PushPromiseFrame(1, promised_stream_id=2, data=b"\x82\x87", flags=["END_HEADERS"])
goaway = hf.GoAwayFrame(0, last_stream_id=5, error_code=0, additional_data=b"shutting down")
ext = hf.ExtensionFrame(0x42, 0, flag_byte=0xff, body=b"extension payload")
priority_update = hf.ExtensionFrame(0x10, 0, body=b"\x00\x00\x00\x05u=0, i")

seed("conversation", ser(settings, ack, headers, open_headers, continuation, data, ping,
                         wu, wu_stream, rst, prio, priority_update, goaway))
seed("conversation-bytewise", ser(settings, headers, padded_data, ping_ack), knobs=32)
seed("padded", ser(padded_headers, padded_data, push))
seed("unknown-extension", ser(ext, ping))
seed("stream-error-priority", ser(prio)[:2] + b"\x06" + ser(prio)[3:] + b"\x00" + ser(ping),
     knobs=16)
seed("small-limits", ser(settings, goaway, priority_update), knobs=2 | 4 | 8)
seed("big-frame", ser(hf.DataFrame(1, data=b"y" * 70000)), knobs=1)
seed("oversize-frame", ser(hf.DataFrame(1, data=b"z" * 20000)))
seed("bad-settings", ser(hf.SettingsFrame(0, settings={5: 100})))
seed("preface-garbage", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + ser(settings))
print("wrote", len(list(out.iterdir())), "files to", out)
