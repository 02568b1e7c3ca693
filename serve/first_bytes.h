// What the first bytes of a cleartext connection are, for a listener serving HTTP/2 with prior
// knowledge (RFC 9113 §3.3), HTTP/1.1, or both. Sans-I/O: both runtimes call it on what they have
// read so far and read more while it says kNeedMore.
//
// With both protocols, bytes that can start neither the client preface nor an HTTP/1.1 request
// line (RFC 9112 §3: method SP request-target SP HTTP/1.x CRLF) are a broken HTTP/2 client:
// kHttp2, so the HTTP/2 core rejects them with GOAWAY(PROTOCOL_ERROR) (RFC 9113 §3.4) instead
// of an HTTP/1.1 400 that an HTTP/2 client would read as a garbage frame header.
#pragma once

#include <cstddef>
#include <string_view>

namespace h2::serve {

// The protocols a listener offers.
struct Protocols {
  bool http2 = true;
  bool http1 = true;
};

enum class FirstBytes {
  kNeedMore,  // still possibly either: read more (bounded by kMaxSniffedBytes)
  kHttp2,     // the client preface, or bytes only the HTTP/2 core should answer
  kHttp1,     // an HTTP/1.1 request line (or, past kMaxSniffedBytes, one Beast will refuse)
};

// A request line longer than this is handed to HTTP/1.1, which answers it (414/431/400).
inline constexpr size_t kMaxSniffedBytes = 8192;

// Classifies `seen`, the bytes received so far (never empty once a read completed).
FirstBytes classify_first_bytes(std::string_view seen, Protocols offered);

}  // namespace h2::serve
