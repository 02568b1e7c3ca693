// Serialization of HTTP/2 frames (RFC 9113 §4.1, §6; RFC 9218 §7.1) by appending to a caller's
// std::string. Nothing is allocated beyond that string's growth. Every function appends exactly one
// complete frame (or, for the *_header functions, the frame's leading octets) and never checks
// connection state: callers respect the peer's MAX_FRAME_SIZE and stream rules. Preconditions
// (lengths that fit 24 bits, ids that fit 31 bits) are the caller's; ids are masked to 31 bits.
//
// DATA bodies are never copied here: write_data_header() emits the 9-byte header and the caller
// gather-writes the body after it:   [write_data_header(out, 1, body.size(), true)] [body]
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "protocol/frame/frame_types.h"

namespace h2::protocol {

// Padding for DATA, HEADERS and PUSH_PROMISE (RFC 9113 §6.1). The frame gets the PADDED flag, a
// pad length octet and `length` padding octets: zeros (as RFC 9113 requires of senders) unless
// `content` is given, which must then be exactly `length` bytes (used to reproduce test vectors).
struct Padding {
  uint8_t length = 0;
  std::string_view content = {};
};

// The 9-octet frame header of RFC 9113 §4.1.
void write_frame_header(std::string& out, uint32_t length, FrameType type, uint8_t flags,
                        uint32_t stream_id);

// DATA header only (9 octets); the caller sends `data_length` body bytes after it.
void write_data_header(std::string& out, uint32_t stream_id, uint32_t data_length, bool end_stream);
// Padded DATA header: 9 octets + the pad length octet. The caller sends `data_length` body bytes,
// then write_padding_bytes(out, pad_length) (or its own zeros).
void write_padded_data_header(std::string& out, uint32_t stream_id, uint32_t data_length,
                              bool end_stream, uint8_t pad_length);
void write_padding_bytes(std::string& out, uint8_t pad_length);
// A whole DATA frame, body copied: for tests and small control bodies, not for the response path.
void write_data(std::string& out, uint32_t stream_id, std::string_view data, bool end_stream,
                const std::optional<Padding>& padding = {});

void write_headers(std::string& out, uint32_t stream_id, std::string_view block_fragment,
                   bool end_stream, bool end_headers,
                   const std::optional<PrioritySpec>& priority = {},
                   const std::optional<Padding>& padding = {});
void write_continuation(std::string& out, uint32_t stream_id, std::string_view fragment,
                        bool end_headers);
void write_push_promise(std::string& out, uint32_t stream_id, uint32_t promised_id,
                        std::string_view fragment, bool end_headers,
                        const std::optional<Padding>& padding = {});
void write_priority(std::string& out, uint32_t stream_id, const PrioritySpec& priority);
void write_rst_stream(std::string& out, uint32_t stream_id, ErrorCode code);
void write_settings(std::string& out, std::span<const Setting> settings);
void write_settings_ack(std::string& out);
void write_ping(std::string& out, uint64_t opaque_data, bool ack);
void write_goaway(std::string& out, uint32_t last_stream_id, ErrorCode code,
                  std::string_view debug_data = {});
void write_window_update(std::string& out, uint32_t stream_id, uint32_t increment);
void write_priority_update(std::string& out, uint32_t prioritized_stream_id,
                           std::string_view priority_field_value);

}  // namespace h2::protocol
