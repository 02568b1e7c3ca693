// Flow-control windows of RFC 9113 §5.2 and §6.9, for one stream or the connection.
#pragma once

#include <cstdint>

#include "protocol/frame/frame_types.h"

namespace h2::protocol::detail {

// What the peer lets us send. Signed: a SETTINGS_INITIAL_WINDOW_SIZE decrease can make it
// negative (RFC 9113 §6.9.2).
class SendWindow {
 public:
  explicit SendWindow(int64_t initial = kDefaultInitialWindowSize) : window_(initial) {}
  int64_t available() const { return window_; }
  void consume(uint32_t n) { window_ -= n; }
  // WINDOW_UPDATE increment or SETTINGS delta. False when the result exceeds 2^31-1
  // (FLOW_CONTROL_ERROR, RFC 9113 §6.9.1); the window is then unchanged.
  bool adjust(int64_t delta) {
    if (window_ + delta > static_cast<int64_t>(kMaxWindowSize)) return false;
    window_ += delta;
    return true;
  }

 private:
  int64_t window_;
};

// What we let the peer send, with WINDOW_UPDATEs batched: credit is returned only for bytes the
// handler consumed, and only once half of the advertised window was consumed.
class RecvWindow {
 public:
  explicit RecvWindow(uint32_t advertised = kDefaultInitialWindowSize)
      : window_(advertised), advertised_(advertised) {}
  // A DATA frame of `n` flow-controlled bytes arrived. False: the peer overran the window.
  bool on_received(uint32_t n) {
    if (n > window_) return false;
    window_ -= n;
    return true;
  }
  void on_consumed(uint32_t n) { unacked_ += n; }
  // The increment to send now (0 if below the batching threshold); the window grows by it.
  uint32_t take_update() {
    if (unacked_ == 0 || unacked_ < advertised_ / 2) return 0;
    uint32_t increment = unacked_;
    unacked_ = 0;
    window_ += increment;
    return increment;
  }
  // Raises the advertised size (our SETTINGS or the connection bump); returns the increment.
  uint32_t grow_to(uint32_t advertised) {
    if (advertised <= advertised_) return 0;
    uint32_t increment = advertised - advertised_;
    advertised_ = advertised;
    window_ += increment;
    return increment;
  }
  // Lowers the advertised size once the peer acknowledged our smaller SETTINGS_INITIAL_WINDOW_SIZE
  // (RFC 9113 §6.9.2): the window may go negative, and no increment is owed for it.
  void shrink_to(uint32_t advertised) {
    if (advertised >= advertised_) return;
    window_ -= advertised_ - advertised;
    advertised_ = advertised;
  }
  int64_t available() const { return window_; }
  uint32_t advertised() const { return advertised_; }

 private:
  int64_t window_;
  uint32_t advertised_;
  uint32_t unacked_ = 0;
};

}  // namespace h2::protocol::detail
