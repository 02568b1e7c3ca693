// One connection on the io_uring runtime: the I/O of a serve::ConnectionDriver, which owns every
// policy (first bytes, HTTP/1.1 and the h2c upgrade, the HTTP/2 core, deadlines, draining, the
// close sequence):
//   receive: one multishot recv with buffers picked by the kernel from the worker's ring; each
//            completion is fed to the driver straight from that buffer, which is then recycled
//            (no copy, no read buffer held by the connection);
//   send:    one sendmsg at a time, a gather list of pending_output() views -> on_written;
//   time:    one worker timer at the driver's next_wakeup_ms().
// kLingering: FIN after the last byte, read and drop; kClosed: close. A TLS listener stacks
// tls::TlsConnection over the driver: the same loop, records instead of plaintext; ALPN picks
// HTTP/2 or HTTP/1.1 (tls::policy_after_handshake), kHandOff (nothing to speak) closes.
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <string>
#include <vector>

#include "host/uring/uring_worker.h"
#include "serve/connection_driver.h"

namespace h2::host::uring {

class UringConnection final : public serve::ConnectionRuntime,
                              public std::enable_shared_from_this<UringConnection> {
 public:
  static constexpr size_t kMaxWriteBytes = 256 * 1024;

  UringConnection(UringWorker& worker, int fd, std::string peer,
                  std::shared_ptr<const Snapshot> snapshot, Accepted accepted);
  ~UringConnection() override;

  void start();
  void pump();
  void shutdown_gracefully();
  void close_now();
  // The receive ran out of provided buffers (ENOBUFS): the worker re-arms it after the batch.
  void retry_receive();

  // ---- serve::ConnectionRuntime ----
  std::shared_ptr<serve::Loop> loop() const override { return worker_.loop(); }
  void wake() override;
  uint64_t now() const override { return worker_.now_ms(); }

 private:
  using State = serve::ConnectionEngine::State;
  struct RecvOp final : Op {
    UringConnection* owner = nullptr;
    void complete(const io_uring_cqe& cqe) override { owner->on_receive(cqe); }
  };
  struct SendOp final : Op {
    UringConnection* owner = nullptr;
    void complete(const io_uring_cqe& cqe) override { owner->on_sent(cqe); }
  };
  struct CancelOp final : Op {
    UringConnection* owner = nullptr;
    void complete(const io_uring_cqe&) override { owner->op_done(); }
  };

  bool serving() const { return !closed_; }
  void arm_receive();
  void cancel_receive();
  void on_receive(const io_uring_cqe& cqe);
  void send();
  void on_sent(const io_uring_cqe& cqe);
  void arm_timer();
  void close();
  void op_done();
  void maybe_release();

  UringWorker& worker_;
  int fd_;
  const std::string peer_;
  std::shared_ptr<const Snapshot> snapshot_;
  Accepted accepted_;
  // What serves the bytes: the driver itself on cleartext, TLS holding the driver on TLS.
  std::shared_ptr<serve::ConnectionEngine> engine_;

  RecvOp recv_op_;
  SendOp send_op_;
  CancelOp cancel_op_;
  unsigned pending_ops_ = 0;  // submitted, completion not seen: *this must stay alive
  bool receiving_ = false;    // a multishot recv is armed
  bool sending_ = false;
  bool peer_eof_ = false;
  bool eof_fed_ = false;  // the driver heard of it
  bool write_shut_ = false;
  bool closed_ = false;
  bool pump_deferred_ = false;
  std::vector<iovec> iovecs_;  // the send in flight
  msghdr msg_{};

  UringWorker::TimerKey timer_;
  uint64_t armed_ms_ = 0;
};

}  // namespace h2::host::uring
