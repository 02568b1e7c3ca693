// The access log's record of an upstream request (serve/exchange.h AccessNotes, serve/log.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace h2::serve {

// One upstream request a module made for an exchange (serve/upstream.h), for the access log's
// $upstream_addr, $upstream_status and $upstream_response_time (nginx's variables; several
// requests are listed in order, comma-separated). Noted by the SDK bridge at the head.
struct UpstreamNote {
  std::string address;       // UpstreamCall::peer()
  int status = 0;            // the final status; 502 (504 on a timeout) when it failed first
  int64_t response_ms = -1;  // request sent -> response ended or failed; -1: not ended yet
};

// At most this many upstream requests are noted per exchange: a module making thousands for one
// long-lived exchange must not grow its memory and its log line without bound (nginx lists the
// tries of one request, bounded by its retries). Later ones are not noted.
inline constexpr size_t kMaxUpstreamNotes = 32;

}  // namespace h2::serve
