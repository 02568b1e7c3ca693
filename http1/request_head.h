// The sans-I/O part of an HTTP/1.1 request's arrival, shared by Http1Connection and the HTTP/1.1
// fuzz target: Beast's parsed head turned into the
// serve::Http1Request a module sees and the "Upgrade: h2c" decision (RFC 7540 §3.2, kept by
// RFC 9113 §3.1). serve::to_upgrade_request makes the HTTP/2 request an upgrade continues as.
#pragma once

#include <boost/beast/http/message.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "http1/h2c_upgrade.h"
#include "serve/http1_exchange.h"

namespace h2::http1 {

struct RequestHead {
  enum class Verdict {
    kServe,          // an ordinary request: `request` goes to its route
    kUpgrade,        // a valid h2c upgrade: 101, then HTTP/2 with `request` as stream 1
    kBadUpgrade,     // h2c asked for with a missing or malformed HTTP2-Settings: 400, close
    kTooManyFields,  // more field lines than http1.max_header_fields: 431
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

}  // namespace h2::http1
