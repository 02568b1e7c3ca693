// Every limit of the client connection in one place, like ConnectionOptions for the server: the
// same names where the meaning is the same, each with a safe default. A client faces a server
// that may be hostile (a proxy's upstream is somebody else's), so the defenses mirror the
// server's. Time values are in milliseconds; the connection never reads a clock.
#pragma once

#include <cstddef>
#include <cstdint>

namespace h2::protocol {

struct ClientOptions {
  // --- SETTINGS we advertise (RFC 9113 §6.5.2) ---------------------------------------------
  // SETTINGS_ENABLE_PUSH. Off by default (as Chromium and Firefox today): a PUSH_PROMISE is then
  // a connection error PROTOCOL_ERROR (§8.4). On: ClientHandler::on_push_promise decides.
  bool enable_push = false;
  // SETTINGS_MAX_CONCURRENT_STREAMS: pushed streams we accept at once (only sent with push on).
  uint32_t max_concurrent_pushes = 100;
  // SETTINGS_INITIAL_WINDOW_SIZE: the response body a stream may have in flight; WINDOW_UPDATE
  // goes out only for bytes the handler consumed (backpressure). nghttp 2^30 (-w), curl 10 MiB,
  // Go 4 MiB; 1 MiB keeps a slow consumer's buffer bounded.
  uint32_t initial_stream_window = 1 << 20;
  // The connection receive window, raised from 65535 right after our SETTINGS (curl, Go: 1 GiB
  // and 1 MiB; nghttp 2^30).
  uint32_t connection_window = 16 << 20;
  // SETTINGS_MAX_FRAME_SIZE we accept, SETTINGS_HEADER_TABLE_SIZE of our HPACK decoder.
  uint32_t max_frame_size = 16384;
  uint32_t header_table_size = 4096;
  // SETTINGS_MAX_HEADER_LIST_SIZE for a response head or trailers (name + value + 32 per field).
  // A larger one resets its stream (RST_STREAM CANCEL, reported as kHeaderListTooLarge).
  uint32_t max_header_list_size = 64 * 1024;
  uint32_t max_field_count = 128;
  uint32_t max_string_length = 64 * 1024;

  // --- Requests ------------------------------------------------------------------------------
  // Streams we open before the server's SETTINGS tell its SETTINGS_MAX_CONCURRENT_STREAMS
  // (RFC 9113 §6.5.2 says "unlimited" until then; nghttp2 assumes 100, as we do).
  uint32_t assumed_max_concurrent_streams = 100;
  // Requests waiting for a stream slot. submit() beyond it fails with kQueueFull.
  uint32_t max_queued_requests = 10'000;
  // Body bytes buffered per stream above which Stream::write() still accepts the data but
  // Stream::writable() turns false (the caller should wait for on_writable).
  size_t stream_buffer_high_watermark = 256 * 1024;

  // --- Defenses against a hostile server -----------------------------------------------------
  uint32_t max_continuation_frames = 8;
  uint32_t max_queued_control_frames = 1000;
  uint32_t max_consecutive_empty_frames = 16;
  uint32_t max_window_updates_per_data_frame = 10;
  uint32_t closed_stream_memory = 256;

  // --- Timeouts (ms). 0 disables one. --------------------------------------------------------
  uint64_t settings_ack_timeout_ms = 10'000;
  uint64_t header_block_timeout_ms = 10'000;

  // --- Output -----------------------------------------------------------------------------------
  size_t output_high_watermark = 64 * 1024;
  size_t max_unwritten_output = 4 << 20;
};

}  // namespace h2::protocol
