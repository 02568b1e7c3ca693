// Entry points from the acceptors into the Asio runtime's connection template
// (host/asio_connection.h, instantiated in sessions.cc for the stream types h2host uses). Each
// runs on the connection's worker thread.
#pragma once

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <memory>

#include "host/runtime.h"
#include "tls/server_context.h"

namespace h2::host {

// Cleartext TCP: prior-knowledge h2c is told from HTTP/1.1 by the first bytes (RFC 9113 §3.4);
// with `tls` (tls/tls_connection.h), the TLS handshake runs first and ALPN chooses.
void start_tcp_connection(boost::asio::ip::tcp::socket socket, ConnectionContext context,
                          const tls::ServerContext& tls);

void start_unix_connection(boost::asio::local::stream_protocol::socket socket,
                           ConnectionContext context);

}  // namespace h2::host
