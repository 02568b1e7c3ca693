// Protocol selection for a new connection, generic over the stream type:
//   cleartext: an H2Session whose serve::ConnectionDriver reads until the first bytes tell the
//              24-byte client preface (prior-knowledge h2c, RFC 9113 §3.3) from an HTTP/1.1
//              request line; HTTP/1.1 goes on in an Http1Session with the bytes read so far;
//   TLS:       handshake (bounded by timeouts.tls_handshake_ms), then ALPN "h2" -> H2Session,
//              anything else -> Http1Session.
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "host/h2_session.h"
#include "host/http1_session.h"
#include "host/stream_close.h"
#include "host/tls.h"
#include "serve/first_bytes.h"

namespace h2::host {

// The HTTP/1.1 side of a cleartext connection whose first bytes were classified (by H2Session's
// driver, or by the io_uring runtime's before its hand-off to Asio).
template <class Stream>
void start_http1_after_sniffing(Stream&& stream, ConnectionContext context, std::string initial) {
  boost::beast::flat_buffer buffer;
  auto space = buffer.prepare(initial.size());
  std::memcpy(space.data(), initial.data(), initial.size());
  buffer.commit(initial.size());
  std::make_shared<Http1Session<Stream>>(std::move(stream), std::move(context), std::move(buffer))
      ->start();
}

// A new cleartext connection: the first-bytes decision is the driver's (serve/first_bytes.h).
template <class Stream>
void start_cleartext(Stream stream, ConnectionContext context) {
  std::make_shared<H2Session<Stream>>(std::move(stream), std::move(context))
      ->start_sniffing(&start_http1_after_sniffing<Stream>);
}

template <class Socket>
class TlsStarter : public std::enable_shared_from_this<TlsStarter<Socket>> {
 public:
  using Stream = boost::asio::ssl::stream<Socket>;
  TlsStarter(Socket socket, ConnectionContext context,
             std::shared_ptr<boost::asio::ssl::context> tls)
      : tls_(std::move(tls)),
        stream_(std::move(socket), *tls_),
        context_(std::move(context)),
        timer_(stream_.get_executor()) {}

  void start() {
    timer_.expires_after(
        std::chrono::milliseconds(context_.snapshot->config.timeouts.tls_handshake_ms));
    timer_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->done_) return;
      H2_LOG(kInfo, "TLS handshake with " + self->context_.peer + " timed out");
      close_stream(self->stream_);
    });
    stream_.async_handshake(
        boost::asio::ssl::stream_base::server,
        [self = this->shared_from_this()](boost::system::error_code ec) {
          self->done_ = true;
          self->timer_.cancel();
          if (ec) {
            H2_LOG(kInfo, "TLS handshake with " + self->context_.peer + " failed: " + ec.message());
            return;
          }
          self->dispatch();
        });
  }

 private:
  void dispatch() {
    const std::string_view alpn = alpn_selected(stream_.native_handle());
    context_.tls_version = SSL_get_version(stream_.native_handle());
    context_.alpn = alpn == "h2" ? "h2" : alpn == "http/1.1" ? "http/1.1" : nullptr;
    context_.starting.reset();  // a session from here on: counted as one
    // The ssl::context must outlive the stream: each session keeps it through the snapshot's
    // server (listeners live for the process), see Server.
    if (alpn == "h2") {
      auto session = std::make_shared<H2Session<Stream>>(std::move(stream_), context_);
      session->start({});
    } else if (!context_.protocols.http1) {
      // An h2-only listener and a client that offered no ALPN (one that offered others got the
      // no_application_protocol alert, RFC 7301 §3.2): nothing it could speak.
      H2_LOG(kInfo, "TLS client " + context_.peer + " did not offer h2 (ALPN); closing");
      close_stream(stream_);
    } else {
      auto session = std::make_shared<Http1Session<Stream>>(std::move(stream_), context_,
                                                            boost::beast::flat_buffer());
      session->start();
    }
  }

  std::shared_ptr<boost::asio::ssl::context> tls_;
  Stream stream_;
  ConnectionContext context_;
  boost::asio::steady_timer timer_;
  bool done_ = false;
};

}  // namespace h2::host
