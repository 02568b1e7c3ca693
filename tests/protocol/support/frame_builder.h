// Fluent builder of HTTP/2 wire bytes for tests: a client's side of a conversation, including
// malformed frames. Header-only; well-formed frames go through protocol/frame/frame_writer.h, so
// the bytes are exactly what our own writer produces (the writer itself is tested against the
// http2-frame-test-case vectors).
//
//   std::string wire = FrameBuilder()
//                          .preface()
//                          .settings({{4, 1 << 20}})
//                          .settings_ack()
//                          .headers(1, FrameBuilder::literal_block({{":method", "GET"}, ...}),
//                                   flags::kEndHeaders | flags::kEndStream)
//                          .take();
//
// raw(type, flags, stream, payload) writes any frame, and raw_with_length() one whose header lies
// about its length.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "protocol/frame/frame_types.h"
#include "protocol/frame/frame_writer.h"

namespace h2::test {

class FrameBuilder {
 public:
  using ErrorCode = protocol::ErrorCode;
  using FrameType = protocol::FrameType;
  using Padding = protocol::Padding;
  using PrioritySpec = protocol::PrioritySpec;
  using Setting = protocol::Setting;

  // RFC 9113 §3.4 client connection preface (the 24 octets only; add settings() after it).
  FrameBuilder& preface() {
    out_.append(protocol::kConnectionPreface);
    return *this;
  }

  FrameBuilder& settings(std::initializer_list<Setting> settings = {}) {
    protocol::write_settings(out_, std::span<const Setting>(settings.begin(), settings.size()));
    return *this;
  }
  FrameBuilder& settings(const std::vector<Setting>& settings) {
    protocol::write_settings(out_, settings);
    return *this;
  }
  FrameBuilder& settings_ack() {
    protocol::write_settings_ack(out_);
    return *this;
  }

  // `frame_flags` may hold kEndStream and kEndHeaders; kPriority and kPadded are set from
  // `priority` and `padding`.
  FrameBuilder& headers(uint32_t stream, std::string_view hpack_block,
                        uint8_t frame_flags = protocol::flags::kEndHeaders,
                        const std::optional<PrioritySpec>& priority = {},
                        const std::optional<Padding>& padding = {}) {
    protocol::write_headers(out_, stream, hpack_block,
                            has(frame_flags, protocol::flags::kEndStream),
                            has(frame_flags, protocol::flags::kEndHeaders), priority, padding);
    return *this;
  }

  // One header block cut into a HEADERS and as many CONTINUATION frames as `fragment_size` needs
  // (RFC 9113 §6.10); END_HEADERS on the last.
  FrameBuilder& header_block(uint32_t stream, std::string_view hpack_block, size_t fragment_size,
                             bool end_stream) {
    std::string_view first = hpack_block.substr(0, fragment_size);
    std::string_view rest = hpack_block.substr(first.size());
    protocol::write_headers(out_, stream, first, end_stream, rest.empty());
    while (!rest.empty()) {
      std::string_view piece = rest.substr(0, fragment_size);
      rest.remove_prefix(piece.size());
      protocol::write_continuation(out_, stream, piece, rest.empty());
    }
    return *this;
  }

  FrameBuilder& continuation(uint32_t stream, std::string_view fragment, bool end_headers = true) {
    protocol::write_continuation(out_, stream, fragment, end_headers);
    return *this;
  }

  // `padding` is a pad length: the frame gets PADDED, the length octet and that many zeros.
  FrameBuilder& data(uint32_t stream, std::string_view bytes, bool end_stream = false,
                     std::optional<uint8_t> padding = {}) {
    std::optional<Padding> pad;
    if (padding) pad = Padding{*padding};
    protocol::write_data(out_, stream, bytes, end_stream, pad);
    return *this;
  }

  FrameBuilder& push_promise(uint32_t stream, uint32_t promised_stream, std::string_view fragment,
                             bool end_headers = true) {
    protocol::write_push_promise(out_, stream, promised_stream, fragment, end_headers);
    return *this;
  }

  FrameBuilder& priority(uint32_t stream, uint32_t dependency, uint8_t weight = 15,
                         bool exclusive = false) {
    protocol::write_priority(out_, stream, PrioritySpec{dependency, exclusive, weight});
    return *this;
  }

  FrameBuilder& rst_stream(uint32_t stream, ErrorCode code) {
    protocol::write_rst_stream(out_, stream, code);
    return *this;
  }

  FrameBuilder& ping(uint64_t opaque_data = 0, bool ack = false) {
    protocol::write_ping(out_, opaque_data, ack);
    return *this;
  }

  FrameBuilder& goaway(uint32_t last_stream_id, ErrorCode code, std::string_view debug = {}) {
    protocol::write_goaway(out_, last_stream_id, code, debug);
    return *this;
  }

  FrameBuilder& window_update(uint32_t stream, uint32_t increment) {
    protocol::write_window_update(out_, stream, increment);
    return *this;
  }

  // RFC 9218 §7.1, e.g. priority_update(1, "u=0, i").
  FrameBuilder& priority_update(uint32_t prioritized_stream, std::string_view field_value) {
    protocol::write_priority_update(out_, prioritized_stream, field_value);
    return *this;
  }

  // Any frame, well-formed or not: the header says payload.size(); `type` may be unknown and
  // `stream` may carry the reserved bit (it is written as given).
  FrameBuilder& raw(uint8_t type, uint8_t frame_flags, uint32_t stream, std::string_view payload) {
    return raw_with_length(static_cast<uint32_t>(payload.size()), type, frame_flags, stream,
                           payload);
  }
  FrameBuilder& raw(FrameType type, uint8_t frame_flags, uint32_t stream,
                    std::string_view payload) {
    return raw(static_cast<uint8_t>(type), frame_flags, stream, payload);
  }
  // A header whose length field is `length` whatever the payload that follows.
  FrameBuilder& raw_with_length(uint32_t length, uint8_t type, uint8_t frame_flags, uint32_t stream,
                                std::string_view payload) {
    out_.push_back(static_cast<char>(length >> 16 & 0xff));
    out_.push_back(static_cast<char>(length >> 8 & 0xff));
    out_.push_back(static_cast<char>(length & 0xff));
    out_.push_back(static_cast<char>(type));
    out_.push_back(static_cast<char>(frame_flags));
    for (int shift = 24; shift >= 0; shift -= 8) {
      out_.push_back(static_cast<char>(stream >> shift & 0xff));
    }
    out_.append(payload);
    return *this;
  }
  // Arbitrary octets (a truncated frame, garbage instead of the preface...).
  FrameBuilder& bytes(std::string_view octets) {
    out_.append(octets);
    return *this;
  }

  // A header block made only of "literal header field without indexing, new name" entries
  // (RFC 7541 §6.2.2), no Huffman: valid input for any HPACK decoder, independent of our encoder.
  static std::string literal_block(
      std::initializer_list<std::pair<std::string_view, std::string_view>> fields) {
    std::string block;
    for (const auto& [name, value] : fields) {
      block.push_back('\0');
      append_string(block, name);
      append_string(block, value);
    }
    return block;
  }

  const std::string& str() const { return out_; }
  std::string_view view() const { return out_; }
  size_t size() const { return out_.size(); }
  std::string take() { return std::exchange(out_, {}); }
  FrameBuilder& clear() {
    out_.clear();
    return *this;
  }

 private:
  static bool has(uint8_t value, uint8_t flag) { return (value & flag) != 0; }

  // RFC 7541 §5.1 integer with a 7-bit prefix, H bit 0, then the raw octets (§5.2).
  static void append_string(std::string& out, std::string_view s) {
    size_t length = s.size();
    if (length < 127) {
      out.push_back(static_cast<char>(length));
    } else {
      out.push_back(static_cast<char>(127));
      length -= 127;
      while (length >= 128) {
        out.push_back(static_cast<char>(length % 128 + 128));
        length /= 128;
      }
      out.push_back(static_cast<char>(length));
    }
    out.append(s);
  }

  std::string out_;
};

}  // namespace h2::test
