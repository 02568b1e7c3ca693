// sse: server-sent events (text/event-stream) over time, showing the streaming API with the
// host's timer: one event every `interval_ms`, each written, then flushed; the next timer is
// armed only once the flush completed (a slow client is never buffered for). Stops after
// `count` events (0 = until the client goes away) and closes the body; a peer reset stops the
// timer chain (on_cancel), and a connection that goes away drops the pending timer.
// Route config: interval_ms (int, default 1000), count (int, default 5), event (string,
// default "tick").
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>

#include "h2/module.hpp"

namespace {

struct SseSettings {
  std::int64_t interval_ms;
  std::int64_t count;
  std::string event;
};

class EventStream : public std::enable_shared_from_this<EventStream> {
 public:
  EventStream(h2::Exchange ex, const SseSettings& s) : ex_(std::move(ex)), settings_(s) {}

  void start() {
    if (ex_.respond_streaming(200, {{"content-type", "text/event-stream"},
                                    {"cache-control", "no-cache"}}) != h2::Result::kOk) {
      return;
    }
    auto self = shared_from_this();
    // Weak: the host keeps this callback until the exchange closes; a strong capture would
    // keep the stream (and through it the exchange) alive in a cycle.
    ex_.on_cancel([weak = weak_from_this()] {
      if (auto stream = weak.lock()) stream->cancelled_ = true;
    });
    // A comment line first, so clients see the stream open at once.
    ex_.write(": stream open\n\n");
    ex_.flush([self](bool written) {
      if (written) self->arm();
    });
  }

 private:
  void arm() {
    auto self = shared_from_this();
    ex_.after(static_cast<std::uint64_t>(settings_.interval_ms), [self] { self->tick(); });
  }
  void tick() {
    if (cancelled_) return;
    ++sent_;
    std::string event = "id: " + std::to_string(sent_) + "\nevent: " + settings_.event +
                        "\ndata: {\"n\":" + std::to_string(sent_) + "}\n\n";
    if (ex_.write(event) != h2::Result::kOk) return;
    auto self = shared_from_this();
    ex_.flush([self](bool written) {
      if (!written || self->cancelled_) return;
      if (self->settings_.count > 0 && self->sent_ >= self->settings_.count) {
        self->ex_.close();
      } else {
        self->arm();
      }
    });
  }

  h2::Exchange ex_;
  const SseSettings settings_;
  std::int64_t sent_ = 0;
  bool cancelled_ = false;
};

class SseHandler final : public h2::Handler {
 public:
  explicit SseHandler(SseSettings s) : settings_(std::move(s)) {}
  void handle(h2::Exchange ex) override {
    std::make_shared<EventStream>(std::move(ex), settings_)->start();
  }

 private:
  const SseSettings settings_;
};

class SseModule final : public h2::Module {
 public:
  static constexpr h2_config_key kRouteConfigKeys[] = {
      {"interval_ms", H2_KEY_INT, "1000", "milliseconds between events (1..3600000)"},
      {"count", H2_KEY_INT, "5", "events before the stream ends"},
      {"event", H2_KEY_STRING, "tick", "the event name"}};
  static constexpr auto kModuleConfigKeys = h2::kNoConfigKeys;

  std::unique_ptr<h2::Handler> create_handler(const h2::Config& route) override {
    SseSettings s{route["interval_ms"].as_int(1000), route["count"].as_int(5),
                  std::string(route["event"].as_string())};
    if (s.interval_ms < 1 || s.interval_ms > 3600000) {
      throw std::invalid_argument(route["interval_ms"].where() +
                                  ": interval_ms must be in 1..3600000");
    }
    if (s.count < 0) throw std::invalid_argument(route["count"].where() + ": count must be >= 0");
    if (s.event.empty()) s.event = "tick";
    return std::make_unique<SseHandler>(std::move(s));
  }
};

}  // namespace

H2_MODULE(SseModule, "sse", "1.0.0")
