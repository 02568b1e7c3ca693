// One TCP connection on lwIP's raw API, served by a serve::ConnectionDriver - directly, or
// under tls::TlsConnection on a TLS listener (the same engine interface either way).
//
// lwIP's callbacks (recv, sent, err) only record what happened and mark the connection dirty;
// the runtime's pump() then does the work outside the stack:
//   receive: segments are held (not acknowledged to the window: tcp_recved) until the driver
//            wants to read, so a peer that sends faster than we serve fills its window and
//            stops - backpressure through TCP itself, no buffer of ours grows;
//   send:    pending output is copied into lwIP's send buffer up to tcp_sndbuf() (and the
//            segment queue's bound), then tcp_output(); tcp_sent() frees space and pumps again;
//   close:   kLingering shuts the write side (FIN after the last byte) and keeps reading;
//            kClosed closes the pcb (lwIP sends RST itself if unread data is left).
#pragma once

#include <cstdint>
#include <deque>
#include <memory>

#include "lwip_runtime/runtime.h"
#include "serve/connection_driver.h"

struct tcp_pcb;
struct pbuf;

namespace h2::lwip_runtime {

class TcpConnection final : public serve::ConnectionRuntime,
                            public std::enable_shared_from_this<TcpConnection> {
 public:
  TcpConnection(Runtime& runtime, tcp_pcb* pcb);
  ~TcpConnection() override;

  // After make_shared: the driver (which holds *this as its runtime) and lwIP's callbacks.
  void start(const Serving& serving);
  // Runtime thread, outside lwIP's callbacks: does what the last events call for.
  void pump();
  void on_time(uint64_t now);
  void drain();
  void close_now();

  // ---- serve::ConnectionRuntime ----
  std::shared_ptr<serve::Loop> loop() const override { return runtime_.loop(); }
  void wake() override {
    if (!released_) runtime_.mark_dirty(this);
  }
  uint64_t now() const override { return Runtime::now_ms(); }

  // lwIP's callbacks (tcp_connection.cc), recorded for pump().
  void received(pbuf* p);
  void peer_finished() { peer_eof_ = true; }
  void failed();

 private:
  void feed(uint64_t now);
  void write(uint64_t now);
  void close_pcb();

  Runtime& runtime_;
  tcp_pcb* pcb_;
  // What serves the bytes: the driver itself on cleartext, TLS holding the driver on TLS.
  std::shared_ptr<serve::ConnectionEngine> engine_;
  std::shared_ptr<const void> keep_alive_;
  std::deque<pbuf*> held_;  // received, not fed yet (not acknowledged to the window either)
  bool peer_eof_ = false;   // FIN received (fed once held_ is empty)
  bool eof_fed_ = false;
  bool failed_ = false;  // lwIP freed the pcb (reset, or retransmissions gave up)
  bool write_shut_ = false;
  uint64_t armed_ms_ = 0;  // the runtime's timer for this connection (0: none)
  bool released_ = false;
};

}  // namespace h2::lwip_runtime
