// One HTTP/1.1 connection, sans-I/O: the serve::Http1Engine every runtime serves HTTP/1.1 with
// through the connection driver. Boost.Beast's request parser is fed with put() (no Beast
// stream, no Asio I/O); each request goes to the router as a serve::Http1Exchange whose output
// the runtime writes.
//
// Behaviour (the same for every runtime):
//   * one request at a time; pipelined requests wait in the input until the response before
//     them is written (keep-alive); nothing is read ahead of a request the handler works on;
//   * request bodies are streamed with backpressure: the handler's read_body() makes the engine
//     parse the next piece (Beast's buffer_body into one reused 64 KiB buffer); only then does
//     it want more bytes. A response complete before the body was read to its end ends the
//     connection (kDone: the driver's lingering close drops the rest);
//   * "Expect: 100-continue" is answered before the body is read;
//   * a cleartext request with a valid "Upgrade: h2c" (RFC 7540 §3.2), on a listener that offers
//     h2: its body is read whole (bounded), "101 Switching Protocols" is written, then kUpgrade;
//   * bad input: a head over max_header_bytes or with more than max_header_fields lines -> 431,
//     a body over max_body_bytes -> 413 (before the response started; after it, kFailed), a
//     malformed message -> 400, a bad HTTP2-Settings -> 400; each answer closes the connection;
//   * deadlines: preface_ms for the first head, idle_ms for the next head, for a handler that
//     has not answered and between body pieces, write_ms for output that does not move.
//
// Modules' timers (Http1Transport::schedule) run from on_time(); "soon" work (a body piece
// asked for by read_body(), a flush's completion) is due at once: next_wakeup_ms() returns a
// time in the past and, outside the runtime's own calls, ConnectionRuntime::wake() makes the
// runtime come back (inside them it pumps when the call returns anyway).
#pragma once

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "serve/connection_driver.h"
#include "serve/http1_engine.h"
#include "serve/http1_exchange.h"

namespace h2::http1 {

struct Limits {
  uint64_t max_header_bytes = 64 * 1024;
  uint64_t max_header_fields = 128;
  uint64_t max_body_bytes = 16 * 1024 * 1024;
  uint64_t max_upgrade_body_bytes = 64 * 1024;
  uint64_t preface_ms = 10'000;  // the first request's head
  uint64_t idle_ms = 60'000;     // between requests, a handler's answer, between body pieces
  uint64_t write_ms = 30'000;    // output pending and none of it written
};

class Factory final : public serve::Http1EngineFactory {
 public:
  explicit Factory(Limits limits) : limits_(limits) {}
  std::shared_ptr<serve::Http1Engine> make(const serve::Http1Start& start) const override;

 private:
  Limits limits_;
};

class Http1Connection final : public serve::Http1Engine,
                              public serve::Http1Transport,
                              public std::enable_shared_from_this<Http1Connection> {
 public:
  Http1Connection(const Limits& limits, const serve::Http1Start& start);
  ~Http1Connection() override;

  // ---- serve::Http1Engine ----
  Outcome outcome() const override { return outcome_; }
  void on_bytes(std::string_view bytes, uint64_t now) override;
  void on_peer_eof(uint64_t now) override;
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes) override;
  void on_written(size_t n, uint64_t now) override;
  void on_time(uint64_t now) override;
  bool wants_read() const override;
  bool wants_write() const override;
  std::optional<uint64_t> next_wakeup_ms() const override;
  void drain(uint64_t now) override;
  serve::H2cUpgrade take_upgrade() override { return std::move(upgrade_); }

  // ---- serve::Http1Transport (the exchange calls these) ----
  void output_ready() override;
  void abort() override;
  void schedule(uint64_t delay_ms, std::function<void()> fn) override;
  std::shared_ptr<serve::Loop> loop() const override;
  void request_body() override;

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  enum class Phase {
    kHead,         // awaiting or parsing a request head
    kUpgradeBody,  // reading an upgrade candidate's body whole
    kExchange,     // a handler has the request; its response is being written
    kSwitching,    // "101 Switching Protocols" is being written
  };

  void advance();
  bool parse_head();
  void on_head();
  bool read_upgrade_body();
  bool deliver_body();
  void on_request();
  void start_exchange(serve::Http1Request request);
  void reject(int status, std::string_view body);
  void fail_request(boost::system::error_code ec);
  void fail_body(boost::system::error_code ec);
  void after_write();
  void response_done();
  void new_parser();
  size_t feed(boost::system::error_code& ec);
  size_t parse_body_piece(boost::system::error_code& ec, size_t* got);
  std::vector<std::pair<std::string, std::string>> trailers() const;
  void finish(Outcome outcome);
  bool output_pending() const;
  void run_timers();
  void wake();
  // Marks a driving call (the runtime's): notifications inside it are not needed.
  struct Driving {
    explicit Driving(Http1Connection& c) : connection(c) { ++connection.driving_; }
    ~Driving() { --connection.driving_; }
    Http1Connection& connection;
  };
  uint32_t driving_ = 0;

  const Limits limits_;
  serve::ConnectionRuntime& runtime_;
  std::shared_ptr<const serve::Router> router_;
  std::string peer_;
  bool tls_;
  const char* tls_version_;
  const char* alpn_;
  bool upgrade_allowed_;
  bool closing_;

  Outcome outcome_ = Outcome::kServing;
  Phase phase_ = Phase::kHead;
  std::optional<Parser> parser_;
  std::string in_;  // received, not yet parsed: from in_pos_
  size_t in_pos_ = 0;
  // "100 Continue" / "101 Switching Protocols", written before the exchange's output. Pieces
  // never move (a deque of strings): a view handed out stays valid while more is queued.
  std::deque<std::string> preamble_;
  size_t preamble_pos_ = 0;  // bytes of preamble_.front() already written
  std::shared_ptr<serve::Http1Exchange> exchange_;
  size_t head_field_count_ = 0;
  uint64_t head_bytes_ = 0;  // of the head being parsed, consumed so far
  std::string upgrade_body_;
  serve::H2cUpgrade upgrade_;
  bool body_wanted_ = false;  // the handler asked for the next body piece
  bool peer_eof_ = false;
  bool due_now_ = false;  // work for the next on_time (a body piece, EOF, a zero-delay timer)
  uint64_t now_;
  uint64_t start_ms_;
  uint64_t progress_ms_;              // the idle deadline counts from here
  uint64_t write_waiting_since_ = 0;  // output pending and unwritten since (0: none)
  uint64_t requests_ = 0;
  std::multimap<uint64_t, std::function<void()>> timers_;
  std::unique_ptr<char[]> body_buffer_;  // 64 KiB, made at the first body piece
};

}  // namespace h2::http1
