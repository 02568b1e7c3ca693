#include "serve/http1_engine.h"

namespace h2::serve {

protocol::UpgradeRequest to_upgrade_request(Http1Request& request,
                                            std::vector<protocol::Field>& fields) {
  fields.clear();
  for (const auto& [name, value] : request.fields) {
    if (name == "connection" || name == "upgrade" || name == "http2-settings" ||
        name == "keep-alive" || name == "transfer-encoding" || name == "host" ||
        name == "proxy-connection" || name == "te") {
      continue;
    }
    fields.push_back(protocol::Field{name, value, false});
  }
  protocol::UpgradeRequest out;
  out.method = request.method;
  out.scheme = "http";
  out.authority = request.host;
  out.path = request.target;
  out.headers = fields;
  out.body = std::move(request.body);
  return out;
}

}  // namespace h2::serve
