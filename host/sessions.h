// Entry points from the acceptors into the session templates (instantiated in sessions.cc for
// the stream types h2host uses). Each runs on the connection's worker thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "host/runtime.h"

namespace h2::host {

// Cleartext TCP: prior-knowledge h2c is told from HTTP/1.1 by the first bytes (RFC 9113 §3.4);
// with `tls`, the TLS handshake runs first and ALPN chooses.
void start_tcp_connection(boost::asio::ip::tcp::socket socket, ConnectionContext context,
                          std::shared_ptr<boost::asio::ssl::context> tls);

void start_unix_connection(boost::asio::local::stream_protocol::socket socket,
                           ConnectionContext context);

}  // namespace h2::host
