// What the tests of serve::ConnectionDriver and of engines stacked on it (tls/) share: a fake
// runtime with an injected clock, a handler that answers one body, and an HTTP/2 client handler
// that records what came back. Header-only; the tests link serve/ (and protocol/) themselves.
#pragma once

#include <deque>
#include <memory>
#include <string>

#include "protocol/client_connection.h"
#include "serve/connection_driver.h"

namespace h2::test {

// Tasks are kept until a test runs them (or dropped: nothing here needs module threads).
class QueuedLoop final : public serve::Loop {
 public:
  void post(Task task) override { tasks.push_back(std::move(task)); }
  std::deque<Task> tasks;
};

class FakeRuntime final : public serve::ConnectionRuntime {
 public:
  std::shared_ptr<serve::Loop> loop() const override { return loop_; }
  void wake() override { ++wakes; }
  uint64_t now() const override { return clock; }
  uint64_t clock = 1000;
  int wakes = 0;
  std::shared_ptr<QueuedLoop> loop_ = std::make_shared<QueuedLoop>();
};

// Answers every request 200 with `body`, at once or after `delay_ms` (the exchange's timer).
class BodyHandler final : public serve::Handler {
 public:
  explicit BodyHandler(std::string b) : body(std::move(b)) {}
  void handle(std::shared_ptr<serve::Exchange> exchange) override {
    ++requests;
    if (delay_ms == 0) {
      exchange->respond_with_string(serve::ResponseHead{200, {}}, body);
      return;
    }
    exchange->schedule(delay_ms, [exchange, later = later] {
      exchange->respond_with_string(serve::ResponseHead{200, {}}, later);
    });
  }
  std::string body;
  std::string later = "later";
  uint64_t delay_ms = 0;
  int requests = 0;
};

class RecordingClient final : public protocol::ClientHandler {
 public:
  void on_response(protocol::ClientStream&, uint16_t s,
                   std::span<const protocol::ResponseField>) override {
    status = s;
  }
  void on_data(protocol::ClientStream&, std::string_view data) override { body.append(data); }
  void on_goaway(uint32_t, protocol::ErrorCode, std::string_view) override { goaway = true; }
  uint16_t status = 0;
  std::string body;
  bool goaway = false;
};

inline void submit_get(protocol::ClientConnection& client, std::string_view scheme = "http") {
  protocol::ClientRequest request;
  request.method = "GET";
  request.scheme = scheme;
  request.authority = "example";
  request.path = "/";
  client.submit(request, true);
}

}  // namespace h2::test
