// The sans-I/O part of an HTTP/1.1 request's arrival, shared by Http1Session and the HTTP/1.1
// fuzz target: Beast's parsed head turned into the serve::Http1Request a module sees, the
// "Upgrade: h2c" decision (RFC 7540 §3.2, kept by RFC 9113 §3.1) and the HTTP/2 request an
// upgrade continues as.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "host/h2c_upgrade.h"
#include "protocol/server_connection.h"
#include "serve/http1_exchange.h"

namespace h2::host {

struct RequestHead {
  enum class Verdict {
    kServe,    // an ordinary request: `request` goes to its route
    kUpgrade,  // a valid h2c upgrade: 101, then HTTP/2 with `request` as stream 1
    kBadUpgrade,      // h2c asked for with a missing or malformed HTTP2-Settings: 400, close
    kTooManyFields,   // more field lines than http1.max_header_fields: 431
  };
  Verdict verdict = Verdict::kServe;
  serve::Http1Request request;
  std::string settings_payload;  // kUpgrade: the decoded HTTP2-Settings (a SETTINGS payload)
  size_t field_count = 0;        // field lines of the head (trailers come after them)
};

// `head`: what Beast parsed (field names as sent); `keep_alive`: the message's keep_alive()
// (it needs the version and the Connection field together, which only the message has).
// `upgrade_allowed`: a cleartext listener that offers h2. The body is not touched (the caller
// reads it, whole for an upgrade).
RequestHead read_request_head(const boost::beast::http::request_header<>& head, bool keep_alive,
                              bool upgrade_allowed, uint64_t max_header_fields);

// The HTTP/2 request an upgrade continues as: hop-by-hop fields dropped (RFC 9113 §8.2.2),
// Host as :authority. Views point into `request` and `fields` (both must outlive its use);
// `request.body` is moved into the result.
protocol::UpgradeRequest upgrade_request(serve::Http1Request& request,
                                         std::vector<protocol::Field>& fields);

}  // namespace h2::host
