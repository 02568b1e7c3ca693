#include "host/tls.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace h2::host {
namespace {

// RFC 9113 §9.2.2: TLS 1.2 cipher suites must be ephemeral key exchange with AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Wire-format ALPN list in our order of preference.
constexpr unsigned char kAlpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void*) {
  unsigned char* selected = nullptr;
  // Server preference: kAlpn is the first argument.
  if (SSL_select_next_proto(&selected, out_len, kAlpn, sizeof kAlpn, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;  // no common protocol: carry on without ALPN (HTTP/1.1)
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

std::string openssl_error() {
  const unsigned long code = ERR_get_error();
  char text[256];
  ERR_error_string_n(code, text, sizeof text);
  ERR_clear_error();
  return text;
}

}  // namespace

std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ListenerConfig& listener,
                                                            std::string* error) {
  namespace ssl = boost::asio::ssl;
  const std::string where = listener.where.file + ':' + std::to_string(listener.where.line) + ':' +
                            std::to_string(listener.where.column) + ": tls: ";
  auto context = std::make_shared<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = context->native_handle();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    *error = where + "cipher list: " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_certificate_chain_file(native, listener.tls->certificate.c_str()) != 1) {
    *error =
        where + "certificate \"" + listener.tls->certificate.string() + "\": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(native, listener.tls->key.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = where + "key \"" + listener.tls->key.string() + "\": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    *error = where + "the key does not match the certificate";
    return nullptr;
  }
  SSL_CTX_set_alpn_select_cb(native, select_alpn, nullptr);
  return context;
}

std::string_view alpn_selected(const void* ssl_native_handle) {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(static_cast<const SSL*>(ssl_native_handle), &data, &size);
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace h2::host
