// HTTP/1.1 request path fuzz target: the bytes a cleartext listener receives, through the same
// steps as the host: serve::classify_first_bytes (preface or request line), Beast's request
// parser with the host's limits (pipelined requests on one connection), http1::read_request_head
// (fields, 431, the h2c upgrade decision) and, for a valid "Upgrade: h2c", the HTTP/2 connection
// it continues as (ServerConnection started from the upgrade, fed the remaining bytes).
// Checks: the first-bytes decision never changes once made (any longer prefix decides the
// same); a kServe/kUpgrade head has lowercase field names and every field line; an upgrade's
// settings payload is whole 6-byte settings; the upgraded connection answers with well-formed
// output and ends stream 1 with one on_stream_closed; no crash or sanitizer report.
// Input: [knobs] then the connection's bytes, delivered in pieces of 1 + (knobs >> 4) * 37 bytes.
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "http1/request_head.h"
#include "serve/http1_engine.h"
#include "protocol/server_connection.h"
#include "serve/first_bytes.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

namespace http = boost::beast::http;
using h2::http1::RequestHead;

void check(bool ok, const char* what) {
  if (!ok) h2::fuzz::fail("http1", what);
}

struct UpgradedHandler final : h2::protocol::RequestHandler {
  int stream1_closes = 0;
  bool saw_stream1 = false;
  void on_request(h2::protocol::Reqd& reqd) override {
    if (reqd.stream_id() == 1) saw_stream1 = true;
    reqd.respond_with_string({200, {}}, "upgraded");
  }
  void on_stream_closed(h2::protocol::Reqd& reqd, h2::protocol::StreamEnd,
                        h2::protocol::ErrorCode) override {
    if (reqd.stream_id() == 1) ++stream1_closes;
  }
};

void run_upgraded(const std::string& payload, h2::http1::RequestHead& head,
                  std::string_view rest) {
  std::vector<h2::protocol::Field> fields;
  UpgradedHandler handler;
  {
    h2::protocol::ServerConnection conn(&handler, {}, 0, payload,
                                        h2::serve::to_upgrade_request(head.request, fields));
    conn.process_bytes(rest, 1);
    for (int i = 0; i < 64 && conn.wants_write(); ++i) {
      std::vector<std::string_view> views;
      const size_t n = conn.pending_output(views, SIZE_MAX);
      if (n == 0) break;
      conn.consume_output(n);
    }
  }
  if (handler.saw_stream1) check(handler.stream1_closes == 1, "stream 1 did not end once");
}

}  // namespace

H2_FUZZ_TARGET(http1) {
  if (size < 1) return;
  const uint8_t knobs = data[0];
  const std::string_view input(reinterpret_cast<const char*>(data + 1), size - 1);
  const size_t piece = 1 + (knobs >> 4) * 37;

  // 1. The first bytes, as a socket delivers them.
  h2::serve::FirstBytes decided = h2::serve::FirstBytes::kNeedMore;
  size_t decided_at = 0;
  for (size_t n = std::min(piece, input.size()); n <= input.size() && n > 0;
       n = n == input.size() ? n + 1 : std::min(n + piece, input.size())) {
    const auto kind = h2::serve::classify_first_bytes(input.substr(0, n), {true, true});
    if (decided == h2::serve::FirstBytes::kNeedMore) {
      decided = kind;
      decided_at = n;
    } else {
      check(kind == decided, "the first-bytes decision changed with more bytes");
    }
    if (n >= decided_at + 4 * piece && decided != h2::serve::FirstBytes::kNeedMore) break;
  }
  if (decided == h2::serve::FirstBytes::kHttp2) return;  // the HTTP/2 core's job (connection)

  // 2. Requests, pipelined, as http1::Http1Connection parses them.
  const uint64_t max_fields = (knobs & 1) ? 4 : 128;
  boost::beast::flat_buffer buffer;
  size_t fed = 0;
  for (int requests = 0; requests < 8; ++requests) {
    http::request_parser<http::string_body> parser;
    parser.header_limit((knobs & 2) ? 256 : 64 * 1024);
    parser.body_limit((knobs & 4) ? 16 : 64 * 1024);
    parser.eager(true);
    boost::system::error_code ec;
    while (!parser.is_done()) {
      if (buffer.size() == 0 || ec == http::error::need_more) {
        if (fed == input.size()) return;  // the peer sent no more
        const size_t n = std::min(piece, input.size() - fed);
        auto space = buffer.prepare(n);
        std::memcpy(space.data(), input.data() + fed, n);
        buffer.commit(n);
        fed += n;
      }
      ec = {};
      const size_t used = parser.put(buffer.data(), ec);
      buffer.consume(used);
      if (ec && ec != http::error::need_more) return;  // Beast refuses: 400/413/431, close
      if (parser.is_header_done() && !parser.is_done() && ec == http::error::need_more &&
          fed == input.size()) {
        break;  // head complete, body unfinished: the head is still served
      }
    }
    if (!parser.is_header_done()) return;
    RequestHead head = h2::http1::read_request_head(parser.get().base(), parser.get().keep_alive(),
                                                   (knobs & 8) == 0, max_fields);
    if (head.verdict == RequestHead::Verdict::kTooManyFields) {
      check(head.field_count > max_fields, "431 without too many fields");
      return;
    }
    check(head.request.fields.size() == head.field_count, "a field line was lost");
    for (const auto& [name, value] : head.request.fields) {
      for (char c : name) check(!(c >= 'A' && c <= 'Z'), "a field name is not lowercase");
    }
    if (head.verdict == RequestHead::Verdict::kBadUpgrade) {
      check(!head.request.keep_alive, "a bad upgrade keeps the connection");
      return;
    }
    if (head.verdict == RequestHead::Verdict::kUpgrade) {
      check(head.settings_payload.size() % 6 == 0, "HTTP2-Settings payload is not whole settings");
      head.request.body = parser.get().body();
      std::string rest(static_cast<const char*>(buffer.data().data()), buffer.size());
      rest.append(input.substr(fed));
      return run_upgraded(head.settings_payload, head, rest);
    }
    if (!parser.is_done() || !head.request.keep_alive) return;
  }
}
