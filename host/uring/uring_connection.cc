#include "host/uring/uring_connection.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "serve/dispatch.h"
#include "serve/log.h"

namespace h2::host::uring {
namespace {

}  // namespace

UringConnection::UringConnection(UringWorker& worker, int fd, bool unix_socket, std::string peer,
                                 std::shared_ptr<const Snapshot> snapshot, Accepted accepted)
    : worker_(worker),
      fd_(fd),
      unix_socket_(unix_socket),
      peer_(std::move(peer)),
      snapshot_(std::move(snapshot)),
      accepted_(std::move(accepted)),
      start_ms_(worker.now_ms()) {
  recv_op_.owner = this;
  send_op_.owner = this;
  cancel_op_.owner = this;
}

UringConnection::~UringConnection() {
  conn_.reset();  // ends open streams with their callbacks (protocol contract)
  if (fd_ >= 0) ::close(fd_);
}

void UringConnection::start() {
  arm_receive();
  arm_timer();
}

// ---- receive ----

void UringConnection::arm_receive() {
  if (receiving_ || peer_eof_ || state_ == State::kClosed) return;
  io_uring_sqe* s = worker_.sqe();
  io_uring_prep_recv_multishot(s, fd_, nullptr, 0, 0);
  s->flags |= IOSQE_BUFFER_SELECT;
  s->buf_group = UringWorker::kBufferGroup;
  io_uring_sqe_set_data(s, &recv_op_);
  receiving_ = true;
  ++pending_ops_;
}

void UringConnection::cancel_receive() {
  if (!receiving_) return;
  io_uring_sqe* s = worker_.sqe();
  io_uring_prep_cancel(s, &recv_op_, 0);
  io_uring_sqe_set_data(s, &cancel_op_);
  ++pending_ops_;
}

void UringConnection::retry_receive() {
  if (state_ == State::kClosed || state_ == State::kHandingOff) return;
  arm_receive();
}

void UringConnection::on_receive(const io_uring_cqe& cqe) {
  auto self = shared_from_this();
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  if (cqe.res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
    const unsigned id = cqe.flags >> IORING_CQE_BUFFER_SHIFT;
    // Fed straight from the kernel's buffer, which goes back to the ring at once: the core
    // copies only what it keeps (a request body waiting for its handler).
    on_bytes(worker_.buffer(id, static_cast<size_t>(cqe.res)));
    worker_.recycle(id);
  } else if (cqe.res == 0) {
    peer_eof_ = true;
  }
  if (!more) {
    receiving_ = false;
    if (cqe.res == -ENOBUFS) {
      if (state_ != State::kClosed && state_ != State::kHandingOff) {
        worker_.retry_receive_later(self);  // buffers come back within this batch
      }
    } else if (cqe.res < 0 && cqe.res != -ECANCELED) {
      peer_eof_ = true;  // reset by the peer, or another receive error: nothing more comes
    }
  }
  if (peer_eof_ && state_ != State::kHandingOff && state_ != State::kClosed) on_peer_eof();
  if (!more) op_done();  // may finish a hand-off or release a closed connection
  if (state_ == State::kHttp2) pump();
}

void UringConnection::on_bytes(std::string_view bytes) {
  switch (state_) {
    case State::kSniffing: {
      sniffed_.append(bytes);
      const serve::FirstBytes kind = serve::classify_first_bytes(sniffed_, accepted_.protocols);
      if (kind == serve::FirstBytes::kHttp1) {
        state_ = State::kHandingOff;  // served by the Asio runtime
        cancel_receive();
      } else if (kind == serve::FirstBytes::kHttp2) {
        // The preface, or bytes the core refuses with GOAWAY(PROTOCOL_ERROR), RFC 9113 §3.4.
        std::string initial = std::move(sniffed_);
        sniffed_.clear();
        sniffed_.shrink_to_fit();
        start_http2(initial);
      }
      return;
    }
    case State::kHandingOff:
      sniffed_.append(bytes);  // read before the cancel took effect: goes with the socket
      return;
    case State::kHttp2:
      received_ += bytes.size();
      conn_->process_bytes(bytes, worker_.now_ms());
      return;
    case State::kLingering:
    case State::kClosed:
      return;  // a lingering close reads and drops
  }
}

void UringConnection::start_http2(std::string_view initial) {
  state_ = State::kHttp2;
  conn_.emplace(this, snapshot_->config.limits, worker_.now_ms());
  conn_->process_bytes(initial, worker_.now_ms());
}

void UringConnection::on_peer_eof() {
  if (state_ == State::kHttp2 && conn_) {
    conn_->on_peer_eof();
  } else if (state_ == State::kSniffing) {
    close();  // closed before saying anything: nothing to answer
  } else if (state_ == State::kLingering) {
    close();
  }
}

void UringConnection::finish_handoff() {
  if (receiving_ || pending_ops_ != 0) return;  // wait for the receive's last completion
  const int fd = std::exchange(fd_, -1);
  state_ = State::kClosed;
  worker_.cancel_timer(timer_);
  worker_.handoff()(fd, unix_socket_, peer_, std::move(sniffed_), std::move(accepted_));
  worker_.remove(this);
}

// ---- send ----

void UringConnection::send() {
  views_.clear();
  const size_t total = conn_->pending_output(views_, kMaxWriteBytes);
  if (total == 0) return;
  iovecs_.clear();
  // sendmsg takes at most IOV_MAX pieces; the rest goes in the next send (consume_output
  // accepts any prefix of what pending_output gave).
  const size_t pieces = std::min<size_t>(views_.size(), IOV_MAX);
  for (size_t i = 0; i < pieces; ++i) {
    iovecs_.push_back({const_cast<char*>(views_[i].data()), views_[i].size()});
  }
  msg_ = {};
  msg_.msg_iov = iovecs_.data();
  msg_.msg_iovlen = iovecs_.size();
  io_uring_sqe* s = worker_.sqe();
  io_uring_prep_sendmsg(s, fd_, &msg_, MSG_NOSIGNAL);
  io_uring_sqe_set_data(s, &send_op_);
  sending_ = true;
  write_started_ms_ = worker_.now_ms();
  ++pending_ops_;
}

void UringConnection::on_sent(const io_uring_cqe& cqe) {
  auto self = shared_from_this();
  sending_ = false;
  op_done();
  if (state_ != State::kHttp2) return;
  if (cqe.res < 0) {
    close();
    return;
  }
  conn_->on_time(worker_.now_ms());
  conn_->consume_output(static_cast<size_t>(cqe.res));
  // A long iovec list is kept only while bytes are in flight.
  if (iovecs_.capacity() > 64) {
    iovecs_ = {};
    views_ = {};
  }
  pump();
}

// ---- the state machine ----

void UringConnection::pump() {
  pump_deferred_ = false;
  if (state_ != State::kHttp2 || !conn_) {
    if (state_ == State::kSniffing || state_ == State::kLingering) arm_timer();
    return;
  }
  if (!sending_ && conn_->wants_write()) send();
  if (conn_->wants_read() && !peer_eof_) {
    arm_receive();
  } else if (!conn_->wants_read() && receiving_ && !peer_eof_) {
    cancel_receive();  // backpressure: the peer does not read our output
  }
  if (conn_->is_closed() && !sending_) return linger();
  if (peer_eof_ && !sending_ && !conn_->wants_write()) return close();
  arm_timer();
}

void UringConnection::arm_timer() {
  const TimeoutConfig& t = snapshot_->config.timeouts;
  std::optional<uint64_t> due;
  auto consider = [&](uint64_t at) { due = std::min(due.value_or(UINT64_MAX), at); };
  if (conn_) {
    if (auto next = conn_->next_wakeup_ms()) consider(*next);
  }
  if (state_ == State::kSniffing) consider(start_ms_ + t.preface_ms);
  if (sending_) consider(write_started_ms_ + t.write_ms);
  if (state_ == State::kLingering) consider(linger_deadline_ms_);
  if (!due || (timer_ && *due == armed_ms_)) return;
  worker_.cancel_timer(timer_);
  armed_ms_ = *due;
  timer_ = worker_.add_timer(*due, [weak = weak_from_this()] {
    if (auto self = weak.lock()) {
      self->timer_ = {};
      self->on_timer();
    }
  });
}

void UringConnection::on_timer() {
  const uint64_t now = worker_.now_ms();
  const TimeoutConfig& t = snapshot_->config.timeouts;
  if (state_ == State::kSniffing && now >= start_ms_ + t.preface_ms) return close();
  if (state_ == State::kLingering && now >= linger_deadline_ms_) return close();
  if (sending_ && now >= write_started_ms_ + t.write_ms) {
    H2_LOG(kInfo, "h2 connection from " + peer_ + ": write timeout");
    return close();
  }
  if (conn_) conn_->on_time(now);
  pump();
}

void UringConnection::on_request(protocol::Reqd& reqd) {
  auto exchange = std::make_shared<serve::H2Exchange>(reqd, peer_, false, weak_from_this());
  serve::dispatch_request(snapshot_->router, exchange);
}

void UringConnection::on_stream_closed(protocol::Reqd& reqd, protocol::StreamEnd end,
                                       protocol::ErrorCode) {
  if (auto* exchange = static_cast<serve::H2Exchange*>(reqd.user_data())) {
    exchange->stream_ended(end);
  }
}

void UringConnection::on_output_ready() {
  if (pump_deferred_ || state_ != State::kHttp2) return;
  pump_deferred_ = true;
  worker_.defer_pump(shared_from_this());
}

void UringConnection::schedule(uint64_t delay_ms, std::function<void()> fn) {
  worker_.add_timer(worker_.now_ms() + delay_ms, [weak = weak_from_this(), fn = std::move(fn)] {
    auto self = weak.lock();
    if (!self || self->state_ != State::kHttp2) return;
    fn();
    self->pump();
  });
}

// Draining, as host/h2_session.h: GOAWAY once quiet (no open stream, no bytes for one check) or
// at half of timeouts.shutdown_ms, so busy clients lose nothing to the GOAWAY.
void UringConnection::shutdown_gracefully() {
  if (state_ == State::kHttp2 && conn_) {
    if (drain_deadline_ms_ != 0) return;
    drain_deadline_ms_ = worker_.now_ms() + snapshot_->config.timeouts.shutdown_ms / 2;
    schedule(kDrainCheckMs, [this, seen = received_] { drain_check(seen); });
  } else if (state_ == State::kSniffing) {
    close();
  }
}

void UringConnection::drain_check(uint64_t received_before) {
  if (state_ != State::kHttp2) return;
  const bool quiet = conn_->open_stream_count() == 0 && received_ == received_before;
  if (quiet || worker_.now_ms() >= drain_deadline_ms_) {
    conn_->start_graceful_shutdown(worker_.now_ms());
    pump();
    return;
  }
  schedule(kDrainCheckMs, [this, seen = received_] { drain_check(seen); });
}

void UringConnection::close_now() {
  if (state_ != State::kClosed && state_ != State::kHandingOff) close();
}

// The core is done and its output written: FIN after the last byte, then read and drop what
// the peer still sends (its WINDOW_UPDATEs for our last DATA), so that our close does not become
// an RST that destroys the end of the response in the peer's receive buffer.
void UringConnection::linger() {
  state_ = State::kLingering;
  conn_.reset();  // every stream is over; nothing more will be framed
  ::shutdown(fd_, SHUT_WR);
  linger_deadline_ms_ = worker_.now_ms() + kLingerMs;
  if (peer_eof_) return close();
  arm_receive();
  arm_timer();
}

void UringConnection::close() {
  if (state_ == State::kClosed) return;
  state_ = State::kClosed;
  worker_.cancel_timer(timer_);
  conn_.reset();
  if (receiving_) cancel_receive();
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);  // ends the pending receive and send at once
  maybe_release();
}

// A submitted operation's last completion was seen.
void UringConnection::op_done() {
  if (pending_ops_ > 0) --pending_ops_;
  if (state_ == State::kHandingOff) return finish_handoff();
  maybe_release();
}

// Once closed and no completion is outstanding, the socket is closed and the worker forgets
// the connection (it is destroyed after the current batch).
void UringConnection::maybe_release() {
  if (state_ != State::kClosed || pending_ops_ != 0) return;
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  worker_.remove(this);
}

}  // namespace h2::host::uring
