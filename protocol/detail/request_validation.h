// Collects one request header block (head or trailers) as HPACK emits its fields, validating the
// rules of RFC 9113 §8.1-8.5 on the fly, and builds the RequestHead views at the end. A violation
// makes the request malformed: a stream error PROTOCOL_ERROR (§8.1.1), never a connection error.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reqd.h"

namespace h2::protocol::detail {

enum class Malformed : uint8_t {
  kNone,
  kInvalidName,         // §8.2.1: empty, uppercase, or a forbidden octet
  kInvalidValue,        // §8.2.1: NUL, CR, LF, or leading/trailing whitespace
  kUnknownPseudo,       // §8.3: undefined or response pseudo-header in a request
  kPseudoAfterRegular,  // §8.3: pseudo-headers first
  kDuplicatePseudo,     // §8.3.1: each at most once
  kPseudoInTrailers,    // §8.1: trailers carry no pseudo-headers
  kConnectionSpecific,  // §8.2.2: connection, keep-alive, proxy-connection, transfer-encoding,
                        // upgrade
  kBadTe,               // §8.2.2: TE other than "trailers"
  kMissingPseudo,       // §8.3.1: :method, :scheme, :path required (non-CONNECT)
  kBadConnect,          // §8.5: CONNECT needs :authority and no :scheme/:path
  kProtocolNotAllowed,  // RFC 8441 §4: :protocol without ENABLE_CONNECT_PROTOCOL or CONNECT
  kEmptyPath,           // §8.3.1: :path MUST NOT be empty for http/https
  kBadContentLength,    // §8.1.1: not a number, or differing values
  kHostMismatch,        // §8.3.1: Host differs from :authority
};
std::string_view malformed_name(Malformed m);

class RequestFields {
 public:
  // Starts a block; `trailers` selects the trailer rules.
  void begin(bool trailers);
  // One decoded field; records the first violation and keeps collecting.
  void add(std::string_view name, std::string_view value);
  // Heap bytes the fields keep between requests (what a pooled stream would carry).
  size_t capacity_bytes() const {
    return arena_.capacity() + entries_.capacity() * sizeof(Entry) +
           fields_.capacity() * sizeof(Field);
  }
  // Ends the block: final checks, then fills `head` (request blocks only) with views into this
  // object's storage, which is not modified again.
  Malformed finish(bool connect_protocol_enabled, RequestHead* head);
  std::span<const Field> fields() const { return fields_; }
  Malformed error() const { return error_; }

 private:
  struct Entry {
    uint32_t name_offset;
    uint32_t name_size;
    uint32_t value_offset;
    uint32_t value_size;
  };
  enum Pseudo : uint8_t { kMethod, kScheme, kAuthority, kPath, kProtocol, kPseudoCount };
  std::string_view view(uint32_t offset, uint32_t size) const {
    return std::string_view(arena_).substr(offset, size);
  }
  void fail(Malformed m) {
    if (error_ == Malformed::kNone) error_ = m;
  }

  std::string arena_;
  std::vector<Entry> entries_;
  std::vector<Field> fields_;
  Entry pseudo_[kPseudoCount] = {};
  bool has_pseudo_[kPseudoCount] = {};
  bool trailers_ = false;
  bool seen_regular_ = false;
  int64_t content_length_ = -1;
  int host_entry_ = -1;
  Malformed error_ = Malformed::kNone;
};

}  // namespace h2::protocol::detail
