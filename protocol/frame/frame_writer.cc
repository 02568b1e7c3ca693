#include "protocol/frame/frame_writer.h"

namespace h2::protocol {
namespace {

void put8(std::string& out, uint8_t v) {
  out.push_back(static_cast<char>(v));
}

void put16(std::string& out, uint16_t v) {
  const char bytes[2] = {static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, sizeof bytes);
}

void put32(std::string& out, uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  out.append(bytes, sizeof bytes);
}

uint32_t padding_size(const std::optional<Padding>& padding) {
  return padding ? 1u + padding->length : 0u;
}

uint8_t padded_flag(const std::optional<Padding>& padding) {
  return padding ? flags::kPadded : uint8_t{0};
}

void put_pad_length(std::string& out, const std::optional<Padding>& padding) {
  if (padding) put8(out, padding->length);
}

void put_padding(std::string& out, const std::optional<Padding>& padding) {
  if (!padding) return;
  if (padding->content.size() == padding->length) {
    out.append(padding->content);
  } else {
    write_padding_bytes(out, padding->length);
  }
}

void put_priority(std::string& out, const PrioritySpec& priority) {
  uint32_t dependency = priority.stream_dependency & kStreamIdMask;
  put32(out, priority.exclusive ? dependency | 0x80000000u : dependency);
  put8(out, priority.weight);
}

}  // namespace

void write_frame_header(std::string& out, uint32_t length, FrameType type, uint8_t flags,
                        uint32_t stream_id) {
  stream_id &= kStreamIdMask;
  // One append per header: this runs for every frame the connection sends.
  const char header[kFrameHeaderSize] = {
      static_cast<char>(length >> 16),    static_cast<char>(length >> 8),
      static_cast<char>(length),          static_cast<char>(type),
      static_cast<char>(flags),           static_cast<char>(stream_id >> 24),
      static_cast<char>(stream_id >> 16), static_cast<char>(stream_id >> 8),
      static_cast<char>(stream_id)};
  out.append(header, sizeof header);
}

void write_data_header(std::string& out, uint32_t stream_id, uint32_t data_length,
                       bool end_stream) {
  write_frame_header(out, data_length, FrameType::kData, end_stream ? flags::kEndStream : 0,
                     stream_id);
}

void write_padded_data_header(std::string& out, uint32_t stream_id, uint32_t data_length,
                              bool end_stream, uint8_t pad_length) {
  uint8_t frame_flags = flags::kPadded | (end_stream ? flags::kEndStream : 0);
  write_frame_header(out, data_length + 1 + pad_length, FrameType::kData, frame_flags, stream_id);
  put8(out, pad_length);
}

void write_padding_bytes(std::string& out, uint8_t pad_length) {
  out.append(pad_length, '\0');
}

void write_data(std::string& out, uint32_t stream_id, std::string_view data, bool end_stream,
                const std::optional<Padding>& padding) {
  uint32_t size = static_cast<uint32_t>(data.size());
  if (padding) {
    write_padded_data_header(out, stream_id, size, end_stream, padding->length);
  } else {
    write_data_header(out, stream_id, size, end_stream);
  }
  out.append(data);
  put_padding(out, padding);
}

void write_headers(std::string& out, uint32_t stream_id, std::string_view block_fragment,
                   bool end_stream, bool end_headers, const std::optional<PrioritySpec>& priority,
                   const std::optional<Padding>& padding) {
  uint32_t length = static_cast<uint32_t>(block_fragment.size()) + padding_size(padding) +
                    (priority ? kPrioritySpecSize : 0);
  uint8_t frame_flags = (end_stream ? flags::kEndStream : 0) |
                        (end_headers ? flags::kEndHeaders : 0) | padded_flag(padding) |
                        (priority ? flags::kPriority : 0);
  write_frame_header(out, length, FrameType::kHeaders, frame_flags, stream_id);
  put_pad_length(out, padding);
  if (priority) put_priority(out, *priority);
  out.append(block_fragment);
  put_padding(out, padding);
}

void write_continuation(std::string& out, uint32_t stream_id, std::string_view fragment,
                        bool end_headers) {
  write_frame_header(out, static_cast<uint32_t>(fragment.size()), FrameType::kContinuation,
                     end_headers ? flags::kEndHeaders : 0, stream_id);
  out.append(fragment);
}

void write_push_promise(std::string& out, uint32_t stream_id, uint32_t promised_id,
                        std::string_view fragment, bool end_headers,
                        const std::optional<Padding>& padding) {
  uint32_t length = static_cast<uint32_t>(fragment.size()) + 4 + padding_size(padding);
  uint8_t frame_flags = (end_headers ? flags::kEndHeaders : 0) | padded_flag(padding);
  write_frame_header(out, length, FrameType::kPushPromise, frame_flags, stream_id);
  put_pad_length(out, padding);
  put32(out, promised_id & kStreamIdMask);
  out.append(fragment);
  put_padding(out, padding);
}

void write_priority(std::string& out, uint32_t stream_id, const PrioritySpec& priority) {
  write_frame_header(out, kPrioritySpecSize, FrameType::kPriority, 0, stream_id);
  put_priority(out, priority);
}

void write_rst_stream(std::string& out, uint32_t stream_id, ErrorCode code) {
  write_frame_header(out, 4, FrameType::kRstStream, 0, stream_id);
  put32(out, static_cast<uint32_t>(code));
}

void write_settings(std::string& out, std::span<const Setting> settings) {
  write_frame_header(out, static_cast<uint32_t>(settings.size() * 6), FrameType::kSettings, 0, 0);
  for (const Setting& setting : settings) {
    put16(out, setting.id);
    put32(out, setting.value);
  }
}

void write_settings_ack(std::string& out) {
  write_frame_header(out, 0, FrameType::kSettings, flags::kAck, 0);
}

void write_ping(std::string& out, uint64_t opaque_data, bool ack) {
  write_frame_header(out, 8, FrameType::kPing, ack ? flags::kAck : 0, 0);
  put32(out, static_cast<uint32_t>(opaque_data >> 32));
  put32(out, static_cast<uint32_t>(opaque_data));
}

void write_goaway(std::string& out, uint32_t last_stream_id, ErrorCode code,
                  std::string_view debug_data) {
  write_frame_header(out, static_cast<uint32_t>(8 + debug_data.size()), FrameType::kGoaway, 0, 0);
  put32(out, last_stream_id & kStreamIdMask);
  put32(out, static_cast<uint32_t>(code));
  out.append(debug_data);
}

void write_window_update(std::string& out, uint32_t stream_id, uint32_t increment) {
  write_frame_header(out, 4, FrameType::kWindowUpdate, 0, stream_id);
  put32(out, increment & kStreamIdMask);
}

void write_priority_update(std::string& out, uint32_t prioritized_stream_id,
                           std::string_view priority_field_value) {
  write_frame_header(out, static_cast<uint32_t>(4 + priority_field_value.size()),
                     FrameType::kPriorityUpdate, 0, 0);
  put32(out, prioritized_stream_id & kStreamIdMask);
  out.append(priority_field_value);
}

}  // namespace h2::protocol
