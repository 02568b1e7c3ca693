// HTTP/1.1 connection fuzz target: the bytes of a cleartext connection through
// serve::ConnectionDriver and its HTTP/1.1 engine (http1/http1_connection.h), exactly as every
// runtime drives them: input in pieces while the driver wants to read, output written in
// partial writes, the peer's EOF at the end, time jumping to each deadline. Handlers read whole
// bodies (/echo), answer from a timer (/later), stream (/stream) or answer at once.
// Checks: the connection always ends (kClosed, bounded in rounds), nothing is written after it
// closed, every byte written was announced by pending_output; no crash or sanitizer report.
// Input: [knobs] then the connection's bytes; pieces of 1 + (knobs >> 4) * 29 bytes, writes of at
// most 1 + (knobs & 7) * 97 bytes, small limits when knobs & 8.
#include <algorithm>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "http1/http1_connection.h"
#include "serve/router.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/support/driver_support.h"

namespace {

using h2::serve::ConnectionDriver;
using State = ConnectionDriver::State;

void check(bool ok, const char* what) {
  if (!ok) h2::fuzz::fail("http1_engine", what);
}

class EchoHandler final : public h2::serve::Handler {
 public:
  void handle(std::shared_ptr<h2::serve::Exchange> exchange) override {
    read(std::make_shared<std::string>(), std::move(exchange));
  }
  static void read(std::shared_ptr<std::string> body,
                   std::shared_ptr<h2::serve::Exchange> exchange) {
    exchange->read_body(
        [body, exchange](std::string_view chunk) {
          body->append(chunk);
          read(body, exchange);
        },
        [body, exchange] {
          exchange->respond_with_string({200, {}}, *body);
        });
  }
};

class StreamHandler final : public h2::serve::Handler {
 public:
  void handle(std::shared_ptr<h2::serve::Exchange> exchange) override {
    exchange->respond_streaming({200, {}});
    exchange->write("one,");
    exchange->flush([exchange](h2::serve::FlushResult result) {
      if (result != h2::serve::FlushResult::kWritten) return;
      exchange->write("two");
      exchange->close_body();
    });
  }
};

h2::serve::Router::Route route(std::string path, std::shared_ptr<h2::serve::Handler> handler,
                               bool prefix) {
  h2::serve::RouteConfig config;
  config.path = std::move(path);
  config.is_prefix = prefix;
  config.module = "fuzz";
  return h2::serve::Router::Route{config, std::move(handler)};
}

}  // namespace

H2_FUZZ_TARGET(http1_engine) {
  if (size < 1) return;
  const uint8_t knobs = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t piece = 1 + (knobs >> 4) * 29;
  const size_t write_max = 1 + (knobs & 7) * 97;

  static const auto router = [] {
    auto later = std::make_shared<h2::test::BodyHandler>("now");
    later->delay_ms = 5;
    std::vector<h2::serve::Router::Route> routes;
    routes.push_back(route("/echo", std::make_shared<EchoHandler>(), true));
    routes.push_back(route("/later", later, true));
    routes.push_back(route("/stream", std::make_shared<StreamHandler>(), true));
    routes.push_back(route("/", std::make_shared<h2::test::BodyHandler>("hello"), true));
    return std::make_shared<h2::serve::Router>(std::move(routes));
  }();
  h2::http1::Limits limits;
  limits.preface_ms = 1'000;
  limits.idle_ms = 2'000;
  limits.write_ms = 3'000;
  if (knobs & 8) {
    limits.max_header_bytes = 256;
    limits.max_header_fields = 4;
    limits.max_body_bytes = 64;
    limits.max_upgrade_body_bytes = 16;
  }
  h2::serve::DriverPolicy policy;
  policy.http1 = std::make_shared<h2::http1::Factory>(limits);
  policy.preface_ms = 1'000;
  policy.linger_ms = 500;
  h2::test::FakeRuntime runtime;
  auto driver = std::make_shared<ConnectionDriver>(
      runtime, router, policy, h2::serve::DriverPeer{"192.0.2.9:1"}, runtime.clock);
  size_t fed = 0;
  bool eof = false;
  for (int round = 0; round < 20'000 && driver->state() != State::kClosed; ++round) {
    bool moved = false;
    if (fed < input.size() && driver->wants_read()) {
      const size_t n = std::min(piece, input.size() - fed);
      driver->on_bytes(input.substr(fed, n), runtime.clock);
      fed += n;
      moved = true;
    } else if (fed == input.size() && !eof && driver->wants_read()) {
      driver->on_peer_eof(runtime.clock, false);
      eof = true;
      moved = true;
    }
    std::vector<std::string_view> views;
    const size_t total = driver->pending_output(views, write_max);
    size_t announced = 0;
    for (std::string_view v : views) announced += v.size();
    check(announced == total, "pending_output's total is not the sum of its views");
    check(total <= write_max, "pending_output gave more than asked");
    if (total > 0) {
      check(driver->state() != State::kClosed, "output after the connection closed");
      driver->on_written(total, runtime.clock);
      moved = true;
    }
    const auto due = driver->next_wakeup_ms();
    if (due && *due <= runtime.clock) {
      driver->on_time(runtime.clock);
    } else if (!moved) {
      // Nothing to read or write: the peer waits, time passes (to the next deadline).
      runtime.clock = due ? *due : runtime.clock + 1'000;
      driver->on_time(runtime.clock);
    }
  }
  check(driver->state() == State::kClosed, "the connection never ended");
}
