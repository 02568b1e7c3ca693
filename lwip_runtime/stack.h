// The user-space TCP/IP stack: Debian's lwIP 2.1.3 (raw API, NO_SYS-style: only lwip_init(),
// never tcpip_init() or the socket/netconn APIs), one network interface whose wire is a TAP
// device. Single-threaded: every call on the runtime's thread.
//
// Received frames are copied into PBUF_RAM buffers sized to the frame: Debian's PBUF_POOL
// buffers are sized for a TCP_MSS of 512 (glibc's <netinet/tcp.h> leaks into its memp.c) and the
// packaged tapif driver overflows them with full 1,514-byte frames (README.md). lwIP's TCP, IP
// and Ethernet code never allocates from PBUF_POOL itself, so nothing here does.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "lwip_runtime/tap_config.h"
#include "lwip_runtime/tap_device.h"

namespace h2::lwip_runtime {

class Stack {
 public:
  // Initializes lwIP (once per process: it keeps global state, so one Stack per process) and
  // its interface from `config`. nullptr and *error ("tap NAME: bad address ...") on failure.
  static std::unique_ptr<Stack> create(const TapConfig& config, std::string* error);
  ~Stack();

  // Attaches the wire (TapDevice::open's results). The interface is up from create(); frames
  // it sends before this are dropped, as on an unplugged cable.
  TapDevice::OpenResult attach(std::string* error);
  void detach() { tap_.close(); }
  int fd() const { return tap_.fd(); }
  // The device was deleted under us (reads fail): detach, and attach again when it is back.
  bool device_gone() const { return tap_.gone(); }

  // Feeds up to `max_frames` waiting frames to lwIP. Returns the number read (0: none waiting).
  size_t receive(size_t max_frames);
  // lwIP's own timers (TCP retransmission, ARP, ND, ...).
  void check_timeouts();
  // Milliseconds until lwIP's next timer (UINT32_MAX: none).
  uint32_t next_timeout_ms() const;

  const TapConfig& config() const { return config_; }
  // "10.77.0.2" (and " [fd77::2]") for logs.
  std::string describe() const;

  struct Interface;  // the lwIP netif (stack.cc): lwIP's headers stay out of this one

 private:
  explicit Stack(const TapConfig& config);
  TapConfig config_;
  TapDevice tap_;
  std::unique_ptr<Interface> interface_;
};

}  // namespace h2::lwip_runtime
