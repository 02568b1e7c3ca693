// The peer's SETTINGS as one endpoint sees them (RFC 9113 §6.5.2 initial values), applied the
// same way by the server core and the client core. Values were already range-checked by the
// frame decoder; what depends on the endpoint (the HPACK encoder, the open streams' windows) is
// passed in as callbacks.
#pragma once

#include <cstdint>
#include <span>

#include "protocol/frame/frame_types.h"

namespace h2::protocol::detail {

struct PeerSettings {
  uint32_t max_frame_size = kDefaultMaxFrameSize;
  uint32_t initial_window = kDefaultInitialWindowSize;
  uint32_t max_concurrent = UINT32_MAX;  // "unlimited" until the peer says otherwise
  uint32_t max_header_list_size = UINT32_MAX;
  bool enable_push = true;
  bool enable_connect_protocol = false;  // RFC 8441 §3 (a server's setting)

  // Applies one SETTINGS frame in wire order (§6.5.3: "processed in the order they appear").
  // `on_table_size(value)` for SETTINGS_HEADER_TABLE_SIZE; `on_window_delta(delta)` for a change
  // of SETTINGS_INITIAL_WINDOW_SIZE, applied to every open stream (§6.9.2): when it returns false
  // (a window would overflow, FLOW_CONTROL_ERROR) apply() stops and returns false.
  template <typename TableSize, typename WindowDelta>
  bool apply(std::span<const Setting> settings, TableSize&& on_table_size,
             WindowDelta&& on_window_delta) {
    for (const Setting& setting : settings) {
      switch (static_cast<SettingId>(setting.id)) {
        case SettingId::kHeaderTableSize:
          on_table_size(setting.value);
          break;
        case SettingId::kEnablePush:
          enable_push = setting.value == 1;
          break;
        case SettingId::kMaxConcurrentStreams:
          max_concurrent = setting.value;
          break;
        case SettingId::kInitialWindowSize: {
          const int64_t delta = int64_t{setting.value} - int64_t{initial_window};
          initial_window = setting.value;
          if (!on_window_delta(delta)) return false;
          break;
        }
        case SettingId::kMaxFrameSize:
          max_frame_size = setting.value;
          break;
        case SettingId::kMaxHeaderListSize:
          max_header_list_size = setting.value;
          break;
        case SettingId::kEnableConnectProtocol:
          enable_connect_protocol = setting.value == 1;
          break;
        default:
          break;  // RFC 9113 §6.5.2: unknown or irrelevant settings are ignored
      }
    }
    return true;
  }
};

}  // namespace h2::protocol::detail
