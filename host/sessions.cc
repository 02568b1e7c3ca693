// Instantiates host/asio_connection.h for the stream types h2host uses (TCP and Unix sockets):
// the only TU that compiles it, so template-heavy code is built once.
#include "host/sessions.h"

#include "host/asio_connection.h"

namespace h2::host {

void start_tcp_connection(boost::asio::ip::tcp::socket socket, ConnectionContext context,
                          const tls::ServerContext& tls) {
  boost::system::error_code ignored;
  socket.set_option(boost::asio::ip::tcp::no_delay(true), ignored);
  std::make_shared<AsioConnection<boost::asio::ip::tcp::socket>>(std::move(socket),
                                                                 std::move(context))
      ->start(tls);
}

void start_unix_connection(boost::asio::local::stream_protocol::socket socket,
                           ConnectionContext context) {
  std::make_shared<AsioConnection<boost::asio::local::stream_protocol::socket>>(std::move(socket),
                                                                                std::move(context))
      ->start();
}

}  // namespace h2::host
