// Protocol selection for a new connection, generic over the stream type:
//   cleartext: read until the bytes either are the 24-byte client preface (prior-knowledge h2c,
//              RFC 9113 §3.3) or cannot be, then hand stream + bytes to H2Session / Http1Session;
//   TLS:       handshake (bounded by timeouts.tls_handshake_ms), then ALPN "h2" -> H2Session,
//              anything else -> Http1Session.
#pragma once

#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <chrono>
#include <memory>
#include <string_view>

#include "host/h2_session.h"
#include "host/http1_session.h"
#include "host/stream_close.h"
#include "host/tls.h"

namespace h2::host {

inline constexpr std::string_view kClientPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

template <class Stream>
class PrefaceSniffer : public std::enable_shared_from_this<PrefaceSniffer<Stream>> {
 public:
  PrefaceSniffer(Stream stream, ConnectionContext context)
      : stream_(std::move(stream)), context_(std::move(context)), timer_(stream_.get_executor()) {}

  void start() {
    timer_.expires_after(std::chrono::milliseconds(context_.snapshot->config.timeouts.preface_ms));
    timer_.async_wait([weak = this->weak_from_this()](boost::system::error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->done_) return;
      close_stream(self->stream_);
    });
    read();
  }

 private:
  void read() {
    stream_.async_read_some(buffer_.prepare(4096), [self = this->shared_from_this()](
                                                       boost::system::error_code ec, size_t n) {
      if (ec) {
        self->done_ = true;
        self->timer_.cancel();
        return;  // closed before saying anything: nothing to answer
      }
      self->buffer_.commit(n);
      self->decide();
    });
  }

  void decide() {
    const std::string_view seen(static_cast<const char*>(buffer_.data().data()), buffer_.size());
    const size_t common = std::min(seen.size(), kClientPreface.size());
    if (seen.substr(0, common) == kClientPreface.substr(0, common) &&
        seen.size() < kClientPreface.size()) {
      return read();  // still possibly the preface
    }
    done_ = true;
    timer_.cancel();
    if (seen.starts_with(kClientPreface)) {
      auto session = std::make_shared<H2Session<Stream>>(std::move(stream_), context_);
      session->start(seen);
    } else {
      auto session =
          std::make_shared<Http1Session<Stream>>(std::move(stream_), context_, std::move(buffer_));
      session->start();
    }
  }

  Stream stream_;
  ConnectionContext context_;
  boost::asio::steady_timer timer_;
  boost::beast::flat_buffer buffer_;
  bool done_ = false;
};

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
    // The ssl::context must outlive the stream: each session keeps it through the snapshot's
    // server (listeners live for the process), see Server.
    if (alpn == "h2") {
      auto session = std::make_shared<H2Session<Stream>>(std::move(stream_), context_);
      session->start({});
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
