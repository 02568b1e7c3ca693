#include "lwip_runtime/stack.h"

#include <lwip/etharp.h>
#include <lwip/ethip6.h>
#include <lwip/init.h>
#include <lwip/ip_addr.h>
#include <lwip/netif.h>
#include <lwip/pbuf.h>
#include <lwip/timeouts.h>
#include <netif/ethernet.h>

#include <array>
#include <cstring>
#include <mutex>

namespace h2::lwip_runtime {

struct Stack::Interface {
  netif lwip{};
  TapDevice* tap = nullptr;
  uint16_t mtu = 1500;
  std::array<uint8_t, 6> mac{};
};

namespace {

constexpr size_t kMaxFrame = 1514 + 4;  // Ethernet header + 1500 (+ a VLAN tag lwIP drops)

// lwIP hands a frame to the wire. LWIP_NETIF_TX_SINGLE_PBUF makes it one buffer in practice;
// a chain is flattened all the same.
err_t link_output(netif* n, pbuf* p) {
  auto* interface = static_cast<Stack::Interface*>(n->state);
  if (p->next == nullptr) {
    interface->tap->write_frame(p->payload, p->len);
    return ERR_OK;
  }
  std::array<char, kMaxFrame> frame;
  const u16_t length = pbuf_copy_partial(p, frame.data(), static_cast<u16_t>(frame.size()), 0);
  interface->tap->write_frame(frame.data(), length);
  return ERR_OK;
}

err_t setup_interface(netif* n) {
  auto* interface = static_cast<Stack::Interface*>(n->state);
  n->name[0] = 'h';
  n->name[1] = '2';
  n->output = etharp_output;
  n->output_ip6 = ethip6_output;
  n->linkoutput = link_output;
  n->mtu = interface->mtu;
  n->hwaddr_len = ETH_HWADDR_LEN;
  std::memcpy(n->hwaddr, interface->mac.data(), ETH_HWADDR_LEN);
  n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_IGMP |
             NETIF_FLAG_MLD6;
  return ERR_OK;
}

}  // namespace

Stack::Stack(const TapConfig& config)
    : config_(config), interface_(std::make_unique<Interface>()) {}

Stack::~Stack() {
  netif_remove(&interface_->lwip);
  tap_.close();
}

std::unique_ptr<Stack> Stack::create(const TapConfig& config, std::string* error) {
  static std::once_flag initialized;
  std::call_once(initialized, [] { lwip_init(); });
  const std::string where = "tap " + config.device + ": ";
  ip4_addr_t address{}, mask{}, gateway{};
  if (ip4addr_aton(config.address.c_str(), &address) == 0) {
    *error = where + "bad IPv4 address \"" + config.address + "\"";
    return nullptr;
  }
  if (config.prefix > 32) {
    *error = where + "IPv4 prefix must be 0 to 32";
    return nullptr;
  }
  ip4_addr_set_u32(&mask, config.prefix == 0 ? 0 : lwip_htonl(~0u << (32 - config.prefix)));
  if (!config.gateway.empty() && ip4addr_aton(config.gateway.c_str(), &gateway) == 0) {
    *error = where + "bad IPv4 gateway \"" + config.gateway + "\"";
    return nullptr;
  }
  ip6_addr_t address6{};
  if (!config.address6.empty() && ip6addr_aton(config.address6.c_str(), &address6) == 0) {
    *error = where + "bad IPv6 address \"" + config.address6 + "\"";
    return nullptr;
  }
  std::unique_ptr<Stack> stack(new Stack(config));
  Interface& interface = *stack->interface_;
  interface.tap = &stack->tap_;
  interface.mtu = config.mtu;
  interface.mac = config.mac;
  if (netif_add(&interface.lwip, &address, &mask, &gateway, &interface, setup_interface,
                ethernet_input) == nullptr) {
    *error = where + "lwIP refused the interface";
    return nullptr;
  }
  netif_create_ip6_linklocal_address(&interface.lwip, 1);
  netif_ip6_addr_set_state(&interface.lwip, 0, IP6_ADDR_PREFERRED);
  if (!config.address6.empty()) {
    s8_t index = -1;
    if (netif_add_ip6_address(&interface.lwip, &address6, &index) != ERR_OK || index < 0) {
      *error = where + "lwIP refused the IPv6 address";
      return nullptr;
    }
    // Preferred at once: we own this address on our own wire (no duplicate detection wait).
    netif_ip6_addr_set_state(&interface.lwip, index, IP6_ADDR_PREFERRED);
  }
  netif_set_default(&interface.lwip);
  netif_set_up(&interface.lwip);
  netif_set_link_up(&interface.lwip);
  return stack;
}

TapDevice::OpenResult Stack::attach(std::string* error) {
  return tap_.open(config_.device, error);
}

size_t Stack::receive(size_t max_frames) {
  std::array<char, 65536> frame;  // a frame larger than the MTU (offloads are off on TAP) is cut
  size_t count = 0;
  for (; count < max_frames; ++count) {
    const size_t length = tap_.read_frame(frame.data(), frame.size());
    if (length == 0) break;
    if (length > kMaxFrame) continue;
    pbuf* p = pbuf_alloc(PBUF_RAW, static_cast<u16_t>(length), PBUF_RAM);
    if (p == nullptr) continue;  // out of memory: dropped, as a NIC would
    pbuf_take(p, frame.data(), static_cast<u16_t>(length));
    if (interface_->lwip.input(p, &interface_->lwip) != ERR_OK) pbuf_free(p);
  }
  return count;
}

void Stack::check_timeouts() {
  sys_check_timeouts();
}

uint32_t Stack::next_timeout_ms() const {
  return sys_timeouts_sleeptime();
}

std::string Stack::describe() const {
  return lwip_runtime::describe(config_);
}

}  // namespace h2::lwip_runtime
