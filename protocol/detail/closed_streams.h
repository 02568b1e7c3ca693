// A compact O(1) memory of recently closed streams, to judge frames that arrive after a stream
// closed (RFC 9113 §5.1 "closed"): frames after a RST_STREAM we sent are ignored, others are
// errors. Each stream id maps to one slot of a fixed ring (id modulo twice the capacity: client
// (odd) and pushed (even) ids get capacity slots each); the slot keeps the id, so an evicted stream
// is simply "closed long ago". The ring starts small and doubles (re-placing what it holds) as
// streams close, up to twice the capacity: a connection that served one request holds 128
// bytes, a busy one the whole ring.
#pragma once

#include <algorithm>
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
      : full_size_(2 * static_cast<size_t>(capacity == 0 ? 1 : capacity)) {}
  // `late_data` is how many DATA bytes the peer may still legitimately send on the stream: the
  // receive window it had left when we reset it (frames already in flight, RFC 9113 §5.1).
  void record(uint32_t id, ClosedHow how, uint32_t late_data = 0) {
    // Grows while the ring holds more than half of what it could: until then nothing recorded
    // is overwritten earlier than the full ring would have overwritten it.
    if (slots_.size() < full_size_ && ++recorded_ > slots_.size() / 2) grow();
    slots_[index(id)] = Slot{id, late_data, how};
  }
  // Spends `n` bytes of DATA received on a stream we reset. False when they exceed what the
  // peer could have had in flight: it is sending on a stream it was told is gone.
  bool spend_late_data(uint32_t id, uint32_t n) {
    if (slots_.empty()) return false;
    Slot& slot = slots_[index(id)];
    if (slot.id != id || slot.late_data < n) return false;
    slot.late_data -= n;
    return true;
  }
  ClosedHow lookup(uint32_t id) const {
    if (slots_.empty()) return ClosedHow::kUnknown;
    const Slot& slot = slots_[index(id)];
    return slot.id == id ? slot.how : ClosedHow::kUnknown;
  }

 private:
  struct Slot {
    uint32_t id = 0;
    uint32_t late_data = 0;
    ClosedHow how = ClosedHow::kUnknown;
  };
  size_t index(uint32_t id) const { return id % slots_.size(); }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::min(full_size_, std::max<size_t>(16, 2 * old.size())), Slot{});
    for (const Slot& s : old) {
      Slot& to = slots_[index(s.id)];
      if (s.id > to.id) to = s;  // a collision keeps the newer stream
    }
  }
  size_t full_size_;
  size_t recorded_ = 0;
  std::vector<Slot> slots_;
};

}  // namespace h2::protocol::detail
