// A FrameVisitor for the frame tests that folds the callbacks of each frame into one DecodedFrame
// (chunks and fragments concatenated), so a decode of the whole input and a decode of the same
// input split anywhere can be compared with ==. It also checks the call order the visitor contract
// promises (start -> pieces -> end, nothing interleaved).
#pragma once

#include <gtest/gtest.h>

#include <optional>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame/frame_decoder.h"

namespace h2::protocol {
// Readable gtest failure messages.
inline void PrintTo(const FrameHeader& h, std::ostream* os) {
  *os << frame_type_name(h.type) << "(type=" << int{static_cast<uint8_t>(h.type)}
      << " len=" << h.length << " flags=0x" << std::hex << int{h.flags} << std::dec
      << " stream=" << h.stream_id << ")";
}
inline void PrintTo(ErrorCode code, std::ostream* os) {
  *os << error_code_name(code);
}
}  // namespace h2::protocol

namespace h2::test {

struct DecodedFrame {
  protocol::FrameHeader header{};
  std::string payload;  // DATA bytes, header block fragment, GOAWAY debug, PRIORITY_UPDATE value
  std::optional<uint32_t> padding_and_pad_length;
  std::optional<protocol::PrioritySpec> priority;
  uint32_t promised_stream_id = 0;
  std::vector<protocol::Setting> settings;
  uint64_t ping = 0;
  uint32_t id = 0;  // GOAWAY last stream id / PRIORITY_UPDATE prioritized stream id
  uint32_t code = 0;
  uint32_t increment = 0;
  bool unknown = false;
  bool complete = false;
  friend bool operator==(const DecodedFrame&, const DecodedFrame&) = default;
};

struct FrameError {
  protocol::FrameHeader header{};
  protocol::ErrorCode code{};
  std::string reason;
  bool stream_error = false;
  friend bool operator==(const FrameError& a, const FrameError& b) {
    return a.header == b.header && a.code == b.code && a.stream_error == b.stream_error;
  }
};

class FrameRecorder : public protocol::FrameVisitor {
 public:
  std::vector<DecodedFrame> frames;
  std::vector<FrameError> errors;
  std::vector<std::string_view> data_chunks;  // views as delivered (valid while input lives)
  size_t headers_seen = 0;
  bool accept_stream_errors = false;  // answer of on_frame_stream_error
  int stop_after_headers = -1;        // on_frame_header returns false for this header (0-based)

  bool on_frame_header(const protocol::FrameHeader& h) override {
    EXPECT_FALSE(in_frame_) << "frame header inside a frame";
    frames.emplace_back().header = h;
    in_frame_ = true;
    return static_cast<int>(headers_seen++) != stop_after_headers;
  }
  void on_data_start(const protocol::FrameHeader& h) override { expect_current(h); }
  void on_data_padding(const protocol::FrameHeader& h, uint32_t padding) override {
    expect_current(h);
    current().padding_and_pad_length = padding;
  }
  void on_data_chunk(uint32_t stream_id, std::string_view data) override {
    EXPECT_FALSE(data.empty()) << "empty chunk delivered";
    EXPECT_EQ(stream_id, current().header.stream_id);
    current().payload.append(data);
    data_chunks.push_back(data);
  }
  void on_data_end(const protocol::FrameHeader& h) override { end(h); }
  void on_headers_start(const protocol::FrameHeader& h,
                        const std::optional<protocol::PrioritySpec>& priority) override {
    expect_current(h);
    current().priority = priority;
  }
  void on_push_promise_start(const protocol::FrameHeader& h, uint32_t promised) override {
    expect_current(h);
    current().promised_stream_id = promised;
  }
  void on_continuation_start(const protocol::FrameHeader& h) override { expect_current(h); }
  void on_header_block_fragment(std::string_view fragment) override {
    EXPECT_FALSE(fragment.empty()) << "empty fragment delivered";
    current().payload.append(fragment);
  }
  void on_header_frame_end(const protocol::FrameHeader& h) override { end(h); }
  void on_priority(const protocol::FrameHeader& h, const protocol::PrioritySpec& p) override {
    current().priority = p;
    end(h);
  }
  void on_rst_stream(const protocol::FrameHeader& h, protocol::ErrorCode code) override {
    current().code = static_cast<uint32_t>(code);
    end(h);
  }
  void on_settings(const protocol::FrameHeader& h,
                   std::span<const protocol::Setting> settings) override {
    current().settings.assign(settings.begin(), settings.end());
    end(h);
  }
  void on_ping(const protocol::FrameHeader& h, uint64_t opaque) override {
    current().ping = opaque;
    end(h);
  }
  void on_goaway(const protocol::FrameHeader& h, uint32_t last_stream_id, protocol::ErrorCode code,
                 std::string_view debug) override {
    current().id = last_stream_id;
    current().code = static_cast<uint32_t>(code);
    current().payload = debug;
    end(h);
  }
  void on_window_update(const protocol::FrameHeader& h, uint32_t increment) override {
    current().increment = increment;
    end(h);
  }
  void on_priority_update(const protocol::FrameHeader& h, uint32_t prioritized,
                          std::string_view value) override {
    current().id = prioritized;
    current().payload = value;
    end(h);
  }
  void on_unknown_frame(const protocol::FrameHeader& h) override {
    current().unknown = true;
    end(h);
  }
  bool on_frame_stream_error(const protocol::FrameHeader& h, protocol::ErrorCode code,
                             std::string_view reason) override {
    expect_current(h);  // comes right after on_frame_header
    errors.push_back(FrameError{h, code, std::string(reason), true});
    if (accept_stream_errors) in_frame_ = false;  // the frame ends here, left incomplete
    return accept_stream_errors;
  }
  void on_frame_error(const protocol::FrameHeader& h, protocol::ErrorCode code,
                      std::string_view reason) override {
    EXPECT_TRUE(errors.empty() || errors.back().stream_error) << "second connection error";
    errors.push_back(FrameError{h, code, std::string(reason), false});
  }

  // The connection error, if any.
  std::optional<protocol::ErrorCode> error_code() const {
    for (const FrameError& e : errors) {
      if (!e.stream_error) return e.code;
    }
    return std::nullopt;
  }

 private:
  DecodedFrame& current() {
    EXPECT_TRUE(in_frame_ && !frames.empty()) << "payload callback outside a frame";
    if (frames.empty()) frames.emplace_back();
    return frames.back();
  }
  void expect_current(const protocol::FrameHeader& h) { EXPECT_EQ(current().header, h); }
  void end(const protocol::FrameHeader& h) {
    expect_current(h);
    current().complete = true;
    in_frame_ = false;
  }

  bool in_frame_ = false;
};

}  // namespace h2::test
