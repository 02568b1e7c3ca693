// What a runtime drives for each server connection: the runtime-facing half of
// serve::ConnectionDriver (serve/connection_driver.h has the contract and the loop), as an
// interface, so that a layer can stack under the runtime without the runtime knowing: TLS
// (tls/tls_connection.h) is a ConnectionEngine that holds a ConnectionDriver and passes it
// plaintext. Single-threaded, like the driver.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace h2::serve {

class ConnectionEngine {
 public:
  enum class State {
    kSniffing,   // first bytes not classified yet (or a TLS handshake running)
    kHttp1,      // HTTP/1.1, served by the driver's HTTP/1.1 engine (serve/http1_engine.h)
    kHttp2,      // the core serves
    kHandOff,    // HTTP/1.1 and no engine for it (or over TLS, an ALPN result nothing here
                 // serves): the runtime serves it from take_sniffed(), or closes
    kLingering,  // all output written: shut the write side, read and drop
    kClosed,     // close the socket
  };

  virtual ~ConnectionEngine() = default;
  virtual State state() const = 0;
  virtual void on_bytes(std::string_view bytes, uint64_t now) = 0;
  virtual void on_peer_eof(uint64_t now, bool failed) = 0;
  virtual size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes) = 0;
  virtual void on_written(size_t n, uint64_t now) = 0;
  virtual void on_write_failed() = 0;
  virtual void on_time(uint64_t now) = 0;
  virtual bool wants_read() const = 0;
  virtual bool wants_write() const = 0;
  virtual std::optional<uint64_t> next_wakeup_ms() const = 0;
  virtual void drain(uint64_t now) = 0;
  virtual void close_now() = 0;
  virtual std::string take_sniffed() = 0;
};

}  // namespace h2::serve
