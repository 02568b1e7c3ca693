// Instantiates the session templates for TCP, TLS over TCP and Unix sockets: the only TU that
// compiles H2Session / Http1Session / Beast's parser, so template-heavy code is built once.
#include "host/sessions.h"

#include <cstring>

#include "host/connection_start.h"

namespace h2::host {

void start_tcp_connection(boost::asio::ip::tcp::socket socket, ConnectionContext context,
                          std::shared_ptr<boost::asio::ssl::context> tls) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  if (tls) {
    std::make_shared<TlsStarter<boost::asio::ip::tcp::socket>>(std::move(socket),
                                                               std::move(context), std::move(tls))
        ->start();
  } else {
    start_cleartext(std::move(socket), std::move(context));
  }
}

void start_unix_connection(boost::asio::local::stream_protocol::socket socket,
                           ConnectionContext context) {
  start_cleartext(std::move(socket), std::move(context));
}

namespace {

template <class Socket>
void start_http1(Socket socket, ConnectionContext context, const std::string& initial) {
  boost::beast::flat_buffer buffer;
  auto space = buffer.prepare(initial.size());
  std::memcpy(space.data(), initial.data(), initial.size());
  buffer.commit(initial.size());
  std::make_shared<Http1Session<Socket>>(std::move(socket), std::move(context), std::move(buffer))
      ->start();
}

}  // namespace

void start_http1_connection(boost::asio::ip::tcp::socket socket, ConnectionContext context,
                            std::string initial) {
  start_http1(std::move(socket), std::move(context), initial);
}

void start_http1_connection(boost::asio::local::stream_protocol::socket socket,
                            ConnectionContext context, std::string initial) {
  start_http1(std::move(socket), std::move(context), initial);
}

}  // namespace h2::host
