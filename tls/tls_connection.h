// TLS as a layer any runtime stacks under its connections, free of I/O: OpenSSL with a memory
// BIO for what arrives and a BIO of ours for what leaves, so each record is encrypted straight
// into the buffer the runtime writes to its socket (no second copy). It is a
// serve::ConnectionEngine: the runtime drives it exactly as it drives a ConnectionDriver
// (bytes, EOF, writes, time) and never sees plaintext.
//
//   handshake  (state kSniffing, bounded by handshake_ms): records in, records out;
//   done       -> the driver from `make_driver` (given the ALPN result: "h2" for HTTP/2, else
//                 HTTP/1.1) serves the plaintext: decrypted bytes go to its on_bytes while it
//                 wants them, its output is encrypted as 16 KiB records; no driver (nothing
//                 here serves what the client can speak) -> kHandOff (the runtime closes);
//   the driver's kLingering -> close_notify is queued, then kLingering for the runtime (write
//                 what is pending, then shut the write side, read and drop);
//   a handshake or record failure -> the alert is written if any, then kClosed.
//
// Output views stay valid until on_written, across further on_bytes calls (ciphertext lives in
// blocks that never move), so a runtime may read while one write is in flight.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "serve/connection_driver.h"
#include "serve/connection_engine.h"
#include "tls/server_context.h"

struct bio_st;

namespace h2::tls {

// The one ALPN policy for a driver after the handshake, from the listener's cleartext policy:
// "h2" -> HTTP/2 at once; "http/1.1" or no ALPN -> HTTP/1.1, when the listener offers it and
// `listener.http1` can serve it; otherwise nullopt (nothing here speaks what the client can).
std::optional<serve::DriverPolicy> policy_after_handshake(serve::DriverPolicy listener,
                                                          std::string_view alpn);
// ALPN's result as a static string for DriverPeer::alpn: "h2", "http/1.1" or nullptr.
const char* alpn_name(std::string_view alpn);

class TlsConnection final : public serve::ConnectionEngine {
 public:
  // Called once, when the handshake is done: the driver that serves the connection, or null.
  // `version` is OpenSSL's static name of the protocol version ("TLSv1.3"), for the access log;
  // `alpn` the protocol ALPN selected ("h2", "http/1.1", or "" when the client offered none).
  using DriverFactory = std::function<std::shared_ptr<serve::ConnectionDriver>(
      const char* version, std::string_view alpn)>;

  struct Limits {
    uint64_t handshake_ms = 10'000;
    uint64_t write_ms = 30'000;
  };

  TlsConnection(const ServerContext& context, DriverFactory make_driver, Limits limits,
                uint64_t now);
  ~TlsConnection() override;

  State state() const override;
  void on_bytes(std::string_view bytes, uint64_t now) override;
  void on_peer_eof(uint64_t now, bool failed) override;
  size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes) override;
  void on_written(size_t n, uint64_t now) override;
  void on_write_failed() override;
  void on_time(uint64_t now) override;
  bool wants_read() const override;
  bool wants_write() const override;
  std::optional<uint64_t> next_wakeup_ms() const override;
  void drain(uint64_t now) override;
  void close_now() override;
  std::string take_sniffed() override { return {}; }

  // "h2", "http/1.1" or "" once the handshake is done.
  std::string_view alpn() const;
  // The ciphertext queue (tests: no block is kept once everything is written).
  size_t queued_blocks() const { return blocks_.size(); }

  void append_output(const char* data, size_t size);  // the output BIO's write

 private:
  enum class Phase { kHandshake, kOpen, kHandOff, kShutdown, kFailed, kClosed };
  void handshake(uint64_t now);
  void read_plaintext(uint64_t now);
  void encrypt(uint64_t now);
  bool seal(const char* data, size_t size);
  bool flush_staging();
  void settle();
  void fail();
  size_t queued() const { return queued_; }

  ssl_st* ssl_ = nullptr;
  bio_st* in_ = nullptr;  // owned by ssl_
  DriverFactory make_driver_;
  Limits limits_;
  std::shared_ptr<serve::ConnectionDriver> driver_;
  Phase phase_ = Phase::kHandshake;
  uint64_t start_ms_;
  uint64_t now_;
  uint64_t write_waiting_since_ = 0;
  bool drain_requested_ = false;  // drain() during the handshake
  // Ciphertext to write: blocks that never reallocate (reserved, appended within capacity),
  // the first `sent_` bytes of the front block already written.
  std::deque<std::string> blocks_;
  size_t sent_ = 0;
  size_t queued_ = 0;
  std::string staging_;  // plaintext of a record not full yet (freed once everything is written)
};

}  // namespace h2::tls
