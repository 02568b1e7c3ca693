// Remembers the last response head whose HPACK block consisted of indexed fields only
// (RFC 7541 §6.1). Encoding the same fields again against an unchanged dynamic table gives the
// same bytes and changes nothing, so the block is reused without running the encoder. Any other
// use of the encoder, or a peer table size change, invalidates it.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/reqd.h"

namespace h2::protocol::detail {

class HeadCache {
 public:
  // The cached block for exactly this head, or nullptr.
  const std::string* lookup(uint16_t status, std::span<const Field> headers) const {
    if (!valid_ || status != status_ || headers.size() != sizes_.size()) return nullptr;
    size_t offset = 0;
    for (size_t i = 0; i < headers.size(); ++i) {
      const Field& f = headers[i];
      const auto [name_size, value_size, sensitive] = sizes_[i];
      if (f.name.size() != name_size || f.value.size() != value_size || f.sensitive != sensitive ||
          std::string_view(storage_).substr(offset, name_size) != f.name ||
          std::string_view(storage_).substr(offset + name_size, value_size) != f.value) {
        return nullptr;
      }
      offset += name_size + value_size;
    }
    return &block_;
  }
  // Keeps `block` for this head if it is made of one-octet indexed representations only.
  void store(uint16_t status, std::span<const Field> headers, std::string_view block) {
    valid_ = false;
    for (unsigned char c : block) {
      if ((c & 0x80) == 0 || (c & 0x7f) == 0x7f) return;  // not a one-octet indexed field
    }
    status_ = status;
    storage_.clear();
    sizes_.clear();
    for (const Field& f : headers) {
      storage_.append(f.name);
      storage_.append(f.value);
      sizes_.push_back({static_cast<uint32_t>(f.name.size()), static_cast<uint32_t>(f.value.size()),
                        f.sensitive});
    }
    block_.assign(block);
    valid_ = true;
  }
  void invalidate() { valid_ = false; }

 private:
  struct Sizes {
    uint32_t name;
    uint32_t value;
    bool sensitive;
  };
  bool valid_ = false;
  uint16_t status_ = 0;
  std::string storage_;
  std::vector<Sizes> sizes_;
  std::string block_;
};

}  // namespace h2::protocol::detail
