// ServerConnection fuzz target: a whole sans-I/O server connection fed raw bytes by a driver that
// follows the embedder contract (server_connection.h), with a handler that answers each request
// in one of the respond modes (chosen from the stream id and the input): a string, a large
// string (flow control), a stream with flushes and trailers, reading the body first, a 103 then
// the answer, a push, a reset, and an answer deferred to a later driving step.
// Checks: no crash or sanitizer report; everything the server sends decodes as well-formed
// HTTP/2 frames (our FrameDecoder, with the client's view of the limits); every stream the
// handler saw ends with exactly one on_stream_closed; output is bounded.
// Input: [options][seed] then chunks of [control][len][len bytes]; control picks the step
// after the chunk (drain with partial writes, advance the clock, peer EOF, graceful shutdown).
// Bit 7 of [options] prefixes a valid client preface + SETTINGS, so inputs reach frames quickly.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/frame/frame_decoder.h"
#include "protocol/server_connection.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using namespace h2::protocol;

void check(bool ok, const char* what) {
  if (!ok) h2::fuzz::fail("connection", what);
}

// Decodes what the server sends; a frame error there is a server bug.
class OutputChecker final : public FrameVisitor {
 public:
  OutputChecker() : decoder_(this, client_options()) {}
  void feed(std::string_view bytes) {
    decoder_.process_bytes(bytes);
    check(!decoder_.has_error(), error_.c_str());
  }
  bool goaway_seen = false;

  void on_data_start(const FrameHeader&) override {}
  void on_data_chunk(uint32_t, std::string_view) override {}
  void on_data_end(const FrameHeader&) override {}
  void on_headers_start(const FrameHeader&, const std::optional<PrioritySpec>&) override {}
  void on_push_promise_start(const FrameHeader&, uint32_t) override {}
  void on_continuation_start(const FrameHeader&) override {}
  void on_header_block_fragment(std::string_view) override {}
  void on_header_frame_end(const FrameHeader&) override {}
  void on_priority(const FrameHeader&, const PrioritySpec&) override {}
  void on_rst_stream(const FrameHeader&, ErrorCode) override {}
  void on_settings(const FrameHeader&, std::span<const Setting>) override {}
  void on_ping(const FrameHeader&, uint64_t) override {}
  void on_goaway(const FrameHeader&, uint32_t, ErrorCode, std::string_view) override {
    goaway_seen = true;
  }
  void on_window_update(const FrameHeader&, uint32_t) override {}
  void on_priority_update(const FrameHeader&, uint32_t, std::string_view) override {}
  bool on_frame_stream_error(const FrameHeader&, ErrorCode, std::string_view reason) override {
    error_ = "the server sent a malformed frame: " + std::string(reason);
    return false;
  }
  void on_frame_error(const FrameHeader&, ErrorCode, std::string_view reason) override {
    error_ = "the server sent a malformed frame: " + std::string(reason);
  }

 private:
  static FrameDecoderOptions client_options() {
    FrameDecoderOptions o;
    o.max_frame_size = kMaxAllowedFrameSize;  // the client raised nothing; be lenient on size
    return o;
  }
  FrameDecoder decoder_;
  std::string error_ = "the server sent a malformed frame";
};

class FuzzHandler final : public RequestHandler {
 public:
  explicit FuzzHandler(uint8_t seed) : seed_(seed) {}

  std::map<uint32_t, int> closes;  // stream id -> on_stream_closed count
  std::vector<Reqd> deferred;
  std::string big = std::string(70000, 'b');

  void on_request(Reqd& reqd) override {
    const uint32_t id = reqd.stream_id();
    seen_.push_back(id);
    static constexpr Field kHeaders[] = {{"content-type", "text/plain"}, {"x-fuzz", "1"}};
    static constexpr Field kTrailers[] = {{"grpc-status", "0"}};
    switch ((id / 2 + seed_) % 9) {
      case 0:
        reqd.respond_with_string({200, kHeaders}, "hello");
        break;
      case 1:
        reqd.respond_with_string({200, {}}, big);
        break;
      case 2: {
        Writer w = reqd.respond_with_streaming({200, kHeaders});
        w.write("chunk one ");
        w.flush([w](bool written) mutable {
          if (written) w.write("after flush");
          w.close_with_trailers(kTrailers);
        });
        break;
      }
      case 3: {
        auto body = std::make_shared<size_t>(0);
        read_all(reqd, body);
        break;
      }
      case 4:
        reqd.respond_informational({103, kHeaders});
        reqd.respond_with_string({204, {}}, "");
        break;
      case 5: {
        PushResult pushed = reqd.push("GET", "/pushed");
        if (pushed.result == Result::kOk) pushed.pushed.respond_with_string({200, {}}, "pushed");
        reqd.respond_with_string({200, {}}, "parent");
        break;
      }
      case 6:
        reqd.reset(ErrorCode::kInternalError);
        break;
      case 7:
        deferred.push_back(reqd);  // answered at a later driving step
        break;
      default: {
        Writer w = reqd.respond_with_streaming({200, {}});
        w.write(std::string_view(big).substr(0, 20000));
        w.close();
        break;
      }
    }
  }

  void on_stream_closed(Reqd& reqd, StreamEnd, ErrorCode) override { ++closes[reqd.stream_id()]; }

  void answer_deferred() {
    std::vector<Reqd> now;
    now.swap(deferred);
    for (Reqd& r : now) r.respond_with_string({200, {}}, "late");
  }

  // Every request the handler saw must end with exactly one on_stream_closed.
  void check_closes() const {
    for (uint32_t id : seen_) {
      auto it = closes.find(id);
      check(it != closes.end() && it->second == 1, "a stream did not end with one on_stream_closed");
    }
  }

 private:
  static void read_all(Reqd reqd, std::shared_ptr<size_t> total) {
    reqd.schedule_read(
        [reqd, total](std::string_view chunk) {
          *total += chunk.size();
          read_all(reqd, total);
        },
        [reqd, total]() mutable {
          reqd.respond_with_string({200, {}}, std::to_string(*total));
        });
  }

  uint8_t seed_;
  std::vector<uint32_t> seen_;
};

constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";
constexpr char kEmptySettings[] = {0, 0, 0, 4, 0, 0, 0, 0, 0};

struct Driver {
  ServerConnection& conn;
  OutputChecker& out;
  size_t total_output = 0;

  // Pulls output as a writer would, accepting `part` of what is offered each time.
  void drain(size_t max_view_bytes, uint8_t part) {
    for (int rounds = 0; rounds < 64 && conn.wants_write(); ++rounds) {
      std::vector<std::string_view> views;
      const size_t n = conn.pending_output(views, max_view_bytes);
      if (n == 0) break;
      std::string bytes;
      for (std::string_view v : views) bytes.append(v);
      check(bytes.size() == n, "pending_output size disagrees with its views");
      const size_t written = part == 0 ? n : std::max<size_t>(1, n * part / 256);
      out.feed(std::string_view(bytes).substr(0, written));
      conn.consume_output(written);
      total_output += written;
    }
  }
};

}  // namespace

H2_FUZZ_TARGET(connection) {
  if (size < 2) return;
  const uint8_t knobs = data[0];
  const uint8_t seed = data[1];
  ConnectionOptions options;
  if (knobs & 1) options.initial_stream_window = 100;
  if (knobs & 2) options.max_concurrent_streams = 2;
  if (knobs & 4) options.max_header_list_size = 1024;
  if (knobs & 8) options.enable_connect_protocol = true;
  if (knobs & 16) options.closed_stream_memory = 2;
  if (knobs & 32) options.max_queued_control_frames = 16;
  if (knobs & 64) options.flow_control_stall_timeout_ms = 10;
  uint64_t now = 1000;
  FuzzHandler handler(seed);
  OutputChecker out;
  {
    ServerConnection conn(&handler, options, now);
    Driver driver{conn, out};
    if (knobs & 128) {
      conn.process_bytes(kPreface, now);
      conn.process_bytes(std::string_view(kEmptySettings, sizeof kEmptySettings), now);
    }
    const uint8_t* p = data + 2;
    const uint8_t* end = data + size;
    while (p < end && !conn.is_closed()) {
      const uint8_t control = *p++;
      const size_t length = p < end ? *p++ : 0;
      const size_t n = std::min<size_t>(length, end - p);
      std::string_view chunk(reinterpret_cast<const char*>(p), n);
      p += n;
      if (conn.wants_read()) {
        const size_t consumed = conn.process_bytes(chunk, now);
        check(consumed <= chunk.size(), "consumed more than given");
        check(consumed == chunk.size() || !conn.wants_read(),
              "a short consume without the connection failing");
      }
      switch (control & 7) {
        case 0:
        case 1:
          driver.drain(SIZE_MAX, 0);
          break;
        case 2:
          driver.drain(1 + control * 16, static_cast<uint8_t>(control));
          break;
        case 3:
          now += 1 + control;  // the clock moves; due timers fire
          conn.on_time(now);
          break;
        case 4:
          handler.answer_deferred();
          break;
        case 5:
          if (control & 0x80) conn.start_graceful_shutdown(now);
          break;
        case 6:
          if (control & 0x80) conn.on_peer_eof();
          break;
        default:
          if (auto wake = conn.next_wakeup_ms()) {
            check(*wake + 3'600'000 > now, "a wakeup far in the past");
            now = std::max(now, *wake);
            conn.on_time(now);
          }
          break;
      }
      check(driver.total_output < (size_t{64} << 20), "unbounded output");
    }
    handler.answer_deferred();
    driver.drain(SIZE_MAX, 0);
  }  // destroyed: every open stream ends with its callbacks
  handler.check_closes();
}
