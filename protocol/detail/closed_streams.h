// A compact O(1) memory of recently closed streams, to judge frames that arrive after a stream
// closed (RFC 9113 §5.1 "closed"): frames after a RST_STREAM we sent are ignored, others are
// errors. Each stream id maps to one slot of a fixed ring (id modulo twice the capacity: client
// (odd) and pushed (even) ids get capacity slots each); the slot keeps the id, so an evicted stream
// is simply "closed long ago".
#pragma once

#include <cstdint>
#include <vector>

namespace h2::protocol::detail {

enum class ClosedHow : uint8_t {
  kUnknown,     // not remembered (evicted or never opened)
  kNormally,    // END_STREAM both ways
  kResetByUs,   // we sent RST_STREAM: late frames are ignored (RFC 9113 §5.1)
  kResetByPeer  // the peer sent RST_STREAM: late frames are STREAM_CLOSED errors
};

class ClosedStreams {
 public:
  explicit ClosedStreams(uint32_t capacity)
      : slots_(2 * static_cast<size_t>(capacity == 0 ? 1 : capacity)) {}
  void record(uint32_t id, ClosedHow how) { slots_[index(id)] = Slot{id, how}; }
  ClosedHow lookup(uint32_t id) const {
    const Slot& slot = slots_[index(id)];
    return slot.id == id ? slot.how : ClosedHow::kUnknown;
  }

 private:
  struct Slot {
    uint32_t id = 0;
    ClosedHow how = ClosedHow::kUnknown;
  };
  size_t index(uint32_t id) const { return id % slots_.size(); }
  std::vector<Slot> slots_;
};

}  // namespace h2::protocol::detail
