// The one TLS server policy of every runtime: OpenSSL's SSL_CTX with TLS 1.2+, the RFC 9113 §9.2
// restrictions (TLS 1.2: ECDHE with AEAD ciphers only; no compression; no renegotiation) and the
// ALPN choice: "h2" preferred, "http/1.1" as the fallback, narrowed by the listener's
// `protocols:`. The Asio runtime wraps it in an asio::ssl::context (host/tls.cc); the runtimes
// without a TLS stream of their own stack tls/tls_connection.h on it.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "serve/first_bytes.h"

struct ssl_ctx_st;
struct ssl_st;

namespace h2::tls {

using ServerContext = std::shared_ptr<ssl_ctx_st>;  // SSL_CTX, freed with its last owner

// Loads the certificate chain and key (PEM). On failure returns nullptr and sets *error to the
// reason, naming the file: `certificate "PATH": OPENSSL REASON`, `key "PATH": ...`, `the key
// does not match the certificate`. Never throws.
ServerContext make_server_context(const std::filesystem::path& certificate,
                                  const std::filesystem::path& key, serve::Protocols protocols,
                                  std::string* error);

// The protocol ALPN chose on an established connection ("h2", "http/1.1" or "").
std::string_view alpn_selected(const ssl_st* ssl);

}  // namespace h2::tls
