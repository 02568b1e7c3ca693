#include "tls/server_context.h"

#include <openssl/err.h>
#include <openssl/ssl.h>

namespace h2::tls {
namespace {

// RFC 9113 §9.2.2: TLS 1.2 cipher suites must be ephemeral key exchange with AEAD.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";

// Wire-format ALPN lists in our order of preference, one per `protocols:` choice.
struct AlpnList {
  const unsigned char* wire;
  unsigned int size;
  bool http1;  // without a common protocol, carry on in HTTP/1.1
};
constexpr unsigned char kBoth[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
constexpr AlpnList kAlpnBoth{kBoth, sizeof kBoth, true};
constexpr AlpnList kAlpnH2{kBoth, 3, false};
constexpr AlpnList kAlpnHttp1{kBoth + 3, sizeof kBoth - 3, true};

int select_alpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
                unsigned int in_len, void* arg) {
  const auto* list = static_cast<const AlpnList*>(arg);
  unsigned char* selected = nullptr;
  // Server preference: our list is the first argument.
  if (SSL_select_next_proto(&selected, out_len, list->wire, list->size, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    // RFC 7301 §3.2: no protocol in common is the no_application_protocol alert, unless
    // HTTP/1.1 (which predates ALPN) is offered: then carry on without ALPN.
    return list->http1 ? SSL_TLSEXT_ERR_NOACK : SSL_TLSEXT_ERR_ALERT_FATAL;
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

ServerContext make_server_context(const std::filesystem::path& certificate,
                                  const std::filesystem::path& key, serve::Protocols protocols,
                                  std::string* error) {
  ServerContext context(SSL_CTX_new(TLS_server_method()), SSL_CTX_free);
  if (!context) {
    *error = "SSL_CTX_new: " + openssl_error();
    return nullptr;
  }
  SSL_CTX* native = context.get();
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  SSL_CTX_set_options(native, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                                  SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_SINGLE_ECDH_USE);
  if (SSL_CTX_set_cipher_list(native, kTls12Ciphers) != 1) {
    *error = "cipher list: " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_certificate_chain_file(native, certificate.c_str()) != 1) {
    *error = "certificate \"" + certificate.string() + "\": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_use_PrivateKey_file(native, key.c_str(), SSL_FILETYPE_PEM) != 1) {
    *error = "key \"" + key.string() + "\": " + openssl_error();
    return nullptr;
  }
  if (SSL_CTX_check_private_key(native) != 1) {
    *error = "the key does not match the certificate";
    return nullptr;
  }
  const AlpnList* alpn = !protocols.http1 ? &kAlpnH2 : !protocols.http2 ? &kAlpnHttp1 : &kAlpnBoth;
  SSL_CTX_set_alpn_select_cb(native, select_alpn, const_cast<AlpnList*>(alpn));
  return context;
}

std::string_view alpn_selected(const ssl_st* ssl) {
  const unsigned char* data = nullptr;
  unsigned int size = 0;
  SSL_get0_alpn_selected(ssl, &data, &size);
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

}  // namespace h2::tls
