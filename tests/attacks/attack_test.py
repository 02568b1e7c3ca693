"""Attack scenarios, one per defense (tests/attacks/README.md); the base is attack_case.py."""
import os
import signal
import threading
import time
import unittest

from attack_case import *  # noqa: F401,F403 (the base, its constants and the raw client)


FLOODS_CONFIG = """
    workers: 2
    listeners:
      - listen: 127.0.0.1:0
    limits: {reset_budget: 200, reset_budget_window_ms: 1000, max_continuation_frames: 8,
             max_queued_control_frames: 1000, max_concurrent_streams: 100,
             max_header_list_size: 65536, max_field_count: 128}
    timeouts: {write_ms: 3000, shutdown_ms: 1000}
""" + ROUTES


class FloodsTest(AttackCase):
    """Frame floods: each costs the attacker little and must cost the server bounded work."""
    config = FLOODS_CONFIG

    def test_rapid_reset(self):
        # CVE-2023-44487: HEADERS + RST_STREAM pairs as fast as they go; each stream is reset
        # before its 1 MiB response is done, so each spends a token of limits.reset_budget
        # (200 per reset_budget_window_ms 1000).
        block = request_block(BIG_PATH)

        def pairs(count):
            return b"".join(headers_frame(sid, block, end_stream=True) + rst_frame(sid, CANCEL)
                            for sid in range(1, 2 * count, 2))

        with self.rss() as watch:
            # Under the budget: 150 resets, then a PING whose ACK comes back with no GOAWAY.
            c = self.connect()
            handshake(c)
            c.send(pairs(150) + ping_frame(b"budget.."))
            f, _ = c.wait_for(lambda f: f.type == GOAWAY or (f.type == PING and f.flags & ACK),
                              1.0)
            self.assertIsNotNone(f)
            self.assertEqual(f.type, PING, "150 resets are within the budget: %r" % (f,))
            # Above it: 2000 pairs in one burst, on 3 connections one after the other.
            burst = pairs(2000)
            times = []
            for _ in range(3):
                c = self.connect()
                handshake(c)
                start = time.monotonic()
                c.send(burst)
                during = self.probe_async()  # the attack connection is open
                f, elapsed = self.expect_goaway(c, ENHANCE_YOUR_CALM, 1.0, start)
                times.append(elapsed)
                self.check_probe(during, "during")
                self.assertIn(b"reset budget", f.debug)
                self.assertLess(f.last_stream_id, 3999, "the server read the whole burst first")
                self.expect_close(c)
                c.close()
        self.assert_reaction(times, 0, 1.0, "GOAWAY(ENHANCE_YOUR_CALM) after the reset budget")
        # Each worker keeps ~14 MiB after its first burst (200 streams' 64 KiB static read
        # chunks, reused afterwards: 20 bursts measured no further growth).
        self.assert_rss(watch, 48)
        self.probe("after")

    def test_continuation_flood(self):
        # CVE-2024-27316: a HEADERS without END_HEADERS, then CONTINUATION frames that never end
        # (each full of header fields), sent until the server stops taking them.
        c = self.connect()
        handshake(c)
        # Whole fields in each frame (77 x 211 bytes), so that the block stays valid HPACK.
        frame = continuation_frame(1, literal("x-flood", "v" * 200) * 77)
        with self.rss() as watch:
            start = time.monotonic()
            c.send(headers_frame(1, request_block(SMALL_PATH), end_stream=True, end_headers=False))
            stop = threading.Event()
            attack = Background(flood, c, frame * 16, 64 << 20, 3.0, stop)
            during = self.probe_async()
            f, elapsed = self.expect_goaway(c, ENHANCE_YOUR_CALM, 1.0, start)
            self.check_probe(during, "during")
            stop.set()
            sent, why = attack.join(5)
        self.assertIn(b"CONTINUATION", f.debug)
        self.expect_close(c, 4.0)
        self.measured["sent"] = "%d KiB (%s)" % (sent // 1024, why)
        self.assert_reaction(elapsed, 0, 1.0, "GOAWAY(ENHANCE_YOUR_CALM) after 8 CONTINUATIONs")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_continuation_beyond_header_list_size(self):
        # Within max_continuation_frames (1 HEADERS + 4 CONTINUATION of 16 KiB) but 80 KiB of
        # fields, above max_header_list_size (64 KiB): the request is refused with 431 (RFC 9113
        # §8.2.2), the block is still decoded, the connection goes on. 20 such requests.
        c = self.connect()
        handshake(c)
        block = request_block(SMALL_PATH) + b"".join(
            literal("x-pad-%d" % i, "v" * 4000) for i in range(20))
        chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
        self.assertLessEqual(len(chunks) - 1, 8)
        requests = b""
        sids = list(range(1, 41, 2))
        for sid in sids:
            requests += headers_frame(sid, chunks[0], end_stream=True, end_headers=False)
            for i, chunk in enumerate(chunks[1:], 1):
                requests += continuation_frame(sid, chunk, end_headers=i == len(chunks) - 1)
        with self.rss() as watch:
            start = time.monotonic()
            during = self.probe_async()
            c.send(requests)
            answered = set()
            while answered != set(sids):
                f, _ = c.wait_for(lambda f: f.type in (HEADERS, RST_STREAM, GOAWAY),
                                  1.0 - (time.monotonic() - start))
                self.assertIsNotNone(f, "answered only %r" % sorted(answered))
                self.assertEqual(f.type, HEADERS, f)
                self.assertTrue(f.flags & END_STREAM, f)
                answered.add(f.stream_id)
            elapsed = time.monotonic() - start
            self.check_probe(during, "during")
        for sid in sids:
            self.assertEqual(c.status(sid), 431, c.heads[sid])
        # The connection goes on: the next request on it is served.
        c.send(headers_frame(41, request_block(SMALL_PATH), end_stream=True))
        f, _ = c.wait_for(lambda f: f.stream_id == 41 and f.type in (HEADERS, RST_STREAM), 1.0)
        self.assertIsNotNone(f)
        self.assertEqual(c.status(41), 200)
        self.assert_reaction(elapsed, 0, 1.0, "431 on each oversized header list")
        self.assert_rss(watch, 32)
        self.probe("after")

    def control_flood(self, frame, max_frames):
        """Sends `frame` (or frame(i) for the i-th frame) without reading the answers (small
        receive buffer, so the answers back up at once) until the server stops reading; then
        reads: GOAWAY(ENHANCE_YOUR_CALM), since more than max_queued_control_frames answers were
        queued unwritten."""
        c = self.connect(rcvbuf=4096)
        handshake(c)
        if callable(frame):
            size = len(frame(0))
            chunk = lambda n: b"".join(frame(i) for i in range(n * 1000, n * 1000 + 1000))
        else:
            size, chunk = len(frame), frame * 1000
        with self.rss() as watch:
            start = time.monotonic()
            sent, why = flood(c, chunk, size * max_frames, 5.0)
            self.measured["sent"] = "%d frames (%s)" % (sent // size, why)
            self.probe("during")  # the flood connection is open, its answers unread
            f, elapsed = self.expect_goaway(c, ENHANCE_YOUR_CALM, 5.0, start)
        self.assertIn(b"queued control frames", f.debug)
        self.expect_close(c, 4.0)
        self.assert_reaction(elapsed, 0, 5.0, "GOAWAY(ENHANCE_YOUR_CALM) for unread answers")
        self.assert_rss(watch, 32)
        self.probe("after")
        return c

    def test_ping_flood(self):
        # CVE-2019-9512: every PING needs a PING ACK; the attacker never reads them. (With Asio
        # the server stops reading once the ACKs back up, "blocked"; io_uring processes a whole
        # completion batch before writing, so it reaches the limit at once and then drains the
        # rest of the flood for its lingering close.)
        self.control_flood(ping_frame(b"flooding"), 4_000_000)

    def test_settings_flood(self):
        # CVE-2019-9515: every SETTINGS needs a SETTINGS ACK.
        self.control_flood(settings_frame({SETTINGS_MAX_CONCURRENT_STREAMS: 100}), 400_000)

    def test_reset_flood(self):
        # CVE-2019-9514: requests without :path, each answered by RST_STREAM(PROTOCOL_ERROR)
        # (RFC 9113 §8.3.1), on ever new stream ids; the attacker never reads the resets.
        block = b"\x82\x86" + literal_indexed_name(1, "127.0.0.1")  # GET, http, no :path
        c = self.control_flood(
            lambda i: raw_frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1, block), 1_000_000)
        resets = [f for f in c.frames if f.type == RST_STREAM]
        self.assertTrue(resets)
        self.assertEqual({f.error_code for f in resets}, {PROTOCOL_ERROR})
        self.assertEqual([f.type for f in c.frames if f.type == HEADERS], [])

    def worthless_frame_flood(self, setup, frame, what):
        """A flood of frames that carry nothing (protocol/options.h: max_consecutive_empty_frames,
        max_window_updates_per_data_frame): GOAWAY(ENHANCE_YOUR_CALM) within 3 s, bounded RSS,
        other clients served."""
        c = self.connect()
        handshake(c)
        c.send(setup)
        with self.rss() as watch:
            start = time.monotonic()
            attack = Background(flood, c, frame * 2000, 1 << 40, 1.0, None, 2.0)
            during = self.probe_async()
            self.check_probe(during, "during")
            sent, why = attack.join(5)
            # A barrier: the PING ACK comes once the server processed the whole flood.
            c.send(ping_frame(b"barrier!"))
            f, _ = c.wait_for(lambda f: f.type == GOAWAY or
                              (f.type == PING and f.flags & ACK and f.payload == b"barrier!"),
                              10.0)
            elapsed = time.monotonic() - start
        frames = sent // len(frame)
        self.measured["sent"] = "%d frames in %.2fs, %.1fM frames/s processed" % (
            frames, elapsed, frames / elapsed / 1e6)
        self.assertIsNotNone(f, "the server neither answered the PING nor closed (%s)" % why)
        self.assert_rss(watch, 32)
        self.probe("after")
        self.assertEqual(f.type, GOAWAY, "%d %s were processed without a reaction" % (frames, what))
        self.assertEqual(f.error_code, ENHANCE_YOUR_CALM, f)
        self.assert_reaction(elapsed, 0, 3.0, what)

    def test_empty_data_flood(self):
        # CVE-2019-9518: zero-length DATA frames on an open request stream cost no window.
        self.worthless_frame_flood(headers_frame(1, request_block("/echo", "POST"), end_stream=False),
                              data_frame(1, b""), "zero-length DATA frames")

    def test_window_update_flood(self):
        # WINDOW_UPDATE(0, 1) frames: valid, no answer, no window overflow for 2^31 of them.
        self.worthless_frame_flood(b"", window_update_frame(0, 1), "connection WINDOW_UPDATEs")

    def test_hpack_bomb(self):
        # One 4000-byte field added to the dynamic table, then referenced by 1-byte indexed
        # representations: 1 HEADERS + 7 CONTINUATION frames (within max_continuation_frames)
        # carry ~130,000 references, a 520 MB header list if it were materialised. The decoder
        # stops delivering at max_header_list_size: 431, and the connection goes on.
        c = self.connect()
        handshake(c)
        head = request_block(SMALL_PATH) + literal("x-bomb", "b" * 4000, index=True)
        frames = headers_frame(1, head + indexed(62) * (16384 - len(head)), end_stream=True,
                               end_headers=False)
        for i in range(7):
            frames += continuation_frame(1, indexed(62) * 16384, end_headers=i == 6)
        with self.rss() as watch:
            start = time.monotonic()
            c.send(frames)
            during = self.probe_async()
            f, _ = c.wait_for(lambda f: f.type in (HEADERS, RST_STREAM, GOAWAY), 1.0)
            elapsed = time.monotonic() - start
            self.check_probe(during, "during")
        self.assertIsNotNone(f, "no answer to the bomb")
        self.assertEqual((f.type, f.stream_id), (HEADERS, 1), f)
        self.assertEqual(c.status(1), 431)
        c.send(headers_frame(3, request_block(SMALL_PATH), end_stream=True))
        f, _ = c.wait_for(lambda f: f.stream_id == 3 and f.type in (HEADERS, RST_STREAM), 1.0)
        self.assertIsNotNone(f)
        self.assertEqual(c.status(3), 200, "the connection did not go on after the 431")
        self.assert_reaction(elapsed, 0, 1.0, "431 for the HPACK bomb")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_stream_flood_above_max_concurrent_streams(self):
        # 150 requests for the 1 MiB file with a zero stream window, so none can finish: the
        # first 100 (limits.max_concurrent_streams) open, the 50 above get RST_STREAM(REFUSED).
        c = self.connect(settings={SETTINGS_INITIAL_WINDOW_SIZE: 0})
        handshake(c)
        sids = list(range(1, 301, 2))
        requests = b"".join(headers_frame(sid, request_block(BIG_PATH), end_stream=True)
                            for sid in sids)
        with self.rss() as watch:
            start = time.monotonic()
            c.send(requests)
            during = self.probe_async()
            seen = {}
            while len(seen) < len(sids):
                f, _ = c.wait_for(lambda f: f.type in (HEADERS, RST_STREAM, GOAWAY),
                                  1.0 - (time.monotonic() - start))
                self.assertIsNotNone(f, "answered %d of %d" % (len(seen), len(sids)))
                self.assertNotEqual(f.type, GOAWAY, f)
                seen[f.stream_id] = f
            elapsed = time.monotonic() - start
            self.check_probe(during, "during")
        for sid in sids[:100]:
            self.assertEqual((seen[sid].type, c.status(sid)), (HEADERS, 200), seen[sid])
        for sid in sids[100:]:
            self.assertEqual(seen[sid].type, RST_STREAM, seen[sid])
            self.assertEqual(seen[sid].error_code, REFUSED_STREAM, seen[sid])
        self.assert_reaction(elapsed, 0, 1.0, "REFUSED_STREAM above max_concurrent_streams")
        self.assert_rss(watch, 48)
        self.probe("after")


STALLS_CONFIG = """
    workers: 2
    listeners:
      - listen: 127.0.0.1:0
    limits: {header_block_timeout_ms: 500, settings_ack_timeout_ms: 500,
             flow_control_stall_timeout_ms: 1000, request_body_timeout_ms: 1000,
             max_unwritten_output: 4194304}
    timeouts: {preface_ms: 500, write_ms: 1000, idle_ms: 1000, shutdown_ms: 1000}
""" + ROUTES


class StallsTest(AttackCase):
    """Attacks that cost no bandwidth: holding connections, streams and buffers open."""
    config = STALLS_CONFIG

    def test_header_block_slowloris(self):
        # 20 connections each send a HEADERS without END_HEADERS and nothing more.
        conns = [self.connect() for _ in range(20)]
        for c in conns:
            handshake(c)
        with self.rss() as watch:
            start = time.monotonic()
            for c in conns:
                c.send(headers_frame(1, request_block(SMALL_PATH)[:3], end_stream=True,
                                     end_headers=False))
            self.probe("during")
            times = [self.expect_goaway(c, PROTOCOL_ERROR, 2.0, start)[1] for c in conns]
        for c in conns:
            self.assertIn(b"header block", c.goaways()[0].debug)
            self.expect_close(c)
        self.assert_reaction(list(times), 0.4, 2.0, "GOAWAY(PROTOCOL_ERROR) after 500 ms")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_preface_slowloris(self):
        # 20 connections that send nothing, 20 that send half the client preface.
        with self.rss() as watch:
            start = time.monotonic()
            silent = [self.connect(preface=False) for _ in range(20)]
            half = [self.connect(preface=False) for _ in range(20)]
            for c in half:
                c.send(PREFACE[:12])
            self.probe("during")
            times = []
            for c in silent + half:
                self.assertIsNotNone(c.wait_close(2.0 - (time.monotonic() - start)),
                                     "not closed within 2 s")
                times.append(time.monotonic() - start)
                self.assertEqual(c.received_bytes, 0)
        self.assert_reaction(list(times), 0.4, 2.0, "closed after preface_ms 500")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_settings_ack_withheld(self):
        conns = [self.connect(ack_settings=False) for _ in range(20)]
        with self.rss() as watch:
            start = time.monotonic()
            for c in conns:
                handshake(c)
            self.probe("during")
            times = [self.expect_goaway(c, SETTINGS_TIMEOUT, 2.0, start)[1] for c in conns]
        for c in conns:
            self.expect_close(c)
        self.assert_reaction(list(times), 0.4, 2.0, "GOAWAY(SETTINGS_TIMEOUT) after 500 ms")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_zero_stream_window_stall(self):
        # SETTINGS_INITIAL_WINDOW_SIZE 0 and 50 GETs of the 1 MiB file: each stream's response
        # head goes out, its body can never move; flow_control_stall_timeout_ms (1000) later
        # each stream is reset with CANCEL, the connection goes on.
        c = self.connect(settings={SETTINGS_INITIAL_WINDOW_SIZE: 0})
        handshake(c)
        sids = list(range(1, 101, 2))
        with self.rss() as watch:
            start = time.monotonic()
            c.send(b"".join(headers_frame(sid, request_block(BIG_PATH), end_stream=True)
                            for sid in sids))
            self.probe("during")
            resets = {}
            while len(resets) < len(sids):
                f, _ = c.wait_for(lambda f: f.type in (RST_STREAM, GOAWAY, DATA),
                                  3.0 - (time.monotonic() - start))
                self.assertIsNotNone(f, "reset %d of %d streams within 3 s" %
                                     (len(resets), len(sids)))
                self.assertEqual(f.type, RST_STREAM, f)
                self.assertEqual(f.error_code, CANCEL, f)
                resets[f.stream_id] = time.monotonic() - start
        for sid in sids:
            self.assertEqual(c.status(sid), 200)
        self.assertEqual(sorted(resets), sids)
        c.send(ping_frame(b"alive?.."))  # the connection itself goes on
        f, _ = c.wait_for(lambda f: f.type in (PING, GOAWAY), 1.0)
        self.assertEqual((f.type, f.payload), (PING, b"alive?.."), f)
        self.assert_reaction(list(resets.values()), 0.9, 2.5, "RST_STREAM(CANCEL) after 1000 ms")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_silent_uploads(self):
        # 50 POSTs to echo whose bodies never come (HEADERS without END_STREAM, then nothing):
        # request_body_timeout_ms (1000) later each is reset with CANCEL, the connection goes on.
        c = self.connect()
        handshake(c)
        sids = list(range(1, 101, 2))
        with self.rss() as watch:
            start = time.monotonic()
            c.send(b"".join(headers_frame(sid, request_block("/echo", "POST"), end_stream=False)
                            for sid in sids))
            self.probe("during")
            resets = {}
            while len(resets) < len(sids):
                f, _ = c.wait_for(lambda f: f.type in (RST_STREAM, GOAWAY),
                                  3.0 - (time.monotonic() - start))
                self.assertIsNotNone(f, "reset %d of %d uploads within 3 s" %
                                     (len(resets), len(sids)))
                self.assertEqual((f.type, f.error_code), (RST_STREAM, CANCEL), f)
                resets[f.stream_id] = time.monotonic() - start
        self.assertEqual(sorted(resets), sids)
        c.send(ping_frame(b"alive?.."))
        f, _ = c.wait_for(lambda f: f.type in (PING, GOAWAY), 1.0)
        self.assertEqual((f.type, f.payload), (PING, b"alive?.."), f)
        self.assert_reaction(list(resets.values()), 0.9, 2.5, "RST_STREAM(CANCEL) after 1000 ms")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_zero_connection_window_stall(self):
        # Stream windows of 2^30 but the connection window is never opened beyond the first
        # 65,535 bytes: after those, nothing moves; GOAWAY(ENHANCE_YOUR_CALM) a stall timeout
        # later.
        c = self.connect(settings={SETTINGS_INITIAL_WINDOW_SIZE: 1 << 30})
        handshake(c)
        received = [0]

        def goaway_counting_data(f):
            if f.type == DATA:
                received[0] += len(f.payload)
            return f.type in (GOAWAY, RST_STREAM)

        with self.rss() as watch:
            start = time.monotonic()
            c.send(headers_frame(1, request_block(BIG_PATH), end_stream=True))
            self.probe("during")
            f, _ = c.wait_for(goaway_counting_data, 3.0)
            elapsed = time.monotonic() - start
        self.assertIsNotNone(f, "no reaction within 3 s")
        self.assertEqual((f.type, f.error_code), (GOAWAY, ENHANCE_YOUR_CALM), f)
        self.assertIn(b"connection flow-control window", f.debug)
        self.assertEqual(received[0], 65535)
        self.expect_close(c)
        self.assert_reaction(elapsed, 0.9, 2.5, "GOAWAY(ENHANCE_YOUR_CALM) after 1000 ms")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_responses_never_read(self):
        # 50 GETs of the 1 MiB file with every window wide open, and the socket never read
        # (a 8 KiB receive buffer): the server queues at most max_unwritten_output, and closes
        # the connection once a write made no progress for timeouts.write_ms (1000).
        c = self.connect(rcvbuf=8192, settings={SETTINGS_INITIAL_WINDOW_SIZE: (1 << 31) - 1})
        handshake(c)
        c.send(window_update_frame(0, (1 << 31) - 1 - 65535))
        client_port = c.sock.getsockname()[1]
        self.assertEqual(server_end_state(self.port, client_port), 1)  # ESTABLISHED
        with self.rss() as watch:
            start = time.monotonic()
            c.send(b"".join(headers_frame(sid, request_block(BIG_PATH), end_stream=True)
                            for sid in range(1, 101, 2)))
            self.probe("during")
            state = 1
            while state == 1 and time.monotonic() - start < 4.0:
                time.sleep(0.02)  # polling the kernel's table with a deadline, not reading
                state = server_end_state(self.port, client_port)
            elapsed = time.monotonic() - start
        self.assertNotEqual(state, 1, "the server still holds the connection after 4 s")
        self.measured["server end"] = TCP_STATES.get(state, state)
        self.assertIsNotNone(c.wait_close(10.0))
        self.assertGreater(c.received_bytes, 0)
        self.assertLess(c.received_bytes, 50 * BIG_SIZE // 2,
                        "the server wrote most of the 50 MiB: the socket was not blocked")
        self.measured["received"] = "%d KiB of 50 MiB" % (c.received_bytes // 1024)
        self.assertIn("h2 connection from 127.0.0.1:%d: write timeout" % client_port,
                      self.host.log_text())
        self.assert_reaction(elapsed, 0.9, 3.0, "closed by write_ms 1000")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_idle_connections(self):
        # 200 connections send the client preface, ACK the server's SETTINGS, then nothing:
        # each gets GOAWAY(NO_ERROR) and is closed after idle_ms (1000).
        with self.rss() as watch:
            start = time.monotonic()
            conns = [self.connect() for _ in range(200)]
            sel = selectors.DefaultSelector()
            for c in conns:
                c.sock.setblocking(False)
                sel.register(c.sock, selectors.EVENT_READ, c)
            during = self.probe_async()
            closed_at = {}
            deadline = start + 3.0
            while len(closed_at) < len(conns) and time.monotonic() < deadline:
                for key, _ in sel.select(max(0, deadline - time.monotonic())):
                    c = key.data
                    try:
                        data = c.sock.recv(65536)
                    except ConnectionResetError:
                        data = b""
                    if data:
                        c.feed(data)  # ACKs the server's SETTINGS
                    else:
                        closed_at[c] = time.monotonic() - start
                        sel.unregister(c.sock)
            sel.close()
            self.check_probe(during, "during")
        self.assertEqual(len(closed_at), len(conns), "closed %d of %d" % (len(closed_at),
                                                                          len(conns)))
        for c in conns:
            self.assertEqual([f.error_code for f in c.goaways()], [NO_ERROR], c.frames)
        self.assert_reaction(list(closed_at.values()), 0.9, 3.0, "GOAWAY(NO_ERROR) after idle_ms")
        self.assert_rss(watch, 32)
        self.probe("after")


LIMITS_CONFIG = """
    workers: 2
    listeners:
      - listen: 127.0.0.1:0
      - listen: 127.0.0.1:0
        protocols: [h2c]
      - listen: 127.0.0.1:0
        protocols: [http/1.1]
    limits: {initial_stream_window: 1048576, connection_window: 1572864}
    http1: {max_header_fields: 128, max_header_bytes: 65536}
    timeouts: {shutdown_ms: 1000}
""" + ROUTES


class LimitsTest(AttackCase):
    """Requests past a limit, and bytes that are not the protocol the listener speaks."""
    config = LIMITS_CONFIG

    def test_data_on_a_reset_stream(self):
        # A POST the most specific route refuses (405, methods: [GET]) is answered before its
        # body: the server sends the 405 and RST_STREAM(NO_ERROR). The client goes on sending
        # DATA. Up to the stream window it had (1 MiB) that is in flight legitimately: ignored,
        # its connection credit returned; beyond it, GOAWAY(FLOW_CONTROL_ERROR) (RFC 9113
        # §6.9.1: more than that stream's window), with no credit.
        c = self.connect()
        handshake(c)
        c.send(headers_frame(1, request_block("/get-only", "POST"), end_stream=False))
        f, _ = c.wait_for(lambda f: f.type in (RST_STREAM, GOAWAY), 1.0)
        self.assertIsNotNone(f)
        self.assertEqual((f.type, f.error_code), (RST_STREAM, NO_ERROR), f)
        self.assertEqual(c.status(1), 405)
        after_reset = len(c.frames)
        chunk = data_frame(1, b"x" * 16384)
        with self.rss() as watch:
            # 1 MiB: exactly the stream window. A PING behind it: its ACK proves that all of
            # it was taken without an error.
            c.send(chunk * 64 + ping_frame(b"inwindow"))
            self.probe("during")
            f, _ = c.wait_for(lambda f: f.type == GOAWAY or (f.type == PING and f.flags & ACK),
                              1.0)
            self.assertIsNotNone(f)
            self.assertEqual(f.type, PING, f)
            credit = sum(f.increment for f in c.frames[after_reset:]
                         if f.type == WINDOW_UPDATE and f.stream_id == 0)
            self.assertGreater(credit, 0, "the in-window late DATA got no connection credit")
            self.assertLessEqual(credit, 64 * 16384)
            before_excess = len(c.frames)
            start = time.monotonic()
            c.send(chunk * 4)  # 64 KiB more than the stream could have had in flight
            f, elapsed = self.expect_goaway(c, FLOW_CONTROL_ERROR, 1.0, start)
            self.assertIn(b"reset stream", f.debug)
            self.expect_close(c)
        excess_credit = [f for f in c.frames[before_excess:]
                         if f.type == WINDOW_UPDATE and f.stream_id == 0]
        self.assertEqual(excess_credit, [], "connection credit for DATA beyond the window")
        self.measured["credit"] = "%d KiB for 1024 KiB in window, 0 for the excess" % (
            credit // 1024)
        self.assert_reaction(elapsed, 0, 1.0, "GOAWAY(FLOW_CONTROL_ERROR) for the excess")
        self.assert_rss(watch, 32)
        self.probe("after")

    def http1_refused(self, request, what):
        with self.rss() as watch:
            during = self.probe_async()
            data, elapsed, _ = raw_exchange(self.port, request, 1.0)
            self.check_probe(during, "during")
        self.assertIsNotNone(elapsed, "not answered and closed within 1 s: %r" % data[:200])
        self.assertTrue(data.startswith(b"HTTP/1.1 431 "), data[:200])
        self.assertIn(b"\r\nconnection: close\r\n", data)
        self.assert_reaction(elapsed, 0, 1.0, what)
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_http1_header_field_flood(self):
        # 10,000 "a: b" lines (60 KiB, under max_header_bytes): 431 past max_header_fields (128).
        self.http1_refused(b"GET /a.txt HTTP/1.1\r\nHost: a\r\n" + b"a: b\r\n" * 10000 + b"\r\n",
                           "431 past http1.max_header_fields")

    def test_http1_header_bytes_flood(self):
        # One 70,000-byte field: 431 past max_header_bytes (65536).
        self.http1_refused(b"GET /a.txt HTTP/1.1\r\nHost: a\r\nx-long: " + b"v" * 70000 +
                           b"\r\n\r\n", "431 past http1.max_header_bytes")

    def assert_settings_then_protocol_error(self, data):
        self.assertFalse(data.startswith(b"HTTP/"), data[:100])
        frames = parse_frames(data)
        self.assertEqual((frames[0].type, frames[0].flags & ACK), (SETTINGS, 0), frames)
        goaways = [f for f in frames if f.type == GOAWAY]
        self.assertEqual([f.error_code for f in goaways], [PROTOCOL_ERROR], frames)
        self.assertEqual(frames[-1].type, GOAWAY, frames)

    def test_broken_preface(self):
        # On a listener with both protocols, bytes that start like the preface but are not it
        # are a broken HTTP/2 client: SETTINGS then GOAWAY(PROTOCOL_ERROR), never HTTP/1.1 400.
        with self.rss() as watch:
            during = self.probe_async()
            times = []
            for _ in range(20):
                data, elapsed, _ = raw_exchange(self.port, b"PRI * HTTP/2.0\r\n\r\nXX", 1.0)
                self.assertIsNotNone(elapsed, "not closed within 1 s")
                self.assert_settings_then_protocol_error(data)
                times.append(elapsed)
            self.check_probe(during, "during")
        self.assert_reaction(times, 0, 1.0, "GOAWAY(PROTOCOL_ERROR) for a broken preface")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_http1_on_an_h2c_only_listener(self):
        with self.rss() as watch:
            during = self.probe_async()
            data, elapsed, _ = raw_exchange(self.host.port(1), b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
                                            1.0)
            self.check_probe(during, "during")
        self.assertIsNotNone(elapsed, "not closed within 1 s")
        self.assert_settings_then_protocol_error(data)
        # The same listener serves HTTP/2.
        self.assert_fresh(fresh_get(self.host.port(1), SMALL_PATH, FRESH_WITHIN), "h2c listener")
        self.assert_reaction(elapsed, 0, 1.0, "GOAWAY(PROTOCOL_ERROR) for HTTP/1.1 on h2c-only")
        self.assert_rss(watch, 32)
        self.probe("after")

    def test_preface_on_an_http1_only_listener(self):
        for request in (PREFACE + settings_frame(), b"PRI * HTTP/2.0\r\n\r\nXX"):
            with self.rss() as watch:
                during = self.probe_async()
                data, elapsed, _ = raw_exchange(self.host.port(2), request, 1.0)
                self.check_probe(during, "during")
            self.assertIsNotNone(elapsed, "not closed within 1 s")
            # An HTTP/1.1 error status, no HTTP/2 frame.
            self.assertRegex(data[:12], rb"^HTTP/1\.1 4\d\d$", data[:200])
            self.assertNotIn(b"\x00\x00\x18\x04", data)
            self.assert_reaction(elapsed, 0, 1.0, "HTTP/1.1 4xx for a preface on http/1.1-only")
            self.assert_rss(watch, 32)
        data, _, _ = raw_exchange(self.host.port(2), b"GET /a.txt HTTP/1.1\r\nHost: a\r\n"
                                  b"Connection: close\r\n\r\n", 1.0)
        self.assertTrue(data.startswith(b"HTTP/1.1 200 "), data[:200])
        self.assertTrue(data.endswith(SMALL_BODY))
        self.probe("after")


ADDRESS_CAP_CONFIG = """
    workers: 2
    listeners:
      - listen: 127.0.0.1:0
    connections: {max_per_address: 8}
    timeouts: {shutdown_ms: 1000}
""" + ROUTES


class AddressCapTest(AttackCase):
    """connections.max_per_address, counted over both worker processes."""
    config = ADDRESS_CAP_CONFIG

    def test_connections_above_the_cap_are_closed(self):
        with self.rss() as watch:
            held = [self.connect() for _ in range(8)]
            for c in held:
                handshake(c)  # all 8 admitted: the HTTP/2 handshake completes on each
            # The 9th and 40 more from 127.0.0.1: closed at once, no SETTINGS.
            times = []
            for _ in range(41):
                data, elapsed, _ = raw_exchange(self.port, PREFACE + settings_frame(), 1.0)
                self.assertIsNotNone(elapsed, "an excess connection was not closed within 1 s")
                self.assertEqual(data, b"", "an excess connection got bytes")
                times.append(elapsed)
            # Another address is not capped (loopback answers on all of 127/8).
            self.probe("during from 127.0.0.2", source="127.0.0.2")
            # The held connections still work.
            held[0].send(headers_frame(1, request_block(SMALL_PATH), end_stream=True))
            f, _ = held[0].wait_for(lambda f: f.type in (HEADERS, RST_STREAM, GOAWAY), 1.0)
            self.assertEqual(held[0].status(1), 200, f)
            # One of the 8 leaves: a new connection from 127.0.0.1 is admitted once the server
            # saw it go (polled with a 1 s deadline).
            held.pop().close()
            start = time.monotonic()
            while True:
                try:
                    result = fresh_get(self.port, SMALL_PATH, FRESH_WITHIN)
                    break
                except (AssertionError, OSError):
                    if time.monotonic() - start > 1.0:
                        raise
            self.measured["admitted again after"] = "%.3fs" % (time.monotonic() - start)
            self.assert_fresh(result, "in the freed place")
        self.assert_reaction(times, 0, 1.0, "an excess connection closed at once")
        self.assert_rss(watch, 32)
        for c in held:
            c.close()
        self.conns = []
        start = time.monotonic()
        while True:  # the server sees the closes (polled with a 1 s deadline)
            try:
                result = fresh_get(self.port, SMALL_PATH, FRESH_WITHIN)
                break
            except (AssertionError, OSError):
                if time.monotonic() - start > 1.0:
                    raise
        self.assert_fresh(result, "after")


class AddressCapCrashTest(AttackCase):
    """connections.max_per_address when workers die by a signal holding their places."""
    config = ADDRESS_CAP_CONFIG
    kills_workers = True

    def test_a_killed_workers_connections_are_given_back(self):
        # Both workers die by SIGKILL while holding all 8 places (no destructor runs): the
        # master gives their counts back when it reaps them, so the replacements admit 8 again.
        held = [self.connect() for _ in range(8)]
        for c in held:
            handshake(c)
        data, elapsed, _ = raw_exchange(self.port, PREFACE + settings_frame(), 1.0)
        self.assertEqual((data, elapsed is not None), (b"", True), "the 9th was not refused")
        master = self.host.proc.pid
        old = set(process_tree(master)) - {master}
        self.assertEqual(len(old), 2, old)
        for pid in old:
            os.kill(pid, signal.SIGKILL)
        for c in held:
            c.close()
        self.conns = []
        deadline = time.monotonic() + 10
        while len(set(process_tree(master)) - {master} - old) < 2:
            self.assertLess(time.monotonic(), deadline, "the workers were not replaced")
            time.sleep(0.02)
        admitted = 0
        while admitted < 8 and time.monotonic() < deadline:
            c = self.connect()
            try:
                handshake(c)
                admitted += 1
            except AssertionError:  # a replacement still starting, or a refusal: try again
                self.conns.remove(c)
                c.close()
        self.assertEqual(admitted, 8, "the dead workers' places were not given back")
        self.probe("after, from another address", source="127.0.0.2")  # 127.0.0.1 is at its cap


if __name__ == "__main__":
    unittest.main()
