// Incremental, sans-I/O HTTP/2 frame decoder (RFC 9113 §4, §6; RFC 9218 §7.1).
//
// Bytes go in through FrameDecoder::process_bytes in pieces of any size; events come out through
// a FrameVisitor. The decoder never holds a whole frame: DATA and header-block bytes are handed out
// as views into the caller's input as they arrive, a frame header is judged the moment its 9 bytes
// are in (before any payload is buffered), and only the few fixed-size fields of a frame (at most
// 8 octets), one SETTINGS entry (6 octets) and a bounded GOAWAY debug / PRIORITY_UPDATE value are
// copied into buffers owned by the decoder and reused across frames.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame/frame_types.h"

namespace h2::protocol {

// Limits of the decoder. Every field has a safe default.
struct FrameDecoderOptions {
  // OUR SETTINGS_MAX_FRAME_SIZE: a larger frame is a FRAME_SIZE_ERROR (RFC 9113 §4.2). Clamped to
  // [kDefaultMaxFrameSize, kMaxAllowedFrameSize]. Raise it (set_max_frame_size) only once the peer
  // has ACKed the SETTINGS that announced it.
  uint32_t max_frame_size = kDefaultMaxFrameSize;
  // Entries one SETTINGS frame may carry. 2730 is every entry of a default-sized frame
  // (16384 / 6), so no frame a peer may send at the default size is refused; above it the frame is
  // answered with ENHANCE_YOUR_CALM. Bounds the reusable entry buffer to 2730 * 8 bytes.
  size_t max_settings_entries = kDefaultMaxFrameSize / 6;
  // GOAWAY debug data is diagnostic only (RFC 9113 §6.8): bytes beyond this are skipped, and the
  // visitor sees the prefix.
  size_t max_goaway_debug_size = 1024;
  // A PRIORITY_UPDATE whose Priority Field Value is longer than this is not buffered: the frame is
  // ignored (reported through on_unknown_frame), as an unparsable value would be (RFC 9218 §7.1).
  // Real values ("u=3, i") are a few bytes.
  size_t max_priority_update_size = 1024;
};

// Receives the decoded frames. All views are valid only during the call. The decoder never
// judges connection state (stream states, windows, CONTINUATION sequencing): that is the
// connection's job; it judges only what one frame shows on its own.
//
// Example call sequences:
//
//   DATA of 13 bytes padded with 6 (length 20), arriving in two reads:
//     on_frame_header(h{DATA, length=20, flags=PADDED, stream=2})
//     on_data_start(h)
//     on_data_padding(h, 7)              // 6 padding octets + the pad length octet
//     on_data_chunk(2, "Hello, w")       // first read
//     on_data_chunk(2, "orld!")          // second read
//     on_data_end(h)
//
//   A header block in HEADERS (no END_HEADERS) + CONTINUATION (END_HEADERS):
//     on_frame_header(h1) on_headers_start(h1, priority?) on_header_block_fragment(...)*
//     on_header_frame_end(h1)
//     on_frame_header(h2) on_continuation_start(h2) on_header_block_fragment(...)*
//     on_header_frame_end(h2)            // h2.has(flags::kEndHeaders): block complete
//
//   SETTINGS with two entries:  on_frame_header(h) on_settings(h, {{1, 8192}, {3, 5000}})
//   Unknown type 0xfa:          on_frame_header(h) on_unknown_frame(h)
//   Oversized frame:            on_frame_error(h, FRAME_SIZE_ERROR, reason)   // after 9 octets
//   DATA with too much padding: on_frame_header(h) on_frame_error(h, PROTOCOL_ERROR, reason)
//   PRIORITY of length 4:       on_frame_header(h) on_frame_stream_error(h, FRAME_SIZE_ERROR, ..)
//
// Zero-length DATA gives on_data_start then on_data_end. Empty chunks/fragments are never
// delivered. A visitor may call FrameDecoder::stop() from any callback.
class FrameVisitor {
 public:
  virtual ~FrameVisitor() = default;

  // Called for every frame header once its 9 bytes are in and the header passed the checks the
  // frame layer can make (size, stream id 0 rules, fixed sizes), before any payload is buffered.
  // Return false to stop the decoder (it then returns the bytes consumed so far, the 9 header bytes
  // included, and stays stopped).
  virtual bool on_frame_header(const FrameHeader& /*h*/) { return true; }

  // DATA payload delivered in pieces as it arrives (padding stripped, never buffered or copied by
  // the decoder): on_data_start, then on_data_padding if PADDED, then on_data_chunk 0..n times,
  // then on_data_end. Flow control counts the whole frame length h.length (RFC 9113 §6.1), i.e. the
  // chunks plus the padding_and_pad_length reported by on_data_padding.
  virtual void on_data_start(const FrameHeader& h) = 0;
  virtual void on_data_padding(const FrameHeader& /*h*/, uint32_t /*padding_and_pad_length*/) {}
  virtual void on_data_chunk(uint32_t stream_id, std::string_view data) = 0;
  virtual void on_data_end(const FrameHeader& h) = 0;

  // HEADERS / PUSH_PROMISE / CONTINUATION, also streamed (the header block is never buffered
  // whole). After the *_start call come 0..n fragments then on_header_frame_end for that frame;
  // the block is complete when that frame has END_HEADERS. A self-dependent priority (RFC 9113
  // §5.3.1) is passed through: judging it is a stream error, the connection's job (the block must
  // still reach HPACK).
  virtual void on_headers_start(const FrameHeader& h,
                                const std::optional<PrioritySpec>& priority) = 0;
  virtual void on_push_promise_start(const FrameHeader& h, uint32_t promised_stream_id) = 0;
  virtual void on_continuation_start(const FrameHeader& h) = 0;
  virtual void on_header_block_fragment(std::string_view fragment) = 0;
  virtual void on_header_frame_end(const FrameHeader& h) = 0;

  // Self-dependency (stream error, RFC 9113 §5.3.1) is left to the connection.
  virtual void on_priority(const FrameHeader& h, const PrioritySpec& p) = 0;
  // `code` is the raw wire value via static_cast: it may be outside the enum.
  virtual void on_rst_stream(const FrameHeader& h, ErrorCode code) = 0;
  // Non-ACK: every entry in wire order (duplicates kept, unknown ids kept for the caller to
  // ignore); known values were already validated (RFC 9113 §6.5.2). ACK: empty span.
  virtual void on_settings(const FrameHeader& h, std::span<const Setting> settings) = 0;
  // The 8 opaque octets read big-endian; write_ping(out, opaque, ack) puts them back identically.
  virtual void on_ping(const FrameHeader& h, uint64_t opaque_data) = 0;
  // `debug_data` is at most FrameDecoderOptions::max_goaway_debug_size bytes (a prefix).
  virtual void on_goaway(const FrameHeader& h, uint32_t last_stream_id, ErrorCode code,
                         std::string_view debug_data) = 0;
  // `increment` may be 0: on a stream that is a stream error, on stream 0 a connection error
  // (RFC 9113 §6.9) — the connection decides.
  virtual void on_window_update(const FrameHeader& h, uint32_t increment) = 0;
  virtual void on_priority_update(const FrameHeader& h, uint32_t prioritized_stream_id,
                                  std::string_view priority_field_value) = 0;
  // Unknown frame type: payload skipped (RFC 9113 §5.5). Also an over-long PRIORITY_UPDATE value.
  virtual void on_unknown_frame(const FrameHeader& /*h*/) {}

  // A frame-level error the RFC allows to be a STREAM error: today only a PRIORITY frame whose
  // length is not 5 (RFC 9113 §6.3, FRAME_SIZE_ERROR). It comes right after on_frame_header(h)
  // (so sequencing rules such as RFC 9113 §6.10 are applied first) and replaces the frame's other
  // callbacks. Return true to handle it as a stream error (RST_STREAM h.stream_id); the decoder
  // then skips the payload and goes on. The default returns false: the decoder reports it through
  // on_frame_error (RFC 9113 §5.4 allows treating any stream error as a connection error).
  virtual bool on_frame_stream_error(const FrameHeader& /*h*/, ErrorCode /*code*/,
                                     std::string_view /*reason*/) {
    return false;
  }

  // Connection error found by the frame layer (frame size, fixed-size frames, stream id 0/non-0
  // rules, padding longer than payload, PUSH_PROMISE ids, SETTINGS values of RFC 9113 §6.5.2,
  // PRIORITY_UPDATE ids). The caller should send GOAWAY(code). After it the decoder stops.
  // Errors visible in the 9-octet header come instead of on_frame_header; errors in the payload's
  // fixed fields (padding, promised id, PRIORITY_UPDATE id) or SETTINGS values come after
  // on_frame_header, in place of the frame's *_start / on_settings / on_priority_update call.
  virtual void on_frame_error(const FrameHeader& h, ErrorCode code, std::string_view reason) = 0;
};

class FrameDecoder {
 public:
  // `visitor` is not owned and must outlive the decoder.
  explicit FrameDecoder(FrameVisitor* visitor, const FrameDecoderOptions& options = {});

  // Feeds the next bytes of the stream (any split). Returns how many were consumed: all of them,
  // unless the decoder stopped (visitor returned false, called stop(), or an error was reported),
  // in which case it is the count up to and including the byte that completed the stopping event.
  // Once stopped, returns 0.
  size_t process_bytes(std::string_view bytes);

  // Our SETTINGS_MAX_FRAME_SIZE, to be raised after our SETTINGS is ACKed. Clamped to
  // [kDefaultMaxFrameSize, kMaxAllowedFrameSize]. Applies from the next frame header.
  void set_max_frame_size(uint32_t size);
  uint32_t max_frame_size() const { return options_.max_frame_size; }

  // Stops decoding for good; safe to call from a visitor callback.
  void stop() { stopped_ = true; }
  bool stopped() const { return stopped_; }
  bool has_error() const { return has_error_; }
  // True between frames (no partial frame buffered or in progress): a clean place for EOF.
  bool at_frame_boundary() const { return state_ == State::kHeader && filled_ == 0; }

 private:
  enum class State : uint8_t {
    kHeader,   // collecting the 9-byte frame header
    kPrefix,   // collecting fixed fields: pad length, priority, promised id, whole PING...
    kBody,     // streaming the variable part (data, fragment, settings, debug, value, skip)
    kPadding,  // skipping the padding
  };

  size_t on_header_bytes(std::string_view bytes);
  size_t on_prefix_bytes(std::string_view bytes);
  size_t on_body_bytes(std::string_view bytes);
  size_t on_padding_bytes(std::string_view bytes);

  // kFailed: error reported (decoder stopped); kStreamError: a stream error to offer the visitor
  // after on_frame_header (RFC 9113 §6.3 PRIORITY size).
  enum class HeaderVerdict : uint8_t { kDecode, kStreamError, kFailed };
  HeaderVerdict check_header();         // judges header_ before any payload is read
  uint8_t compute_prefix_size() const;  // fixed fields to collect before the body
  void start_body();                    // prefix complete: validate it, report *_start
  void enter_body(uint32_t body_size);
  void end_body();             // body done: padding next, or the frame is finished
  bool take_settings_entry();  // one 6-byte entry from fixed_ into settings_
  void finish_frame();         // end callbacks, back to kHeader
  void fail(ErrorCode code, std::string_view reason);

  FrameVisitor* visitor_;
  FrameDecoderOptions options_;
  State state_ = State::kHeader;
  bool stopped_ = false;
  bool has_error_ = false;
  // How the body is consumed when it is not decoded: kUnknown reports on_unknown_frame at the end,
  // kSilent (payload of a frame already answered with a stream error) reports nothing.
  enum class Skip : uint8_t { kNone, kUnknown, kSilent };
  Skip skip_ = Skip::kNone;

  FrameHeader header_{};
  std::array<uint8_t, 9> fixed_{};  // frame header, then the prefix / one SETTINGS entry
  size_t filled_ = 0;
  uint32_t body_remaining_ = 0;
  uint8_t prefix_size_ = 0;
  uint8_t pad_length_ = 0;
  uint32_t padding_remaining_ = 0;

  // Reused across frames; capacity only grows to the bound of FrameDecoderOptions.
  std::vector<Setting> settings_;
  std::string value_;            // GOAWAY debug data / PRIORITY_UPDATE field value
  uint32_t last_stream_id_ = 0;  // GOAWAY last id / PRIORITY_UPDATE prioritized id
  uint32_t goaway_code_ = 0;
};

}  // namespace h2::protocol
