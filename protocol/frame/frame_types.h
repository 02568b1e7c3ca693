// Wire-level vocabulary of RFC 9113 §4 and §6 (plus PRIORITY_UPDATE of RFC 9218 §7.1): frame
// types, flags, error codes, setting identifiers and the fixed-layout pieces every frame shares.
// Header-only, no allocation; shared by the decoder, the writer and the connection.
#pragma once

#include <cstdint>
#include <string_view>

namespace h2::protocol {

// RFC 9113 §6 and RFC 9218 §7.1. The underlying type is fixed, so any octet value (including
// unknown types, which RFC 9113 §5.5 says to ignore) can be stored and compared.
enum class FrameType : uint8_t {
  kData = 0,
  kHeaders = 1,
  kPriority = 2,
  kRstStream = 3,
  kSettings = 4,
  kPushPromise = 5,
  kPing = 6,
  kGoaway = 7,
  kWindowUpdate = 8,
  kContinuation = 9,
  kPriorityUpdate = 0x10,
};

// Printable name ("DATA", "PRIORITY_UPDATE"); "UNKNOWN" for any other value.
std::string_view frame_type_name(FrameType type);

// RFC 9113 §6: flag bits. Several share a value; their meaning depends on the frame type.
namespace flags {
constexpr uint8_t kEndStream = 0x1;   // DATA, HEADERS
constexpr uint8_t kAck = 0x1;         // SETTINGS, PING
constexpr uint8_t kEndHeaders = 0x4;  // HEADERS, PUSH_PROMISE, CONTINUATION
constexpr uint8_t kPadded = 0x8;      // DATA, HEADERS, PUSH_PROMISE
constexpr uint8_t kPriority = 0x20;   // HEADERS
}  // namespace flags

// RFC 9113 §7. Values outside the list arrive via static_cast and must be tolerated (§7: "Unknown
// or unsupported error codes MUST NOT trigger any special behavior").
enum class ErrorCode : uint32_t {
  kNoError = 0,
  kProtocolError,
  kInternalError,
  kFlowControlError,
  kSettingsTimeout,
  kStreamClosed,
  kFrameSizeError,
  kRefusedStream,
  kCancel,
  kCompressionError,
  kConnectError,
  kEnhanceYourCalm,
  kInadequateSecurity,
  kHttp11Required,
};

// "NO_ERROR", "PROTOCOL_ERROR", ... as spelled in RFC 9113 §7; "UNKNOWN" for other values.
std::string_view error_code_name(ErrorCode code);

// RFC 9113 §6.5.2, RFC 8441 §3 (ENABLE_CONNECT_PROTOCOL), RFC 9218 §2.1 (NO_RFC7540_PRIORITIES).
enum class SettingId : uint16_t {
  kHeaderTableSize = 1,
  kEnablePush,
  kMaxConcurrentStreams,
  kInitialWindowSize,
  kMaxFrameSize,
  kMaxHeaderListSize,
  kEnableConnectProtocol = 8,
  kNoRfc7540Priorities = 9,
};

// One SETTINGS entry as on the wire. `id` stays raw: unknown identifiers must be ignored by the
// receiver (RFC 9113 §6.5.2), not rejected.
struct Setting {
  uint16_t id;
  uint32_t value;
  friend bool operator==(const Setting&, const Setting&) = default;
};

// RFC 9113 §4.1. `stream_id` has the reserved bit already masked off.
struct FrameHeader {
  uint32_t length;
  FrameType type;
  uint8_t flags;
  uint32_t stream_id;

  constexpr bool has(uint8_t flag) const { return (flags & flag) != 0; }
  friend bool operator==(const FrameHeader&, const FrameHeader&) = default;
};

constexpr size_t kFrameHeaderSize = 9;
constexpr uint32_t kDefaultMaxFrameSize = 16384;     // RFC 9113 §6.5.2 initial value, also minimum
constexpr uint32_t kMaxAllowedFrameSize = 16777215;  // 2^24-1, RFC 9113 §6.5.2
constexpr uint32_t kDefaultInitialWindowSize = 65535;
constexpr uint32_t kMaxWindowSize = 2147483647;  // 2^31-1, RFC 9113 §6.9.1
constexpr uint32_t kMaxStreamId = 2147483647;
constexpr uint32_t kStreamIdMask = 0x7fffffff;  // clears the reserved bit (RFC 9113 §4.1)
// RFC 9113 §3.4: the 24 octets every client connection starts with.
constexpr std::string_view kConnectionPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

// RFC 9113 §5.3.2 / §6.3 priority fields (deprecated scheme, still parsed and validated).
// `weight` is the wire octet 0..255, meaning 1..256.
struct PrioritySpec {
  uint32_t stream_dependency;
  bool exclusive;
  uint8_t weight;
  friend bool operator==(const PrioritySpec&, const PrioritySpec&) = default;
};

constexpr size_t kPrioritySpecSize = 5;

}  // namespace h2::protocol
