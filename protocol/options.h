// Every limit of the server connection in one place, each with a safe default and the values of
// the anchors it was chosen against (nginx 1.22, h2o 2.2, nghttp2 1.52). Time values are in
// milliseconds: the connection never reads a clock; the embedder passes `now_ms` in.
#pragma once

#include <cstddef>
#include <cstdint>

namespace h2::protocol {

struct ConnectionOptions {
  // --- SETTINGS we advertise (RFC 9113 §6.5.2) ---------------------------------------------
  // SETTINGS_MAX_CONCURRENT_STREAMS. nginx 128, h2o 100, nghttp2 (nghttpd) 100.
  uint32_t max_concurrent_streams = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE: also the most request body buffered per stream before the
  // handler reads it (backpressure: WINDOW_UPDATE is only sent for bytes the handler consumed).
  // nginx 64 KiB (http2_body_preread_size), h2o 16 MiB, nghttp2 65535.
  uint32_t initial_stream_window = 1 << 20;
  // The connection receive window, raised from 65535 by a WINDOW_UPDATE on stream 0 right after
  // our SETTINGS. h2o 16 MiB, nginx 2^31-1 (it relies on per-stream windows), nghttp2 65535.
  uint32_t connection_window = 16 << 20;
  // SETTINGS_MAX_FRAME_SIZE: the largest frame payload we accept. All three anchors keep 16384.
  uint32_t max_frame_size = 16384;
  // SETTINGS_HEADER_TABLE_SIZE for the HPACK decoder. All three anchors: 4096.
  uint32_t header_table_size = 4096;
  // SETTINGS_MAX_HEADER_LIST_SIZE, RFC 9113 §6.5.2 accounting (name + value + 32 per field).
  // nginx 32 KiB (large_client_header_buffers), h2o/nghttp2 64 KiB.
  uint32_t max_header_list_size = 64 * 1024;
  // Fields per header block (request head or trailers). nginx has no separate knob (bounded by the
  // list size); nghttp2 and Envoy default to 100; we allow up to 128.
  uint32_t max_field_count = 128;
  // Longest single HPACK string (name or value) before COMPRESSION_ERROR.
  uint32_t max_string_length = 64 * 1024;
  // SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441): accept extended CONNECT with :protocol.
  bool enable_connect_protocol = false;

  // --- Flood and resource defenses: each one is a counter and a check ------------------------
  // CONTINUATION frames allowed after one HEADERS (CVE-2024-27316 class). A 64 KiB list in 16 KiB
  // frames needs 4; nghttp2 allows 8 since 1.61. Exceeding it: connection error ENHANCE_YOUR_CALM.
  uint32_t max_continuation_frames = 8;
  // Control frames (SETTINGS ACK, PING ACK, RST_STREAM) queued but not yet written. A peer that
  // makes us queue more without reading is flooding (CVE-2019-9512/9515): ENHANCE_YOUR_CALM.
  // nghttp2 1000 (NGHTTP2_DEFAULT_MAX_OBQ_FLOOD_ITEM), h2o 10000 bytes-equivalent.
  uint32_t max_queued_control_frames = 1000;
  // Rapid reset (CVE-2023-44487): streams the peer may reset before we answered, per budget
  // window. Each such reset spends one token; tokens refill by `reset_budget` per
  // `reset_budget_window_ms`. Empty budget: GOAWAY ENHANCE_YOUR_CALM. nghttp2 uses a token bucket
  // of 1000 refilled at 33/s; nginx counts against max_concurrent_streams * 2 per read event.
  uint32_t reset_budget = 200;
  uint64_t reset_budget_window_ms = 1000;
  // Frames that make us work but carry nothing (CVE-2019-9518 and kin). Each is a counter and a
  // check; beyond it: GOAWAY ENHANCE_YOUR_CALM. Zero-length DATA frames without END_STREAM in a
  // row, with no frame carrying a payload between them (Envoy
  // max_consecutive_inbound_frames_with_empty_payload: 1; nghttp2 none).
  uint32_t max_consecutive_empty_frames = 16;
  // WINDOW_UPDATE frames received per DATA frame we sent and per stream opened (+1): a peer only
  // needs them for the DATA we send it (Envoy max_inbound_window_update_frames_per_data_frame_sent:
  // 10).
  uint32_t max_window_updates_per_data_frame = 10;
  // PRIORITY and PRIORITY_UPDATE frames per stream the peer opened (+1) (Envoy
  // max_inbound_priority_frames_per_stream: 100).
  uint32_t max_priority_frames_per_stream = 100;
  // Recently closed streams remembered (O(1) ring indexed by stream id) to judge late frames.
  // nghttp2 keeps max_concurrent_streams closed streams; we keep 2x that.
  uint32_t closed_stream_memory = 256;

  // --- Timeouts (ms). 0 disables one. ----------------------------------------------------------
  // Our SETTINGS not ACKed in time: GOAWAY SETTINGS_TIMEOUT (RFC 9113 §6.5.3). nghttp2 10 s.
  uint64_t settings_ack_timeout_ms = 10'000;
  // No open stream and no frame received for this long: GOAWAY NO_ERROR, close.
  // nginx 180 s (keepalive_timeout 75 s for HTTP/1), h2o 10 s (http2-idle-timeout).
  uint64_t idle_timeout_ms = 60'000;
  // A HEADERS without END_HEADERS must be completed by CONTINUATION within this time, or
  // GOAWAY PROTOCOL_ERROR (slowloris on header blocks). nginx client_header_timeout 60 s.
  uint64_t header_block_timeout_ms = 10'000;
  // Flow-control stall (a slow-read attack that costs no bandwidth): a stream whose response
  // body waits while the peer keeps its stream window closed for this long is reset with
  // RST_STREAM(CANCEL); a connection window kept closed this long while bodies wait is GOAWAY
  // ENHANCE_YOUR_CALM. Any WINDOW_UPDATE that opens the window restarts the clock, so a client
  // that reads slowly but steadily (or a player that pauses a video for less than this) is never
  // cut. 60 s matches nginx send_timeout, the time it allows an HTTP/1.1 client to take nothing
  // from a blocked socket; nginx, h2o and nghttpd have no equivalent for HTTP/2 windows.
  uint64_t flow_control_stall_timeout_ms = 60'000;
  // A request whose body is still to come (no END_STREAM yet) with no DATA for this long is
  // reset with RST_STREAM(CANCEL): a client that opens uploads and goes silent holds nothing
  // forever (the idle timeout runs only while no stream is open). nginx client_body_timeout 60 s,
  // measured the same way (between two reads). Extended CONNECT tunnels (RFC 8441) are exempt.
  uint64_t request_body_timeout_ms = 60'000;
  // Graceful shutdown: how long to wait for the PING ACK before sending the final GOAWAY. Unlike
  // the others, 0 does not disable it (a shutdown must end): it means "do not wait for the ACK".
  uint64_t shutdown_ping_timeout_ms = 5'000;

  // --- Output -----------------------------------------------------------------------------------
  // How many bytes of DATA frames pending_output() prepares ahead of the writer, at most: the
  // most one write can carry. 256 KiB: 1,000 x 1 MiB GETs (h2load -c 10 -m 4) took 32,020
  // sendmsg at 64 KiB and 18,820 at 256 KiB (+10% throughput, -9% CPU); 512 KiB changed
  // nothing more (the Asio runtime writes at most 256 KiB at once). Frames are views into the
  // bodies, so this costs no copies, only frame headers.
  size_t output_high_watermark = 256 * 1024;
  // Above this many unwritten output bytes wants_read() turns false: a peer that sends requests
  // (or PINGs) but does not read the answers stops being read (backpressure, no unbounded queue).
  size_t max_unwritten_output = 4 << 20;
};

}  // namespace h2::protocol
