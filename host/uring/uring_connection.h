// One cleartext connection on the io_uring runtime: sniffs the first bytes (the 24-byte client
// preface, RFC 9113 §3.4, means prior-knowledge h2c; anything else is HTTP/1.1 and is handed to
// the Asio runtime with the bytes read so far), then drives a protocol::ServerConnection:
//   receive: one multishot recv with buffers picked by the kernel from the worker's ring; each
//            completion is fed to process_bytes straight from that buffer, which is then
//            recycled (no copy, no read buffer held by the connection);
//   send:    one sendmsg at a time, a gather list of pending_output() views -> consume_output;
//   time:    one worker timer at the earliest of next_wakeup_ms(), the preface deadline and the
//            write deadline.
// The core's contract does the rest (protocol/request_handler.h): on_stream_closed ends each
// exchange, on_output_ready defers one pump to the end of the completion batch. When the core is
// closed and its output written: a lingering close (FIN, then read and drop until the peer's EOF
// or 2 s), as the Asio runtime does (host/lingering_close.h).
#pragma once

#include <sys/socket.h>
#include <sys/uio.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "host/uring/uring_worker.h"
#include "protocol/server_connection.h"
#include "serve/h2_exchange.h"

namespace h2::host::uring {

class UringConnection final : public protocol::RequestHandler,
                              public serve::H2Transport,
                              public std::enable_shared_from_this<UringConnection> {
 public:
  static constexpr size_t kMaxWriteBytes = 256 * 1024;
  static constexpr uint64_t kLingerMs = 2000;

  UringConnection(UringWorker& worker, int fd, bool unix_socket, std::string peer,
                  std::shared_ptr<const Snapshot> snapshot, Accepted accepted);
  ~UringConnection() override;

  void start();
  void pump();
  void shutdown_gracefully();
  void close_now();
  // The receive ran out of provided buffers (ENOBUFS): the worker re-arms it after the batch.
  void retry_receive();

  // ---- protocol::RequestHandler ----
  void on_request(protocol::Reqd& reqd) override;
  void on_stream_closed(protocol::Reqd& reqd, protocol::StreamEnd end,
                        protocol::ErrorCode code) override;
  void on_output_ready() override;

  // ---- serve::H2Transport ----
  void schedule(uint64_t delay_ms, std::function<void()> fn) override;
  std::shared_ptr<serve::Loop> loop() const override { return worker_.loop(); }

 private:
  static constexpr uint64_t kDrainCheckMs = 100;
  void drain_check(uint64_t received_before);
  enum class State { kSniffing, kHandingOff, kHttp2, kLingering, kClosed };
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

  void arm_receive();
  void cancel_receive();
  void on_receive(const io_uring_cqe& cqe);
  void on_bytes(std::string_view bytes);
  void on_peer_eof();
  void start_http2(std::string_view initial);
  void send();
  void on_sent(const io_uring_cqe& cqe);
  void arm_timer();
  void on_timer();
  void linger();
  void close();
  void op_done();
  void maybe_release();
  void finish_handoff();

  UringWorker& worker_;
  int fd_;
  const bool unix_socket_;
  const std::string peer_;
  std::shared_ptr<const Snapshot> snapshot_;
  Accepted accepted_;
  State state_ = State::kSniffing;
  std::optional<protocol::ServerConnection> conn_;
  std::string sniffed_;  // bytes before the protocol is known (serve::kMaxSniffedBytes)

  RecvOp recv_op_;
  SendOp send_op_;
  CancelOp cancel_op_;
  unsigned pending_ops_ = 0;  // submitted, completion not seen: *this must stay alive
  bool receiving_ = false;    // a multishot recv is armed
  bool sending_ = false;
  bool peer_eof_ = false;
  bool pump_deferred_ = false;
  std::vector<std::string_view> views_;
  std::vector<iovec> iovecs_;
  msghdr msg_{};

  UringWorker::TimerKey timer_;
  uint64_t armed_ms_ = 0;
  uint64_t start_ms_;
  uint64_t write_started_ms_ = 0;
  uint64_t linger_deadline_ms_ = 0;
  uint64_t received_ = 0;           // HTTP/2 bytes fed to the core (for draining)
  uint64_t drain_deadline_ms_ = 0;  // set by shutdown_gracefully()
};

}  // namespace h2::host::uring
