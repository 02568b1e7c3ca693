#include "host/tls.h"

#include <openssl/ssl.h>

#include "tls/server_context.h"

namespace h2::host {

// The policy (versions, ciphers, ALPN) is tls/server_context.cc's, shared with the runtimes that
// stack tls/tls_connection.h; Asio's ssl::context wraps the same SSL_CTX.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ListenerConfig& listener,
                                                            std::string* error) {
  const std::string where = listener.where.file + ':' + std::to_string(listener.where.line) + ':' +
                            std::to_string(listener.where.column) + ": tls: ";
  std::string reason;
  tls::ServerContext native = tls::make_server_context(
      listener.tls->certificate, listener.tls->key, listener.protocols, &reason);
  if (!native) {
    *error = where + reason;
    return nullptr;
  }
  SSL_CTX_up_ref(native.get());  // the asio context takes its own reference
  return std::make_shared<boost::asio::ssl::context>(native.get());
}

std::string_view alpn_selected(const void* ssl_native_handle) {
  return tls::alpn_selected(static_cast<const SSL*>(ssl_native_handle));
}

}  // namespace h2::host
