// Shared pieces of the session tests: Beast's in-memory test stream (with fail_count fault
// injection, read_size / write_size to split I/O), an in-process handler, and a small HTTP/2
// client codec (frames + the project's own HPACK) to script the peer.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/beast/_experimental/test/stream.hpp>
#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/runtime.h"
#include "hpack/decoder.h"
#include "hpack/encoder.h"

namespace h2::host::test {

namespace beast = boost::beast;
using namespace ::h2::serve;

// Answers by path: "/hold" keeps the exchange without answering (to observe cancellation),
// "/stream" streams three pieces with flushes, "/echo" echoes the request body, "/big" answers
// 200 KiB of 'b', anything else answers "hello <path>".
class TestHandler final : public Handler {
 public:
  void handle(std::shared_ptr<Exchange> ex) override {
    ++requests;
    const std::string path(ex->path());
    if (path == "/hold") {
      ex->on_cancel([this] { ++cancelled; });
      held.push_back(ex);
      return;
    }
    if (path == "/stream") {
      ex->respond_streaming({200, {}});
      ex->write("one,");
      ex->flush([this, ex](FlushResult r) {
        flushes.push_back(r);
        ex->write("two,");
        ex->write("three");
        ex->close_body();
      });
      return;
    }
    if (path == "/echo") {
      auto body = std::make_shared<std::string>();
      read_all(ex, body);
      return;
    }
    static constexpr HeaderField kFields[] = {{"content-type", "text/plain"}};
    if (path == "/big") {
      ex->respond_with_string({200, kFields}, std::string(200 << 10, 'b'));
      return;
    }
    ex->respond_with_string({200, kFields}, "hello " + path);
  }

  void read_all(std::shared_ptr<Exchange> ex, std::shared_ptr<std::string> body) {
    ex->read_body(
        [this, ex, body](std::string_view chunk) {
          body->append(chunk);
          read_all(ex, body);
        },
        [ex, body] {
          ex->respond_with_string({200, {}}, std::move(*body));
        });
  }

  int requests = 0;
  int cancelled = 0;
  std::vector<FlushResult> flushes;
  std::vector<std::shared_ptr<Exchange>> held;
};

// Runs `ioc` until `done()` holds, at most `bound`: a wait for a condition, not for a time (slow
// machines and sanitizers only make it slower). The caller asserts the condition after.
template <typename Done>
void run_loop_until(boost::asio::io_context& ioc, Done done,
                    std::chrono::milliseconds bound = std::chrono::seconds(30)) {
  const auto deadline = std::chrono::steady_clock::now() + bound;
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(5));
  }
}

// Closes the worker's sessions and runs `ioc` until they are gone (bounded): a test harness's
// destructor, while the worker they register with is still alive.
inline void end_sessions(Worker& worker, boost::asio::io_context& ioc) {
  for (int i = 0; i < 1000 && worker.session_count() > 0; ++i) {
    std::vector<SessionBase*> open(worker.sessions().begin(), worker.sessions().end());
    for (SessionBase* s : open) {
      if (worker.sessions().count(s) != 0) s->close_now();
    }
    ioc.restart();
    ioc.poll();
  }
}

struct Harness {
  explicit Harness(TimeoutConfig timeouts = {}) {
    auto s = std::make_shared<Snapshot>();
    s->config.timeouts = timeouts;
    s->config.limits.idle_timeout_ms = timeouts.idle_ms;
    RouteConfig route;
    route.path = "/";
    route.is_prefix = true;
    route.module = "test";
    handler = std::make_shared<TestHandler>();
    s->router = std::make_shared<Router>(std::vector<Router::Route>{{route, handler}});
    s->http1 = make_http1_factory(s->config);
    snapshot = s;
  }
  ConnectionContext context() { return ConnectionContext{snapshot, &worker, "test-peer", false}; }
  void run(int ms = 50) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(ms));
  }
  template <typename Done>
  void run_until(Done done) {
    run_loop_until(ioc, done);
  }

  // Connections live on ioc and register with worker (its deadlines on ioc too): the
  // destructor ends them while the worker is alive (it must outlive its connections).
  ~Harness() {
    end_sessions(worker, ioc);
    // Exchanges the handler kept pin their (detached) cores, which share the snapshot's
    // limits, and the snapshot owns the handler: let them go.
    handler->held.clear();
  }
  boost::asio::io_context ioc;
  Worker worker{0, ioc};
  std::shared_ptr<TestHandler> handler;
  std::shared_ptr<const Snapshot> snapshot;
};

// ---- a scripted HTTP/2 client ----
inline constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

inline std::string frame(uint8_t type, uint8_t flags, uint32_t stream, std::string_view payload) {
  std::string out;
  const size_t n = payload.size();
  out += static_cast<char>(n >> 16);
  out += static_cast<char>(n >> 8);
  out += static_cast<char>(n);
  out += static_cast<char>(type);
  out += static_cast<char>(flags);
  out += static_cast<char>(stream >> 24);
  out += static_cast<char>(stream >> 16);
  out += static_cast<char>(stream >> 8);
  out += static_cast<char>(stream);
  out.append(payload);
  return out;
}

struct Frame {
  uint8_t type = 0;
  uint8_t flags = 0;
  uint32_t stream = 0;
  std::string payload;
  std::map<std::string, std::string> fields;  // HEADERS only, decoded in arrival order
};

class H2Peer {
 public:
  // Client preface + an empty SETTINGS + the SETTINGS ACK the server's SETTINGS will need.
  std::string hello() const {
    return std::string(kPreface) + frame(0x4, 0, 0, "") + frame(0x4, 0x1, 0, "");
  }
  std::string headers(uint32_t stream, std::string_view method, std::string_view path,
                      bool end_stream) {
    const hpack::HeaderField fields[] = {
        {":method", method}, {":scheme", "http"}, {":authority", "localhost"}, {":path", path}};
    std::string block;
    encoder_.encode(fields, block);
    return frame(0x1, static_cast<uint8_t>(0x4 | (end_stream ? 0x1 : 0)), stream, block);
  }
  static std::string data(uint32_t stream, std::string_view bytes, bool end_stream) {
    return frame(0x0, end_stream ? 0x1 : 0, stream, bytes);
  }

  // Takes what the server wrote so far from `client` and returns the complete frames in it,
  // HEADERS decoded in arrival order (HPACK state is per connection).
  std::vector<Frame> take(beast::test::stream& client) {
    pending_ += client.str();
    client.clear();
    std::vector<Frame> frames;
    std::string_view bytes = pending_;
    while (bytes.size() >= 9) {
      const size_t n = (static_cast<uint8_t>(bytes[0]) << 16) |
                       (static_cast<uint8_t>(bytes[1]) << 8) | static_cast<uint8_t>(bytes[2]);
      if (bytes.size() < 9 + n) break;
      Frame f;
      f.type = static_cast<uint8_t>(bytes[3]);
      f.flags = static_cast<uint8_t>(bytes[4]);
      f.stream = ((static_cast<uint8_t>(bytes[5]) & 0x7f) << 24) |
                 (static_cast<uint8_t>(bytes[6]) << 16) | (static_cast<uint8_t>(bytes[7]) << 8) |
                 static_cast<uint8_t>(bytes[8]);
      f.payload.assign(bytes.substr(9, n));
      if (f.type == 0x1) f.fields = decode(f.payload);
      frames.push_back(std::move(f));
      bytes.remove_prefix(9 + n);
    }
    pending_.erase(0, pending_.size() - bytes.size());
    return frames;
  }

  // Status and body of `stream` in `frames`; "" status when no HEADERS came.
  static std::pair<std::string, std::string> response(const std::vector<Frame>& frames,
                                                      uint32_t stream, bool* ended = nullptr) {
    std::string status, body;
    if (ended) *ended = false;
    for (const Frame& f : frames) {
      if (f.stream != stream) continue;
      if (f.type == 0x1 && status.empty())
        status = f.fields.count(":status") ? f.fields.at(":status") : "";
      if (f.type == 0x0) body += f.payload;
      if (ended && (f.type == 0x0 || f.type == 0x1) && (f.flags & 0x1)) *ended = true;
    }
    return {status, body};
  }

 private:
  std::map<std::string, std::string> decode(std::string_view block) {
    struct Sink final : hpack::HeaderSink {
      void on_header(std::string_view n, std::string_view v) override {
        fields[std::string(n)] = std::string(v);
      }
      std::map<std::string, std::string> fields;
    } sink;
    decoder_.begin_block(&sink);
    decoder_.process_bytes(block);
    decoder_.end_block();
    return sink.fields;
  }

  std::string pending_;
  hpack::Encoder encoder_;
  hpack::Decoder decoder_;
};

}  // namespace h2::host::test
