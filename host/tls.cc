#include "host/tls.h"

namespace h2::host {

tls::ServerContext make_tls_context(const ListenerConfig& listener, std::string* error) {
  std::string reason;
  tls::ServerContext context = tls::make_server_context(
      listener.tls->certificate, listener.tls->key, listener.protocols, &reason);
  if (!context) {
    *error = listener.where.file + ':' + std::to_string(listener.where.line) + ':' +
             std::to_string(listener.where.column) + ": tls: " + reason;
  }
  return context;
}

}  // namespace h2::host
