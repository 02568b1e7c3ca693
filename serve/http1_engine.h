// HTTP/1.1 inside the connection driver. serve/ has no HTTP/1.1 parser (it stays free of Boost
// beyond Boost.DLL), so the driver serves HTTP/1.1 through this interface: http1/ implements it
// over Boost.Beast's parser (http1/http1_connection.h), and the runtime puts its factory in
// DriverPolicy::http1. Without one the driver hands HTTP/1.1 back to the runtime (kHttp1 with
// take_sniffed()).
//
// An engine serves one connection's HTTP/1.1 requests, one at a time, and reports how it ended
// through outcome(); the driver owns the socket's side of that (the lingering close, the h2c
// continuation). The driving calls mirror ConnectionEngine's, with the same meaning; the driver
// makes them only while outcome() is kServing. Example sequences:
//   keep-alive:  on_bytes(request 1) ... pending_output / on_written (response 1) ...
//                on_bytes(request 2) ... on_written (the last byte)       -> kServing
//                drain() while idle                                         -> kDone
//   upgrade:     on_bytes("GET / ... Upgrade: h2c ...") ... on_written(101)  -> kUpgrade
//                take_upgrade(): the request (stream 1), settings, the bytes read after it
//   failure:     on_time(past idle_ms) / a handler's reset() / a broken chunk -> kFailed
// A handler's reset() sets kFailed outside the driver's calls; the driver reads it in state().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/server_connection.h"
#include "serve/http1_exchange.h"

namespace h2::serve {

class ConnectionRuntime;
class Router;
struct DriverPeer;

// What an HTTP/1.1 connection hands on when it upgrades to h2c (RFC 7540 §3.2).
struct H2cUpgrade {
  Http1Request request;        // becomes stream 1 (its body whole, bounded before the 101)
  std::string http2_settings;  // the decoded HTTP2-Settings value: a SETTINGS payload
  std::string rest;            // bytes read after the request (the client's preface, ...)
  bool peer_eof = false;       // the client sent everything it will (a half-close)
  bool draining = false;       // drain() came while the 101 was written
};

class Http1Engine {
 public:
  enum class Outcome {
    kServing,  // a request in progress, or the next one awaited
    kDone,     // the last response is written and no other follows: close gracefully
    kFailed,   // close now: a timeout, broken framing, a handler's reset(), the peer gone
    kUpgrade,  // "101 Switching Protocols" is written: continue as HTTP/2 (take_upgrade())
  };

  virtual ~Http1Engine() = default;
  virtual Outcome outcome() const = 0;
  virtual void on_bytes(std::string_view bytes, uint64_t now) = 0;
  virtual void on_peer_eof(uint64_t now) = 0;
  virtual size_t pending_output(std::vector<std::string_view>& out, size_t max_bytes) = 0;
  virtual void on_written(size_t n, uint64_t now) = 0;
  virtual void on_time(uint64_t now) = 0;
  virtual bool wants_read() const = 0;
  virtual bool wants_write() const = 0;
  virtual std::optional<uint64_t> next_wakeup_ms() const = 0;
  // Serve the request in progress (if any), then kDone.
  virtual void drain(uint64_t now) = 0;
  // After kUpgrade, once.
  virtual H2cUpgrade take_upgrade() = 0;
};

// What an engine is made with. References are valid for the call only, except `runtime`,
// which outlives the engine.
struct Http1Start {
  ConnectionRuntime& runtime;
  const std::shared_ptr<const Router>& router;
  const DriverPeer& peer;
  bool upgrade_allowed = false;  // cleartext, and the listener offers h2: "Upgrade: h2c" works
  bool draining = false;         // serve one request, then close
  uint64_t now = 0;
};

// Made once per configuration (it holds the HTTP/1.1 limits) and shared by its connections.
class Http1EngineFactory {
 public:
  virtual ~Http1EngineFactory() = default;
  // Called when the first bytes are an HTTP/1.1 request line; the driver then gives the engine
  // those bytes through on_bytes. Shared because exchanges hold it weakly as their transport.
  virtual std::shared_ptr<Http1Engine> make(const Http1Start& start) const = 0;
};

// The HTTP/2 request an upgrade continues as: hop-by-hop fields dropped (RFC 9113 §8.2.2), Host
// as :authority. Views point into `request` and `fields` (both must outlive its use);
// `request.body` is moved into the result.
protocol::UpgradeRequest to_upgrade_request(Http1Request& request,
                                            std::vector<protocol::Field>& fields);

}  // namespace h2::serve
