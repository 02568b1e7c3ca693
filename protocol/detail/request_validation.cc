#include "protocol/detail/request_validation.h"

#include "protocol/detail/field_chars.h"

namespace h2::protocol::detail {
namespace {

bool valid_value(std::string_view v) {
  if (!value_octets_ok(v)) return false;
  if (!v.empty()) {
    auto ws = [](char c) { return c == ' ' || c == '\t'; };
    if (ws(v.front()) || ws(v.back())) return false;
  }
  return true;
}

bool parse_content_length(std::string_view v, int64_t& out) {
  if (v.empty() || v.size() > 18) return false;
  int64_t n = 0;
  for (char c : v) {
    if (c < '0' || c > '9') return false;
    n = n * 10 + (c - '0');
  }
  out = n;
  return true;
}

}  // namespace

std::string_view malformed_name(Malformed m) {
  switch (m) {
    case Malformed::kNone:
      return "none";
    case Malformed::kInvalidName:
      return "invalid field name";
    case Malformed::kInvalidValue:
      return "invalid field value";
    case Malformed::kUnknownPseudo:
      return "unknown pseudo-header";
    case Malformed::kPseudoAfterRegular:
      return "pseudo-header after regular field";
    case Malformed::kDuplicatePseudo:
      return "duplicate pseudo-header";
    case Malformed::kPseudoInTrailers:
      return "pseudo-header in trailers";
    case Malformed::kConnectionSpecific:
      return "connection-specific field";
    case Malformed::kBadTe:
      return "TE other than trailers";
    case Malformed::kMissingPseudo:
      return "missing pseudo-header";
    case Malformed::kBadConnect:
      return "malformed CONNECT";
    case Malformed::kProtocolNotAllowed:
      return ":protocol not allowed";
    case Malformed::kEmptyPath:
      return "empty :path";
    case Malformed::kBadContentLength:
      return "invalid content-length";
    case Malformed::kHostMismatch:
      return "host differs from :authority";
  }
  return "unknown";
}

void RequestFields::begin(bool trailers) {
  arena_.clear();
  entries_.clear();
  fields_.clear();
  for (bool& b : has_pseudo_) b = false;
  trailers_ = trailers;
  seen_regular_ = false;
  content_length_ = -1;
  host_entry_ = -1;
  error_ = Malformed::kNone;
}

void RequestFields::add(std::string_view name, std::string_view value) {
  if (error_ != Malformed::kNone) return;  // malformed already: nothing more to keep
  if (name.empty()) return fail(Malformed::kInvalidName);
  bool pseudo = name[0] == ':';
  if (!name_octets_ok(pseudo ? name.substr(1) : name)) return fail(Malformed::kInvalidName);
  if (pseudo && name.size() == 1) return fail(Malformed::kInvalidName);
  if (!valid_value(value)) return fail(Malformed::kInvalidValue);

  Entry entry{static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(name.size()),
              static_cast<uint32_t>(arena_.size() + name.size()),
              static_cast<uint32_t>(value.size())};
  if (pseudo) {
    if (trailers_) return fail(Malformed::kPseudoInTrailers);
    if (seen_regular_) return fail(Malformed::kPseudoAfterRegular);
    Pseudo which;
    if (name == ":method")
      which = kMethod;
    else if (name == ":scheme")
      which = kScheme;
    else if (name == ":authority")
      which = kAuthority;
    else if (name == ":path")
      which = kPath;
    else if (name == ":protocol")
      which = kProtocol;
    else
      return fail(Malformed::kUnknownPseudo);
    if (has_pseudo_[which]) return fail(Malformed::kDuplicatePseudo);
    has_pseudo_[which] = true;
    pseudo_[which] = entry;
  } else {
    seen_regular_ = true;
    switch (classify_field(name)) {
      case Special::kNone:
        break;
      case Special::kConnectionSpecific:
        return fail(Malformed::kConnectionSpecific);
      case Special::kTe:
        if (value != "trailers") return fail(Malformed::kBadTe);
        break;
      case Special::kContentLength:
        if (!trailers_) {
          int64_t n;
          if (!parse_content_length(value, n)) return fail(Malformed::kBadContentLength);
          if (content_length_ >= 0 && content_length_ != n) {
            return fail(Malformed::kBadContentLength);
          }
          content_length_ = n;
        }
        break;
      case Special::kHost:
        host_entry_ = static_cast<int>(entries_.size());
        break;
    }
    entries_.push_back(entry);
  }
  arena_.append(name);
  arena_.append(value);
}

Malformed RequestFields::finish(bool connect_protocol_enabled, RequestHead* head) {
  if (error_ == Malformed::kNone && !trailers_) {
    bool connect = has_pseudo_[kMethod] &&
                   view(pseudo_[kMethod].value_offset, pseudo_[kMethod].value_size) == "CONNECT";
    if (!has_pseudo_[kMethod]) {
      fail(Malformed::kMissingPseudo);
    } else if (has_pseudo_[kProtocol]) {
      // RFC 8441 §4: extended CONNECT carries :scheme and :path as well.
      if (!connect_protocol_enabled || !connect)
        fail(Malformed::kProtocolNotAllowed);
      else if (!has_pseudo_[kScheme] || !has_pseudo_[kPath] || !has_pseudo_[kAuthority])
        fail(Malformed::kBadConnect);
    } else if (connect) {
      // RFC 9113 §8.5
      if (!has_pseudo_[kAuthority] || has_pseudo_[kScheme] || has_pseudo_[kPath])
        fail(Malformed::kBadConnect);
    } else if (!has_pseudo_[kScheme] || !has_pseudo_[kPath]) {
      fail(Malformed::kMissingPseudo);
    } else if (pseudo_[kPath].value_size == 0) {
      fail(Malformed::kEmptyPath);
    }
    if (error_ == Malformed::kNone && host_entry_ >= 0 && has_pseudo_[kAuthority]) {
      const Entry& host = entries_[host_entry_];
      if (view(host.value_offset, host.value_size) !=
          view(pseudo_[kAuthority].value_offset, pseudo_[kAuthority].value_size)) {
        fail(Malformed::kHostMismatch);
      }
    }
  }
  if (error_ != Malformed::kNone) return error_;
  fields_.reserve(entries_.size());
  for (const Entry& e : entries_) {
    fields_.push_back(Field{view(e.name_offset, e.name_size), view(e.value_offset, e.value_size)});
  }
  if (head != nullptr && !trailers_) {
    auto pv = [&](Pseudo p) {
      return has_pseudo_[p] ? view(pseudo_[p].value_offset, pseudo_[p].value_size)
                            : std::string_view();
    };
    head->method = pv(kMethod);
    head->scheme = pv(kScheme);
    head->authority = pv(kAuthority);
    head->path = pv(kPath);
    head->protocol = pv(kProtocol);
    head->headers = fields_;
    head->content_length = content_length_;
  }
  return Malformed::kNone;
}

}  // namespace h2::protocol::detail
