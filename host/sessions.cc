// Instantiates the session templates for TCP, TLS over TCP and Unix sockets: the only TU that
// compiles H2Session / Http1Session / Beast's parser, so template-heavy code is built once.
#include "host/sessions.h"


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

}  // namespace h2::host
