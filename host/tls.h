// The TLS server context of an Asio listener: the one policy of tls/server_context.h (TLS 1.2+
// with the RFC 9113 §9.2 restrictions; ALPN prefers "h2", falls back to "http/1.1", narrowed by
// the listener's `protocols:`) wrapped in an asio::ssl::context.
#pragma once

#include <boost/asio/ssl/context.hpp>
#include <memory>
#include <string>
#include <string_view>

#include "host/config.h"

namespace h2::host {

// Loads the certificate chain and key. On failure returns nullptr and sets *error to
// "FILE:LINE:COL: tls: REASON" (the listener's location) - never throws.
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const ListenerConfig& listener,
                                                            std::string* error);

// The protocol ALPN chose on an established connection ("h2", "http/1.1" or "").
std::string_view alpn_selected(const void* ssl_native_handle);

}  // namespace h2::host
