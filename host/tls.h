// The TLS server context of a listener: the one policy of tls/server_context.h (TLS 1.2+ with
// the RFC 9113 §9.2 restrictions; ALPN prefers "h2", falls back to "http/1.1", narrowed by the
// listener's `protocols:`), with the configuration's location in its errors.
#pragma once

#include <string>

#include "host/config.h"
#include "tls/server_context.h"

namespace h2::host {

// Loads the certificate chain and key. On failure returns nullptr and sets *error to
// "FILE:LINE:COL: tls: REASON" (the listener's location) - never throws.
tls::ServerContext make_tls_context(const ListenerConfig& listener, std::string* error);

}  // namespace h2::host
