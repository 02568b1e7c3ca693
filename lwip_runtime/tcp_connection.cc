#include "lwip_runtime/tcp_connection.h"

#include <lwip/pbuf.h>
#include <lwip/tcp.h>

#include <algorithm>
#include <vector>

#include "tls/tls_connection.h"

namespace h2::lwip_runtime {
namespace {

err_t on_recv(void* arg, tcp_pcb*, pbuf* p, err_t) {
  auto* connection = static_cast<TcpConnection*>(arg);
  if (p == nullptr) {
    connection->peer_finished();
  } else {
    connection->received(p);
  }
  connection->wake();
  return ERR_OK;
}

err_t on_sent(void* arg, tcp_pcb*, u16_t) {
  static_cast<TcpConnection*>(arg)->wake();
  return ERR_OK;
}

// The pcb is already freed (reset by the peer, or lwIP gave up retransmitting).
void on_error(void* arg, err_t) {
  static_cast<TcpConnection*>(arg)->failed();
}

void forget_callbacks(tcp_pcb* pcb) {
  tcp_arg(pcb, nullptr);
  tcp_recv(pcb, nullptr);
  tcp_sent(pcb, nullptr);
  tcp_err(pcb, nullptr);
}

}  // namespace

TcpConnection::TcpConnection(Runtime& runtime, tcp_pcb* pcb) : runtime_(runtime), pcb_(pcb) {}

TcpConnection::~TcpConnection() {
  released_ = true;  // modules hearing on_cancel below may wake us: nothing to pump any more
  engine_.reset();   // open streams end (modules hear on_cancel) while *this still exists
  for (pbuf* p : held_) pbuf_free(p);
  if (pcb_ != nullptr) {
    forget_callbacks(pcb_);
    tcp_abort(pcb_);
  }
}

void TcpConnection::start(const Serving& serving) {
  keep_alive_ = serving.keep_alive;
  char peer[64];
  ipaddr_ntoa_r(&pcb_->remote_ip, peer, sizeof peer);
  std::string address = IP_IS_V6(&pcb_->remote_ip) ? "[" + std::string(peer) + "]" : peer;
  address += ":" + std::to_string(pcb_->remote_port);
  if (serving.tls) {
    auto make_driver = [this, serving, address](const char* version, std::string_view alpn) {
      std::optional<serve::DriverPolicy> policy = tls::policy_after_handshake(serving.policy, alpn);
      if (!policy) return std::shared_ptr<serve::ConnectionDriver>();
      return std::make_shared<serve::ConnectionDriver>(
          *this, serving.router, std::move(*policy),
          serve::DriverPeer{address, true, version, tls::alpn_name(alpn)}, now());
    };
    engine_ = std::make_shared<tls::TlsConnection>(
        serving.tls, std::move(make_driver),
        tls::TlsConnection::Limits{serving.handshake_ms, serving.policy.write_ms}, now());
  } else {
    engine_ = std::make_shared<serve::ConnectionDriver>(
        *this, serving.router, serving.policy, serve::DriverPeer{std::move(address)}, now());
  }
  tcp_arg(pcb_, this);
  tcp_recv(pcb_, on_recv);
  tcp_sent(pcb_, on_sent);
  tcp_err(pcb_, on_error);
  tcp_nagle_disable(pcb_);  // frames are written whole; the pump batches them itself
  runtime_.mark_dirty(this);
}

void TcpConnection::received(pbuf* p) {
  held_.push_back(p);
}

void TcpConnection::failed() {
  pcb_ = nullptr;
  failed_ = true;
  wake();
}

void TcpConnection::drain() {
  if (engine_) engine_->drain(now());
  wake();
}

void TcpConnection::close_now() {
  if (engine_) engine_->close_now();
  wake();
}

void TcpConnection::on_time(uint64_t now) {
  armed_ms_ = 0;
  if (engine_) engine_->on_time(now);
  pump();
}

void TcpConnection::pump() {
  if (released_) return;
  const uint64_t now = this->now();
  using State = serve::ConnectionEngine::State;
  if (failed_ && !held_.empty()) {
    for (pbuf* p : held_) pbuf_free(p);
    held_.clear();
  }
  if (failed_) engine_->on_peer_eof(now, /*failed=*/true);  // reset: closes at once
  if (pcb_ != nullptr && engine_->state() != State::kClosed) {
    feed(now);
    write(now);
  }
  switch (engine_->state()) {
    case State::kLingering:
      if (pcb_ != nullptr && !write_shut_ && !engine_->wants_write()) {  // TLS: close_notify first
        write_shut_ = true;
        tcp_shutdown(pcb_, 0, 1);  // FIN after the last byte; keep reading (dropped)
      }
      break;
    case State::kHandOff:  // TLS: the client cannot speak what the listener offers
    case State::kClosed:
      close_pcb();
      released_ = true;
      runtime_.set_timer(this, 0, armed_ms_);
      armed_ms_ = 0;
      runtime_.release(this);  // may destroy *this
      return;
    default:
      break;
  }
  const uint64_t due = engine_->next_wakeup_ms().value_or(0);
  if (due != armed_ms_) {
    runtime_.set_timer(this, due, armed_ms_);
    armed_ms_ = due;
  }
}

// Held segments go to the driver while it reads; each is acknowledged to the window once fed.
void TcpConnection::feed(uint64_t now) {
  while (!held_.empty() && engine_->wants_read()) {
    pbuf* p = held_.front();
    held_.pop_front();
    for (pbuf* q = p; q != nullptr; q = q->next) {
      engine_->on_bytes(std::string_view(static_cast<const char*>(q->payload), q->len), now);
    }
    if (pcb_ != nullptr) tcp_recved(pcb_, p->tot_len);
    pbuf_free(p);
  }
  if (held_.empty() && peer_eof_ && !eof_fed_) {
    eof_fed_ = true;
    engine_->on_peer_eof(now, false);
  }
}

void TcpConnection::write(uint64_t now) {
  bool wrote = false;
  thread_local std::vector<std::string_view> views;
  while (pcb_ != nullptr && engine_->wants_write()) {
    size_t space = tcp_sndbuf(pcb_);
    // lwIP also bounds the segments queued (TCP_SND_QUEUELEN): a write it refuses for that
    // waits for tcp_sent like one refused for space.
    if (space == 0 || tcp_sndqueuelen(pcb_) >= TCP_SND_QUEUELEN - 1) break;
    views.clear();
    engine_->pending_output(views, space);
    size_t written = 0;
    for (std::string_view view : views) {
      size_t at = 0;
      while (at < view.size()) {
        const u16_t chunk = static_cast<u16_t>(std::min<size_t>(view.size() - at, 0xFFFF));
        if (tcp_write(pcb_, view.data() + at, chunk, TCP_WRITE_FLAG_COPY) != ERR_OK) break;
        at += chunk;
        written += chunk;
      }
      if (at < view.size()) break;
    }
    engine_->on_written(written, now);
    if (written == 0) break;
    wrote = true;
  }
  if (wrote) tcp_output(pcb_);
}

// We closed first (the lingering close sent our FIN) and the peer acknowledged every byte: the
// pcb is dropped with RST rather than left in TIME_WAIT for 2 MSL. lwIP answers a new SYN that
// reuses a TIME_WAIT pcb's port pair with a bare ACK (Linux accepts it, RFC 6191), so the
// client's SYN waits out a 1 s retransmission; with many short connections, ports collide.
// The peer has everything and has closed its side: the RST costs it nothing.
void TcpConnection::close_pcb() {
  if (pcb_ == nullptr) return;
  forget_callbacks(pcb_);
  const bool delivered = pcb_->unsent == nullptr && pcb_->unacked == nullptr;
  if ((write_shut_ && delivered) || tcp_close(pcb_) != ERR_OK) tcp_abort(pcb_);
  pcb_ = nullptr;
}

}  // namespace h2::lwip_runtime
