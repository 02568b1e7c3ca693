// A Linux TAP device as a frame pipe (IFF_TAP | IFF_NO_PI): whole Ethernet frames in, whole
// frames out, non-blocking. Deliberately free of lwIP headers: <linux/if_tun.h> pulls in the
// kernel's networking headers, and Debian's lwIP must never share a translation unit with
// <netinet/tcp.h> (its TCP_MSS leaks into lwIP's pool sizes; see README.md).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace h2::lwip_runtime {

class TapDevice {
 public:
  enum class OpenResult { kOpen, kBusy, kFailed };

  TapDevice() = default;
  ~TapDevice();
  TapDevice(const TapDevice&) = delete;
  TapDevice& operator=(const TapDevice&) = delete;

  // Attaches to the TAP device `name`, which must exist (`ip tuntap add NAME mode tap`). kBusy:
  // another process holds it (a previous generation that has not let go yet: try again later).
  // kFailed: *error says why, in one line naming the device
  // ("no such device", "permission denied: needs CAP_NET_ADMIN").
  OpenResult open(const std::string& name, std::string* error);
  void close();
  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  // One frame into `buffer`; returns its length, 0 when none is waiting or the device is gone
  // (then gone() says so: it was deleted under us).
  size_t read_frame(char* buffer, size_t capacity);
  bool gone() const { return gone_; }
  // One frame out. A full queue drops it, as a wire would (TCP retransmits).
  void write_frame(const void* frame, size_t length);


 private:
  int fd_ = -1;
  bool gone_ = false;
};

}  // namespace h2::lwip_runtime
