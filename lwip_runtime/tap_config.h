// What one lwIP listener is given: the TAP device that is its wire, the stack's own addresses,
// and the TCP port it serves. Plain values (parsed from config.yaml by host/config.cc).
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace h2::lwip_runtime {

struct TapConfig {
  std::string device;                                  // TAP interface name ("h2tap0")
  std::array<uint8_t, 6> mac{0x02, 0, 0, 0, 0, 0x02};  // locally administered by default
  std::string address;                                 // IPv4 of the stack ("10.77.0.2")
  unsigned prefix = 24;                                // IPv4 prefix length
  std::string gateway;   // IPv4 next hop for other networks; "" = none
  std::string address6;  // IPv6 of the stack ("fd77::2"); "" = link-local only
  unsigned prefix6 = 64;
  uint16_t port = 80;
  uint16_t mtu = 1500;
  // Memory bound: connections beyond it are refused (RST) at accept. lwIP's own pools are
  // unbounded in Debian's build (MEMP_MEM_MALLOC), so this and the HTTP/2 limits are the bound.
  unsigned max_connections = 1024;
};

// "10.77.0.2/24 [fd77::2]/64 on tap h2tap0", for logs.
inline std::string describe(const TapConfig& c) {
  std::string text = c.address + "/" + std::to_string(c.prefix);
  if (!c.address6.empty()) text += " [" + c.address6 + "]/" + std::to_string(c.prefix6);
  return text + " on tap " + c.device;
}

}  // namespace h2::lwip_runtime
