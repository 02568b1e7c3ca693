// libFuzzer entry point for FrameDecoder. For any input it checks:
//  * no crash, no sanitizer report, bounded work;
//  * the visitor contract: well-nested start/piece/end calls, nothing after an error, every
//    DATA chunk / fragment a view inside the bytes just passed in, DATA chunks + padding equal
//    to the frame length, SETTINGS values within RFC 9113 §6.5.2 ranges;
//  * process_bytes consumes everything unless it stopped, and 0 once stopped;
//  * the same input split at input-derived points decodes to the same events.
// Built as a libFuzzer target with clang, and replayed by h2_fuzz_replay (any compiler) in CI.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame/frame_decoder.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using namespace h2::protocol;

[[noreturn]] void fail(const char* what) {
  h2::fuzz::fail("frame_decoder", what);
}

void check(bool ok, const char* what) {
  if (!ok) fail(what);
}

// Records a canonical event log (adjacent pieces coalesced) and checks the contract.
class CheckingVisitor final : public FrameVisitor {
 public:
  explicit CheckingVisitor(bool accept_stream_errors)
      : accept_stream_errors_(accept_stream_errors) {}

  std::string log;
  std::string_view input;  // the piece being processed, for view checks

  bool on_frame_header(const FrameHeader& h) override {
    alive();
    check(!in_frame_, "header inside a frame");
    in_frame_ = true;
    current_ = h;
    data_seen_ = padding_seen_ = 0;
    record('H', h);
    return true;
  }
  void on_data_start(const FrameHeader& h) override { same(h, FrameType::kData, 'D'); }
  void on_data_padding(const FrameHeader& h, uint32_t padding) override {
    same(h, FrameType::kData, 'P');
    check(padding >= 1 && padding <= h.length, "padding out of range");
    padding_seen_ = padding;
  }
  void on_data_chunk(uint32_t stream_id, std::string_view data) override {
    alive();
    check(in_frame_ && current_.type == FrameType::kData, "chunk outside DATA");
    check(stream_id == current_.stream_id, "chunk stream id");
    piece('d', data);
    data_seen_ += data.size();
  }
  void on_data_end(const FrameHeader& h) override {
    same(h, FrameType::kData, 'E');
    check(data_seen_ + padding_seen_ == h.length, "DATA chunks + padding != length");
    in_frame_ = false;
  }
  void on_headers_start(const FrameHeader& h, const std::optional<PrioritySpec>& p) override {
    same(h, FrameType::kHeaders, 'S');
    check(p.has_value() == h.has(flags::kPriority), "priority presence");
    if (p) number(p->stream_dependency), number(p->weight), number(p->exclusive);
  }
  void on_push_promise_start(const FrameHeader& h, uint32_t promised) override {
    same(h, FrameType::kPushPromise, 'S');
    check(promised != 0 && promised % 2 == 0 && promised <= kMaxStreamId, "promised id");
    number(promised);
  }
  void on_continuation_start(const FrameHeader& h) override {
    same(h, FrameType::kContinuation, 'S');
  }
  void on_header_block_fragment(std::string_view fragment) override {
    alive();
    check(in_frame_, "fragment outside a frame");
    piece('f', fragment);
    data_seen_ += fragment.size();
  }
  void on_header_frame_end(const FrameHeader& h) override {
    alive();
    check(h == current_, "header frame end mismatch");
    check(data_seen_ <= h.length, "fragments longer than the frame");
    log += 'F';
    in_frame_ = false;
  }
  void on_priority(const FrameHeader& h, const PrioritySpec& p) override {
    complete(h, FrameType::kPriority);
    check(h.length == 5, "PRIORITY size");
    number(p.stream_dependency), number(p.weight), number(p.exclusive);
  }
  void on_rst_stream(const FrameHeader& h, ErrorCode code) override {
    complete(h, FrameType::kRstStream);
    number(static_cast<uint32_t>(code));
  }
  void on_settings(const FrameHeader& h, std::span<const Setting> settings) override {
    complete(h, FrameType::kSettings);
    check(h.stream_id == 0, "SETTINGS stream");
    check(settings.size() * 6 == h.length, "SETTINGS count");
    for (const Setting& s : settings) {
      if (s.id == 2 || s.id == 8 || s.id == 9) check(s.value <= 1, "boolean setting");
      if (s.id == 4) check(s.value <= kMaxWindowSize, "INITIAL_WINDOW_SIZE");
      if (s.id == 5) {
        check(s.value >= kDefaultMaxFrameSize && s.value <= kMaxAllowedFrameSize, "MAX_FRAME_SIZE");
      }
      number(s.id), number(s.value);
    }
  }
  void on_ping(const FrameHeader& h, uint64_t opaque) override {
    complete(h, FrameType::kPing);
    number(static_cast<uint32_t>(opaque >> 32)), number(static_cast<uint32_t>(opaque));
  }
  void on_goaway(const FrameHeader& h, uint32_t last, ErrorCode code,
                 std::string_view debug) override {
    complete(h, FrameType::kGoaway);
    check(last <= kMaxStreamId && debug.size() + 8 <= h.length, "GOAWAY fields");
    number(last), number(static_cast<uint32_t>(code)), log.append(debug);
  }
  void on_window_update(const FrameHeader& h, uint32_t increment) override {
    complete(h, FrameType::kWindowUpdate);
    check(increment <= kMaxWindowSize, "increment reserved bit");
    number(increment);
  }
  void on_priority_update(const FrameHeader& h, uint32_t id, std::string_view value) override {
    complete(h, FrameType::kPriorityUpdate);
    check(id != 0 && h.stream_id == 0, "PRIORITY_UPDATE ids");
    number(id), log.append(value);
  }
  void on_unknown_frame(const FrameHeader& h) override {
    alive();
    check(h == current_ && in_frame_, "unknown frame mismatch");
    log += 'U';
    in_frame_ = false;
  }
  bool on_frame_stream_error(const FrameHeader& h, ErrorCode code, std::string_view) override {
    alive();
    check(in_frame_ && h == current_, "stream error not right after its frame header");
    check(h.type == FrameType::kPriority && code == ErrorCode::kFrameSizeError, "stream error");
    record('R', h);
    if (accept_stream_errors_) in_frame_ = false;
    return accept_stream_errors_;
  }
  void on_frame_error(const FrameHeader& h, ErrorCode code, std::string_view reason) override {
    alive();
    check(!reason.empty(), "error without reason");
    record('X', h);
    number(static_cast<uint32_t>(code));
    errored_ = true;
  }

  bool errored() const { return errored_; }

 private:
  void alive() const { check(!errored_, "callback after a connection error"); }
  void same(const FrameHeader& h, FrameType type, char tag) {
    alive();
    check(in_frame_ && h == current_ && h.type == type, "start/end mismatch");
    log += tag;
  }
  void complete(const FrameHeader& h, FrameType type) {
    same(h, type, 'C');
    in_frame_ = false;
  }
  void piece(char tag, std::string_view bytes) {
    check(!bytes.empty(), "empty piece");
    check(
        bytes.data() >= input.data() && bytes.data() + bytes.size() <= input.data() + input.size(),
        "piece is not a view into the input");
    // Coalesce with the previous piece when nothing was logged in between.
    if (piece_end_ == 0 || piece_end_ != log.size() || log[piece_tag_at_] != tag) {
      piece_tag_at_ = log.size();
      log += tag;
    }
    log.append(bytes);
    piece_end_ = log.size();
  }
  void number(uint32_t v) {
    log += '#';
    log.append(reinterpret_cast<const char*>(&v), sizeof v);
  }
  void record(char tag, const FrameHeader& h) {
    log += tag;
    number(h.length), number(static_cast<uint8_t>(h.type)), number(h.flags), number(h.stream_id);
  }

  bool accept_stream_errors_;
  bool in_frame_ = false;
  bool errored_ = false;
  FrameHeader current_{};
  size_t data_seen_ = 0;
  uint32_t padding_seen_ = 0;
  size_t piece_tag_at_ = 0;
  size_t piece_end_ = 0;
};

struct Result {
  std::string log;
  size_t consumed = 0;
};

Result run(std::string_view bytes, const FrameDecoderOptions& options, bool accept_stream_errors,
           const std::vector<size_t>& cuts) {
  CheckingVisitor visitor(accept_stream_errors);
  FrameDecoder decoder(&visitor, options);
  Result result;
  size_t begin = 0;
  for (size_t i = 0; i <= cuts.size(); ++i) {
    size_t end = i < cuts.size() ? cuts[i] : bytes.size();
    visitor.input = bytes.substr(begin, end - begin);
    bool was_stopped = decoder.stopped();
    size_t n = decoder.process_bytes(visitor.input);
    check(n <= visitor.input.size(), "consumed more than given");
    if (was_stopped) check(n == 0, "consumed after stopping");
    if (!decoder.stopped()) check(n == visitor.input.size(), "short consume without stopping");
    check(decoder.has_error() == visitor.errored(), "has_error disagrees with the visitor");
    result.consumed += n;
    begin = end;
  }
  result.log = std::move(visitor.log);
  return result;
}

}  // namespace

H2_FUZZ_TARGET(frame_decoder) {
  if (size < 2) return;
  // Byte 0 picks the options, byte 1 seeds the split points; the rest is the stream.
  const uint8_t knobs = data[0];
  uint32_t seed = data[1];
  std::string_view bytes(reinterpret_cast<const char*>(data + 2), size - 2);
  FrameDecoderOptions options;
  if (knobs & 1) options.max_frame_size = kMaxAllowedFrameSize;
  if (knobs & 2) options.max_settings_entries = 3;
  if (knobs & 4) options.max_goaway_debug_size = 4;
  if (knobs & 8) options.max_priority_update_size = 2;
  const bool accept_stream_errors = (knobs & 16) != 0;

  Result whole = run(bytes, options, accept_stream_errors, {});
  std::vector<size_t> cuts;
  for (size_t at = 0; at < bytes.size();) {
    seed = seed * 1103515245u + 12345u;
    at += 1 + (seed >> 16) % ((knobs & 32) ? 3 : 40);
    if (at < bytes.size()) cuts.push_back(at);
  }
  Result split = run(bytes, options, accept_stream_errors, cuts);
  check(whole.log == split.log, "split input decoded differently");
  check(whole.consumed == split.consumed, "split input consumed differently");
}
