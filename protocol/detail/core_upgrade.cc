// h2c upgrade (RFC 7540 §3.2, kept by RFC 9113 §3.1): the HTTP2-Settings payload and the
// upgrading request as stream 1, half-closed (remote).
#include <vector>

#include "protocol/detail/core.h"

namespace h2::protocol::detail {

bool Core::start_upgrade(std::string_view payload, UpgradeRequest request) {
  if (payload.size() % 6 != 0) {
    connection_error(ErrorCode::kFrameSizeError, "malformed HTTP2-Settings");
    return false;
  }
  std::vector<Setting> settings;
  for (size_t i = 0; i < payload.size(); i += 6) {
    auto b = [&](size_t k) { return static_cast<uint32_t>(static_cast<uint8_t>(payload[i + k])); };
    Setting s{static_cast<uint16_t>(b(0) << 8 | b(1)), b(2) << 24 | b(3) << 16 | b(4) << 8 | b(5)};
    // RFC 9113 §6.5.2 value rules, as for a SETTINGS frame.
    switch (static_cast<SettingId>(s.id)) {
      case SettingId::kEnablePush:
      case SettingId::kEnableConnectProtocol:
      case SettingId::kNoRfc7540Priorities:
        if (s.value > 1) {
          connection_error(ErrorCode::kProtocolError, "invalid HTTP2-Settings value");
          return false;
        }
        break;
      case SettingId::kInitialWindowSize:
        if (s.value > kMaxWindowSize) {
          connection_error(ErrorCode::kFlowControlError, "invalid HTTP2-Settings window");
          return false;
        }
        break;
      case SettingId::kMaxFrameSize:
        if (s.value < kDefaultMaxFrameSize || s.value > kMaxAllowedFrameSize) {
          connection_error(ErrorCode::kProtocolError, "invalid HTTP2-Settings frame size");
          return false;
        }
        break;
      default:
        break;
    }
    settings.push_back(s);
  }
  apply_peer_settings(settings);
  if (failed_) return false;

  Stream* s = create_stream(1);
  highest_client_id_ = 1;
  s->counted = true;
  ++open_client_streams_;
  s->request_fields.begin(false);
  s->request_fields.add(":method", request.method);
  s->request_fields.add(":scheme", request.scheme);
  if (!request.authority.empty()) s->request_fields.add(":authority", request.authority);
  s->request_fields.add(":path", request.path);
  for (const Field& f : request.headers) s->request_fields.add(f.name, f.value);
  s->remote_ended = true;
  s->state = StreamState::kHalfClosedRemote;
  if (s->request_fields.finish(options_.enable_connect_protocol, &s->head) != Malformed::kNone) {
    stream_error(1, ErrorCode::kProtocolError);
    return true;
  }
  s->head.stream_id = 1;
  s->head_only = s->head.method == "HEAD";
  s->body_received = request.body.size();
  s->body_buffer = std::move(request.body);
  pending_dispatch_id_ = 1;
  upgraded_ = true;
  return true;
}

}  // namespace h2::protocol::detail
