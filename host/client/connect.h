// Opening client connections: URL parsing, TCP / Unix-socket connect, TLS with ALPN "h2",
// certificate verification (the system trust store or a CA file) and SNI, then a started
// Session. HTTP/2 only: prior knowledge on cleartext ("h2c"), ALPN on TLS.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "host/client/client_session.h"

namespace h2::host::client {

struct Url {
  bool tls = false;       // https
  std::string host;       // without brackets for IPv6
  uint16_t port = 0;      // 80 / 443 when the URL has none
  std::string path = "/"; // path and query, never empty
  // :authority as the URL wrote it (RFC 9113 §8.3.1), default ports dropped.
  std::string authority() const;
  // scheme://host:port, the key of a connection to this origin.
  std::string origin() const;
  // host:port with the port always written ("[::1]:443" for IPv6), as address_text writes one.
  std::string host_port() const;
};

// http://host[:port][/path?query] or https://...; false with `*error` set for anything else.
bool parse_url(std::string_view text, Url* url, std::string* error);

struct ConnectOptions {
  bool verify_peer = true;     // false: -k, no certificate or name check
  std::string ca_file;         // PEM file of trusted CAs (empty: the system trust store)
  std::string unix_socket;     // connect here instead of host:port (the URL still names it)
  uint64_t connect_timeout_ms = 10'000;  // resolve + TCP connect
  uint64_t tls_timeout_ms = 10'000;      // the TLS handshake
};

// done(session, "") with a started session, or done(nullptr, why) ("connect timeout",
// "certificate verify failed", "server did not select h2 through ALPN (got http/1.1)").
using Connected = std::function<void(std::shared_ptr<Session>, std::string error)>;
void async_connect(boost::asio::any_io_executor executor, const Url& url,
                   const ConnectOptions& options, protocol::ClientHandler* handler,
                   const SessionOptions& session_options, Connected done);

}  // namespace h2::host::client
