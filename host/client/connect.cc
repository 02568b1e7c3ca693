#include "host/client/connect.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>
#include <charconv>

#include "host/address_text.h"

namespace h2::host::client {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using TlsStream = asio::ssl::stream<tcp::socket>;

namespace {

std::string bracketed(const std::string& host) {  // an IPv6 literal in brackets
  return host.find(':') != std::string::npos ? '[' + host + ']' : host;
}

}  // namespace

std::string Url::authority() const {
  std::string a = bracketed(host);
  if (port != (tls ? 443 : 80)) a += ':' + std::to_string(port);
  return a;
}

std::string Url::host_port() const {
  return bracketed(host) + ':' + std::to_string(port);
}

std::string Url::origin() const {
  return std::string(tls ? "https://" : "http://") + host + ':' + std::to_string(port);
}

bool parse_url(std::string_view text, Url* url, std::string* error) {
  auto fail = [&](std::string why) {
    *error = "bad URL \"" + std::string(text) + "\": " + why;
    return false;
  };
  std::string_view rest = text;
  if (rest.starts_with("https://")) {
    url->tls = true;
    rest.remove_prefix(8);
  } else if (rest.starts_with("http://")) {
    url->tls = false;
    rest.remove_prefix(7);
  } else {
    return fail("the scheme must be http:// or https://");
  }
  const size_t slash = rest.find_first_of("/?");
  std::string_view hostport = rest.substr(0, slash);
  url->path = slash == std::string_view::npos ? "/" : std::string(rest.substr(slash));
  if (url->path.front() == '?') url->path.insert(url->path.begin(), '/');
  if (hostport.find('@') != std::string_view::npos) return fail("user info is not supported");
  std::string_view port_text;
  if (hostport.starts_with('[')) {
    const size_t close = hostport.find(']');
    if (close == std::string_view::npos) return fail("unterminated [IPv6] host");
    url->host = std::string(hostport.substr(1, close - 1));
    std::string_view after = hostport.substr(close + 1);
    if (!after.empty() && after.front() != ':') return fail("junk after the [IPv6] host");
    if (!after.empty()) port_text = after.substr(1);
  } else {
    const size_t colon = hostport.rfind(':');
    url->host = std::string(hostport.substr(0, colon));
    if (colon != std::string_view::npos) port_text = hostport.substr(colon + 1);
  }
  if (url->host.empty()) return fail("no host");
  url->port = url->tls ? 443 : 80;
  if (!port_text.empty()) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), value);
    if (ec != std::errc() || end != port_text.data() + port_text.size() || value == 0 ||
        value > 65535) {
      return fail("bad port \"" + std::string(port_text) + "\"");
    }
    url->port = static_cast<uint16_t>(value);
  }
  return true;
}

namespace {

std::string openssl_error(std::string_view what) {
  const unsigned long code = ERR_get_error();
  ERR_clear_error();
  if (code == 0) return std::string(what);
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  return std::string(what) + ": " + text;
}

std::shared_ptr<asio::ssl::context> make_client_context(const ConnectOptions& o,
                                                        std::string* error) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);  // RFC 9113 §9.2
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION);
  static constexpr unsigned char kAlpn[] = {2, 'h', '2'};
  SSL_CTX_set_alpn_protos(native, kAlpn, sizeof kAlpn);
  if (o.verify_peer) {
    const int loaded = o.ca_file.empty() ? SSL_CTX_set_default_verify_paths(native)
                                         : SSL_CTX_load_verify_locations(native, o.ca_file.c_str(),
                                                                         nullptr);
    if (loaded != 1) {
      *error = openssl_error(o.ca_file.empty() ? "the system trust store"
                                               : "CA file \"" + o.ca_file + "\"");
      return nullptr;
    }
    SSL_CTX_set_verify(native, SSL_VERIFY_PEER, nullptr);
  } else {
    SSL_CTX_set_verify(native, SSL_VERIFY_NONE, nullptr);
  }
  return context;
}

// One connect attempt: the timer bounds each phase; whichever finishes first wins.
template <class Socket>
struct Attempt : std::enable_shared_from_this<Attempt<Socket>> {
  Attempt(asio::any_io_executor ex, Connected d) : timer(ex), done(std::move(d)) {}
  asio::steady_timer timer;
  Connected done;
  bool finished = false;
  bool timed_out = false;

  void arm(uint64_t ms, Socket& socket) {
    timer.expires_after(std::chrono::milliseconds(ms));
    timer.async_wait([self = this->shared_from_this(), &socket](boost::system::error_code ec) {
      if (ec || self->finished) return;
      self->timed_out = true;
      boost::system::error_code ignored;
      socket.close(ignored);  // the pending operation completes with operation_aborted
    });
  }
  void fail(const std::string& why) {
    if (finished) return;
    finished = true;
    timer.cancel();
    done(nullptr, why);
  }
  void succeed(std::shared_ptr<Session> session) {
    finished = true;
    timer.cancel();
    done(std::move(session), "");
  }
};

template <class Stream>
std::shared_ptr<Session> start_session(Stream stream, protocol::ClientHandler* handler,
                                       const SessionOptions& options) {
  auto session = std::make_shared<StreamSession<Stream>>(std::move(stream), handler, options);
  session->start();
  return session;
}

void handshake(std::shared_ptr<Attempt<tcp::socket>> attempt, tcp::socket socket,
               const Url& url, const ConnectOptions& o, protocol::ClientHandler* handler,
               const SessionOptions& so, std::string peer) {
  std::string error;
  auto context = make_client_context(o, &error);
  if (!context) return attempt->fail(error);
  auto stream = std::make_shared<TlsStream>(std::move(socket), *context);
  SSL* ssl = stream->native_handle();
  boost::system::error_code not_ip;
  (void)asio::ip::make_address(url.host, not_ip);
  const bool is_ip = !not_ip;
  if (!is_ip) SSL_set_tlsext_host_name(ssl, url.host.c_str());  // SNI (RFC 6066 §3: names only)
  if (o.verify_peer) {
    if (is_ip) {
      X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), url.host.c_str());
    } else {
      SSL_set1_host(ssl, url.host.c_str());
    }
  }
  attempt->arm(o.tls_timeout_ms, stream->next_layer());
  stream->async_handshake(
      asio::ssl::stream_base::client,
      [attempt, stream, context, handler, so, peer](boost::system::error_code ec) {
        if (attempt->finished) return;
        if (attempt->timed_out) return attempt->fail("TLS handshake timeout");
        if (ec) {
          const long verify = SSL_get_verify_result(stream->native_handle());
          if (verify != X509_V_OK) {
            return attempt->fail(std::string("certificate verify failed: ") +
                                 X509_verify_cert_error_string(verify));
          }
          return attempt->fail("TLS handshake: " + ec.message());
        }
        const unsigned char* data = nullptr;
        unsigned int size = 0;
        SSL_get0_alpn_selected(stream->native_handle(), &data, &size);
        const std::string_view alpn(reinterpret_cast<const char*>(data), size);
        if (alpn != "h2") {
          return attempt->fail("the server did not select h2 through ALPN (got " +
                               (alpn.empty() ? std::string("none") : std::string(alpn)) + ")");
        }
        auto session = start_session(std::move(*stream), handler, so);
        session->set_peer(peer);
        attempt->succeed(std::move(session));
      });
}

}  // namespace

void async_connect(asio::any_io_executor executor, const Url& url, const ConnectOptions& o,
                   protocol::ClientHandler* handler, const SessionOptions& so, Connected done) {
  if (!o.unix_socket.empty()) {
    using Local = asio::local::stream_protocol;
    auto attempt = std::make_shared<Attempt<Local::socket>>(executor, std::move(done));
    auto socket = std::make_shared<Local::socket>(executor);
    attempt->arm(o.connect_timeout_ms, *socket);
    socket->async_connect(Local::endpoint(o.unix_socket),
                          [attempt, socket, handler, so, path = o.unix_socket](auto ec) {
                            if (attempt->finished) return;
                            if (attempt->timed_out) return attempt->fail("connect timeout");
                            if (ec) return attempt->fail("connect to " + path + ": " + ec.message());
                            auto session = start_session(std::move(*socket), handler, so);
                            session->set_peer("unix:" + path);
                            attempt->succeed(std::move(session));
                          });
    return;
  }
  auto attempt = std::make_shared<Attempt<tcp::socket>>(executor, std::move(done));
  auto resolver = std::make_shared<tcp::resolver>(executor);
  auto socket = std::make_shared<tcp::socket>(executor);
  attempt->arm(o.connect_timeout_ms, *socket);
  resolver->async_resolve(
      url.host, std::to_string(url.port),
      [=, keep = resolver](boost::system::error_code ec, tcp::resolver::results_type endpoints) {
        if (attempt->finished) return;
        if (attempt->timed_out) return attempt->fail("connect timeout (resolving)");
        if (ec) return attempt->fail("resolve " + url.host + ": " + ec.message());
        asio::async_connect(*socket, endpoints, [=](boost::system::error_code ec,
                                                    const tcp::endpoint& to) {
          if (attempt->finished) return;
          if (attempt->timed_out) return attempt->fail("connect timeout");
          if (ec) return attempt->fail("connect to " + url.origin() + ": " + ec.message());
          socket->set_option(tcp::no_delay(true), ec);
          const std::string peer = address_text(to.data());
          if (!url.tls) {
            auto session = start_session(std::move(*socket), handler, so);
            session->set_peer(peer);
            return attempt->succeed(std::move(session));
          }
          handshake(attempt, std::move(*socket), url, o, handler, so, peer);
        });
      });
}

}  // namespace h2::host::client
