#include "serve/connection_driver.h"

#include <algorithm>

#include "serve/dispatch.h"
#include "serve/log.h"

namespace h2::serve {
namespace {

constexpr uint64_t kDrainCheckMs = 100;
constexpr size_t kPrefaceBytes = 24;  // RFC 9113 §3.4

uint64_t earliest(std::optional<uint64_t> a, uint64_t b) {
  return a ? std::min(*a, b) : b;
}

protocol::SharedOptions limits_or_defaults(const DriverPolicy& policy) {
  static const auto defaults = std::make_shared<const protocol::ConnectionOptions>();
  return protocol::SharedOptions(policy.limits ? policy.limits : defaults);
}

}  // namespace

ConnectionDriver::ConnectionDriver(ConnectionRuntime& runtime, std::shared_ptr<const Router> router,
                                   DriverPolicy policy, DriverPeer peer, uint64_t now)
    : runtime_(runtime),
      router_(std::move(router)),
      policy_(std::move(policy)),
      peer_(std::move(peer)),
      now_(now),
      start_ms_(now) {
  if (policy_.skip_sniffing || !policy_.protocols.http1) start_http2({}, now);
}

// Destroying the core ends every open stream through on_stream_closed (modules hear on_cancel):
// the core's contract, nothing to poll.
ConnectionDriver::~ConnectionDriver() = default;

void ConnectionDriver::on_bytes(std::string_view bytes, uint64_t now) {
  now_ = now;
  switch (state_) {
    case State::kSniffing: {
      sniffed_.append(bytes);
      const FirstBytes kind = classify_first_bytes(sniffed_, policy_.protocols);
      if (kind == FirstBytes::kHttp1) {
        if (!policy_.http1) {
          state_ = State::kHandOff;
          return;
        }
        state_ = State::kHttp1;
        start_http1(now);
      } else if (kind == FirstBytes::kHttp2) {
        // The preface, or bytes the core refuses with GOAWAY(PROTOCOL_ERROR) (RFC 9113 §3.4).
        std::string initial = std::move(sniffed_);
        sniffed_ = std::string();
        start_http2(initial, now);
      }
      return;
    }
    case State::kHandOff:
      sniffed_.append(bytes);  // read before the runtime took over: goes with the connection
      return;
    case State::kHttp1:
      http1_->on_bytes(bytes, now);
      return settle_http1();
    case State::kHttp2:
      received_ += bytes.size();
      core_->process_bytes(bytes, now);
      return;
    case State::kLingering:
    case State::kClosed:
      return;  // a lingering close reads and drops
  }
}

void ConnectionDriver::start_http2(std::string_view initial, uint64_t now) {
  state_ = State::kHttp2;
  core_.emplace(this, limits_or_defaults(policy_), now);
  if (!initial.empty()) {
    received_ += initial.size();
    core_->process_bytes(initial, now);
  }
  if (drain_deadline_ != 0) {  // drain() before the preface: GOAWAY as soon as quiet
    drain_deadline_ = 0;
    drain(now);
  }
}

void ConnectionDriver::start_http1(uint64_t now) {
  const Http1Start start{runtime_,
                         router_,
                         peer_,
                         /*upgrade_allowed=*/!peer_.tls && policy_.protocols.http2,
                         /*draining=*/drain_deadline_ != 0,
                         now};
  drain_deadline_ = 0;
  http1_ = policy_.http1->make(start);
  const std::string initial = std::exchange(sniffed_, std::string());
  http1_->on_bytes(initial, now);
  settle_http1();
}

// After each call into the HTTP/1.1 engine: carry out how it ended.
void ConnectionDriver::settle_http1() {
  if (!http1_) return;
  switch (http1_->outcome()) {
    case Http1Engine::Outcome::kServing:
      return;
    case Http1Engine::Outcome::kFailed:
      return end(State::kClosed);
    case Http1Engine::Outcome::kDone:
      http1_.reset();
      if (peer_eof_) return end(State::kClosed);
      state_ = State::kLingering;  // the rest of an unread request body is dropped
      linger_until_ = now_ + policy_.linger_ms;
      return;
    case Http1Engine::Outcome::kUpgrade:
      break;
  }
  // h2c (RFC 7540 §3.2): the 101 is written; the request is stream 1, the client's preface
  // follows (its deadline counts from now).
  H2cUpgrade upgrade = http1_->take_upgrade();
  http1_.reset();
  std::vector<protocol::Field> fields;  // views for the call only: the core copies them
  protocol::UpgradeRequest request = to_upgrade_request(upgrade.request, fields);
  state_ = State::kHttp2;
  start_ms_ = now_;
  core_.emplace(this, limits_or_defaults(policy_), now_, upgrade.http2_settings,
                std::move(request));
  if (!upgrade.rest.empty()) {
    received_ += upgrade.rest.size();
    core_->process_bytes(upgrade.rest, now_);
  }
  if (upgrade.peer_eof) {
    peer_eof_ = true;
    core_->on_peer_eof();
  }
  if (upgrade.draining) drain(now_);
  after_output_change();
}

void ConnectionDriver::on_peer_eof(uint64_t now, bool failed) {
  now_ = now;
  peer_eof_ = true;
  switch (state_) {
    case State::kSniffing:
    case State::kLingering:
      return end(State::kClosed);  // nothing said, or the linger is over
    case State::kHandOff:
      return;
    case State::kHttp1:
      if (failed) return end(State::kClosed);
      http1_->on_peer_eof(now);
      return settle_http1();
    case State::kHttp2:
      core_->on_peer_eof();
      if (failed) return end(State::kClosed);  // reset: nothing we write arrives
      after_output_change();
      return;
    case State::kClosed:
      return;
  }
}

ConnectionEngine::State ConnectionDriver::state() const {
  // A handler's reset() ends HTTP/1.1 outside the driver's calls.
  if (http1_ && http1_->outcome() == Http1Engine::Outcome::kFailed) return State::kClosed;
  return state_;
}

size_t ConnectionDriver::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  if (http1_) return http1_->pending_output(out, max_bytes);
  if (state_ != State::kHttp2) return 0;
  const size_t total = core_->pending_output(out, max_bytes);
  if (total > 0 && write_waiting_since_ == 0) write_waiting_since_ = std::max<uint64_t>(now_, 1);
  return total;
}

void ConnectionDriver::on_written(size_t n, uint64_t now) {
  now_ = now;
  if (http1_) {
    http1_->on_written(n, now);
    return settle_http1();
  }
  if (state_ != State::kHttp2) return;
  core_->on_time(now);  // the core's deadlines see the time before the output moves
  if (n > 0) {
    core_->consume_output(n);
    write_waiting_since_ = 0;
  }
  after_output_change();
}

void ConnectionDriver::on_write_failed() {
  H2_LOG(kDebug, "connection from " + peer_.address + ": write failed");
  end(State::kClosed);
}

// The core closed and its output went out: a lingering close, so that the peer's last unread
// frames (WINDOW_UPDATEs for our last DATA) do not turn our close into an RST that destroys the
// end of the response in the peer's receive buffer (RFC 9113 §6.8).
void ConnectionDriver::after_output_change() {
  if (state_ != State::kHttp2) return;
  if (core_->wants_write()) return;
  write_waiting_since_ = 0;
  if (core_->is_closed()) {
    core_.reset();
    timers_.reset();
    if (peer_eof_) return end(State::kClosed);  // nothing left to wait for: the peer is done
    state_ = State::kLingering;
    linger_until_ = now_ + policy_.linger_ms;
  }
}

void ConnectionDriver::on_time(uint64_t now) {
  now_ = now;
  if (http1_) {
    http1_->on_time(now);
    return settle_http1();
  }
  if (state_ == State::kClosed || state_ == State::kHandOff) return;
  if (state_ == State::kSniffing) {
    if (now >= start_ms_ + policy_.preface_ms) end(State::kClosed);
    return;
  }
  if (state_ == State::kLingering) {
    if (now >= linger_until_) end(State::kClosed);
    return;
  }
  if (received_ < kPrefaceBytes && now >= start_ms_ + policy_.preface_ms) {
    H2_LOG(kInfo, "h2 connection from " + peer_.address + ": preface timeout");
    return end(State::kClosed);
  }
  if (write_waiting_since_ != 0 && now >= write_waiting_since_ + policy_.write_ms) {
    H2_LOG(kInfo, "h2 connection from " + peer_.address + ": write timeout");
    return end(State::kClosed);
  }
  // Modules' timers and the drain check, in time order; one may close the connection.
  while (has_timers() && timers_->begin()->first <= now && state_ == State::kHttp2) {
    auto fn = std::move(timers_->begin()->second);
    timers_->erase(timers_->begin());
    fn();
  }
  if (state_ != State::kHttp2) return;
  core_->on_time(now);
  after_output_change();
}

bool ConnectionDriver::wants_read() const {
  switch (state_) {
    case State::kSniffing:
    case State::kLingering:
      return true;
    case State::kHttp2:
      return core_->wants_read();
    case State::kHttp1:
      return http1_->wants_read();
    case State::kHandOff:
    case State::kClosed:
      return false;
  }
  return false;
}

bool ConnectionDriver::wants_write() const {
  if (http1_) return http1_->wants_write();
  return state_ == State::kHttp2 && core_->wants_write();
}

std::optional<uint64_t> ConnectionDriver::next_wakeup_ms() const {
  switch (state_) {
    case State::kSniffing:
      return start_ms_ + policy_.preface_ms;
    case State::kLingering:
      return linger_until_;
    case State::kHttp1:
      return http1_->next_wakeup_ms();
    case State::kHandOff:
    case State::kClosed:
      return std::nullopt;
    case State::kHttp2:
      break;
  }
  std::optional<uint64_t> due = core_->next_wakeup_ms();
  if (received_ < kPrefaceBytes) due = earliest(due, start_ms_ + policy_.preface_ms);
  if (write_waiting_since_ != 0) due = earliest(due, write_waiting_since_ + policy_.write_ms);
  if (has_timers()) due = earliest(due, timers_->begin()->first);
  return due;
}

// Draining: GOAWAY once the connection is quiet - no open stream and no bytes for one check - or
// at half of shutdown_ms, so that a busy client (even one that cannot retry what a GOAWAY
// refuses, like h2load) finishes its work here and loses nothing.
void ConnectionDriver::drain(uint64_t now) {
  now_ = now;
  if (state_ == State::kSniffing) {
    // Not classified yet: a request may be on its way (the client connected just before the
    // listeners closed). HTTP/2 drains once the preface came, HTTP/1.1 after its first request
    // (a handed-back one is the runtime's); silence ends at the preface deadline.
    drain_deadline_ = 1;
    return;
  }
  if (http1_) {
    http1_->drain(now);
    return settle_http1();
  }
  if (state_ != State::kHttp2 || drain_deadline_ != 0) return;
  drain_deadline_ = std::max<uint64_t>(now + policy_.shutdown_ms / 2, 1);
  schedule(kDrainCheckMs, [this, seen = received_] { drain_check(seen); });
}

void ConnectionDriver::drain_check(uint64_t received_before) {
  const bool quiet = core_->open_stream_count() == 0 && received_ == received_before;
  if (quiet || now_ >= drain_deadline_) {
    core_->start_graceful_shutdown(now_);
    return;
  }
  schedule(kDrainCheckMs, [this, seen = received_] { drain_check(seen); });
}

void ConnectionDriver::close_now() {
  end(State::kClosed);
}

std::string ConnectionDriver::take_sniffed() {
  return std::exchange(sniffed_, std::string());
}

void ConnectionDriver::end(State next) {
  state_ = next;
  timers_.reset();
  core_.reset();   // every open stream ends through on_stream_closed
  http1_.reset();  // and an HTTP/1.1 exchange in progress hears on_cancel
  sniffed_ = std::string();
}

// ---- protocol::RequestHandler ----

void ConnectionDriver::on_request(protocol::Reqd& reqd) {
  auto exchange = std::make_shared<H2Exchange>(reqd, peer_.address, peer_.tls,
                                               std::weak_ptr<H2Transport>(weak_from_this()));
  if (Log::access_enabled()) {
    exchange->access_notes.tls_version = peer_.tls_version;
    exchange->access_notes.alpn = peer_.alpn;
  }
  dispatch_request(router_, exchange);
}

void ConnectionDriver::on_stream_closed(protocol::Reqd& reqd, protocol::StreamEnd end,
                                        protocol::ErrorCode) {
  if (auto* exchange = static_cast<H2Exchange*>(reqd.user_data())) exchange->stream_ended(end);
}

void ConnectionDriver::on_output_ready() {
  if (state_ == State::kHttp2) runtime_.wake();
}

// ---- H2Transport ----

void ConnectionDriver::schedule(uint64_t delay_ms, std::function<void()> fn) {
  if (state_ != State::kHttp2) return;
  const uint64_t due = runtime_.now() + delay_ms;
  if (!timers_) timers_ = std::make_unique<Timers>();
  const bool earlier = timers_->empty() || due < timers_->begin()->first;
  timers_->emplace(due, std::move(fn));
  // Set from outside the runtime's calls (a module's posted task): the runtime re-arms its timer.
  if (earlier) runtime_.wake();
}

}  // namespace h2::serve
