#include "host/uring/uring_connection.h"

#include <limits.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <utility>

#include "tls/tls_connection.h"

namespace h2::host::uring {

UringConnection::UringConnection(UringWorker& worker, int fd, std::string peer,
                                 std::shared_ptr<const Snapshot> snapshot, Accepted accepted)
    : worker_(worker),
      fd_(fd),
      peer_(std::move(peer)),
      snapshot_(std::move(snapshot)),
      accepted_(std::move(accepted)) {
  recv_op_.owner = this;
  send_op_.owner = this;
  cancel_op_.owner = this;
}

UringConnection::~UringConnection() {
  engine_.reset();  // ends open streams with their callbacks (protocol contract)
  if (fd_ >= 0) ::close(fd_);
}

void UringConnection::start() {
  const HostConfig& config = snapshot_->config;
  serve::DriverPolicy policy;
  policy.protocols = accepted_.protocols;
  policy.limits = std::shared_ptr<const protocol::ConnectionOptions>(snapshot_, &config.limits);
  policy.preface_ms = config.timeouts.preface_ms;
  policy.write_ms = config.timeouts.write_ms;
  policy.shutdown_ms = config.timeouts.shutdown_ms;
  policy.http1 = snapshot_->http1;
  if (accepted_.tls) {
    auto make_driver = [this, policy](const char* version, std::string_view alpn) {
      std::optional<serve::DriverPolicy> chosen = tls::policy_after_handshake(policy, alpn);
      if (!chosen) return std::shared_ptr<serve::ConnectionDriver>();
      return std::make_shared<serve::ConnectionDriver>(
          *this, snapshot_->router, std::move(*chosen),
          serve::DriverPeer{peer_, true, version, tls::alpn_name(alpn)}, now());
    };
    engine_ = std::make_shared<tls::TlsConnection>(
        accepted_.tls, std::move(make_driver),
        tls::TlsConnection::Limits{config.timeouts.tls_handshake_ms, config.timeouts.write_ms},
        now());
  } else {
    engine_ = std::make_shared<serve::ConnectionDriver>(*this, snapshot_->router, policy,
                                                        serve::DriverPeer{peer_}, now());
  }
  arm_receive();
  arm_timer();
}

// ---- receive ----

void UringConnection::arm_receive() {
  if (receiving_ || peer_eof_ || closed_) return;
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
  if (serving()) arm_receive();
}

void UringConnection::on_receive(const io_uring_cqe& cqe) {
  auto self = shared_from_this();
  const bool more = (cqe.flags & IORING_CQE_F_MORE) != 0;
  bool failed = false;
  if (cqe.res > 0 && (cqe.flags & IORING_CQE_F_BUFFER)) {
    const unsigned id = cqe.flags >> IORING_CQE_BUFFER_SHIFT;
    // Fed straight from the kernel's buffer, which goes back to the ring at once: the core
    // copies only what it keeps (a request body waiting for its handler).
    const std::string_view bytes = worker_.buffer(id, static_cast<size_t>(cqe.res));
    if (!closed_) engine_->on_bytes(bytes, now());
    worker_.recycle(id);
  } else if (cqe.res == 0) {
    peer_eof_ = true;
  }
  if (!more) {
    receiving_ = false;
    if (cqe.res == -ENOBUFS) {
      if (serving()) worker_.retry_receive_later(self);  // buffers come back within this batch
    } else if (cqe.res < 0 && cqe.res != -ECANCELED) {
      peer_eof_ = failed = true;  // reset by the peer, or another receive error
    }
  }
  if (peer_eof_ && !eof_fed_ && serving()) {
    eof_fed_ = true;
    engine_->on_peer_eof(now(), failed);
  }
  if (!more) op_done();  // may release a closed connection
  if (serving()) pump();
}

// ---- send ----

void UringConnection::send() {
  // The views are scratch of the worker's thread: only the iovecs must live until completion.
  thread_local std::vector<std::string_view> views;
  views.clear();
  const size_t total = engine_->pending_output(views, kMaxWriteBytes);
  if (total == 0) return;
  iovecs_.clear();
  // sendmsg takes at most IOV_MAX pieces; the rest goes in the next send (on_written accepts
  // any prefix of what pending_output gave).
  const size_t pieces = std::min<size_t>(views.size(), IOV_MAX);
  for (size_t i = 0; i < pieces; ++i) {
    iovecs_.push_back({const_cast<char*>(views[i].data()), views[i].size()});
  }
  msg_ = {};
  msg_.msg_iov = iovecs_.data();
  msg_.msg_iovlen = iovecs_.size();
  io_uring_sqe* s = worker_.sqe();
  io_uring_prep_sendmsg(s, fd_, &msg_, MSG_NOSIGNAL);
  io_uring_sqe_set_data(s, &send_op_);
  sending_ = true;
  ++pending_ops_;
}

void UringConnection::on_sent(const io_uring_cqe& cqe) {
  auto self = shared_from_this();
  sending_ = false;
  op_done();
  if (!serving()) return;
  if (cqe.res < 0) {
    engine_->on_write_failed();
  } else {
    engine_->on_written(static_cast<size_t>(cqe.res), now());
  }
  // The iovec list is kept only while output follows (an idle connection holds none).
  if (iovecs_.capacity() > 64 || !engine_->wants_write()) iovecs_ = {};
  pump();
}

// ---- what the driver asks for ----

void UringConnection::pump() {
  pump_deferred_ = false;
  if (!serving()) return;
  if (!sending_ && engine_->wants_write()) send();
  switch (engine_->state()) {
    case State::kHandOff:  // TLS: the client cannot speak what the listener offers
    case State::kClosed:
      return close();
    case State::kLingering:
      if (!write_shut_ && !sending_ && !engine_->wants_write()) {  // TLS: close_notify first
        write_shut_ = true;
        ::shutdown(fd_, SHUT_WR);  // FIN after the last byte; read and drop until EOF
      }
      break;
    default:
      break;
  }
  if (engine_->wants_read() && !peer_eof_) {
    arm_receive();
  } else if (!engine_->wants_read() && receiving_ && !peer_eof_) {
    cancel_receive();  // backpressure: the peer does not read our output
  }
  arm_timer();
}

void UringConnection::arm_timer() {
  const std::optional<uint64_t> due = engine_->next_wakeup_ms();
  if (!due || (timer_ && *due == armed_ms_)) return;
  worker_.cancel_timer(timer_);
  armed_ms_ = *due;
  timer_ = worker_.add_timer(*due, [weak = weak_from_this()] {
    auto self = weak.lock();
    if (!self || !self->serving()) return;
    self->timer_ = {};
    self->engine_->on_time(self->now());
    self->pump();
  });
}

void UringConnection::wake() {
  if (pump_deferred_ || !serving()) return;
  pump_deferred_ = true;
  worker_.defer_pump(shared_from_this());
}

void UringConnection::shutdown_gracefully() {
  if (!serving()) return;
  engine_->drain(now());
  pump();
}

void UringConnection::close_now() {
  if (!serving()) return;
  close();
}

void UringConnection::close() {
  if (closed_) return;
  closed_ = true;
  // The socket is shut first (ending the pending receive and send at once): a send armed for
  // poll then fails with EPIPE when it is retried (cancel_receive's submission may run it)
  // instead of reading the output that close_now() below frees.
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
  worker_.cancel_timer(timer_);
  engine_->close_now();  // no-op when the driver closed itself
  if (receiving_) cancel_receive();
  maybe_release();
}

// A submitted operation's last completion was seen.
void UringConnection::op_done() {
  if (pending_ops_ > 0) --pending_ops_;
  maybe_release();
}

// Once closed and no completion is outstanding, the socket is closed and the worker forgets
// the connection (it is destroyed after the current batch).
void UringConnection::maybe_release() {
  if (!closed_ || pending_ops_ != 0) return;
  if (fd_ >= 0) ::close(std::exchange(fd_, -1));
  worker_.remove(this);
}

}  // namespace h2::host::uring
