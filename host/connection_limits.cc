#include "host/connection_limits.h"

#include <array>
#include <limits>

namespace h2::host {
namespace {

using protocol::ConnectionOptions;
constexpr uint64_t kU32 = std::numeric_limits<uint32_t>::max();
constexpr uint64_t kMaxWindow = (uint64_t{1} << 31) - 1;  // RFC 9113 §6.9.1

// One entry per field; the name is the field name. `idle_timeout_ms` is configured as
// timeouts.idle_ms because it also bounds idle HTTP/1.1 keep-alive connections.
#define H2_LIMIT(field, lo, hi)                                                       \
  LimitSpec {                                                                         \
#field, lo, hi,                                                                     \
        [](ConnectionOptions& o, uint64_t v) { o.field = static_cast<decltype(o.field)>(v); }, \
        [](const ConnectionOptions& o) { return static_cast<uint64_t>(o.field); } \
  }

const std::array kSpecs = {
    H2_LIMIT(max_concurrent_streams, 1, kU32),
    H2_LIMIT(initial_stream_window, 1, kMaxWindow),
    H2_LIMIT(connection_window, 65535, kMaxWindow),
    H2_LIMIT(max_frame_size, 16384, 16777215),  // RFC 9113 §6.5.2
    H2_LIMIT(header_table_size, 0, kU32),
    H2_LIMIT(max_header_list_size, 1024, kU32),
    H2_LIMIT(max_field_count, 1, 65536),
    H2_LIMIT(max_string_length, 64, kU32),
    H2_LIMIT(enable_connect_protocol, 0, 1),
    H2_LIMIT(max_continuation_frames, 0, 1024),
    H2_LIMIT(max_queued_control_frames, 16, 1'000'000),
    H2_LIMIT(reset_budget, 1, kU32),
    H2_LIMIT(reset_budget_window_ms, 1, 3'600'000),
    H2_LIMIT(max_consecutive_empty_frames, 0, 1'000'000),
    H2_LIMIT(max_window_updates_per_data_frame, 1, 1'000'000),
    H2_LIMIT(max_priority_frames_per_stream, 1, 1'000'000),
    H2_LIMIT(closed_stream_memory, 0, 1 << 20),
    H2_LIMIT(settings_ack_timeout_ms, 0, 3'600'000),
    H2_LIMIT(header_block_timeout_ms, 0, 3'600'000),
    H2_LIMIT(shutdown_ping_timeout_ms, 0, 3'600'000),
    H2_LIMIT(flow_control_stall_timeout_ms, 0, 86'400'000),
    H2_LIMIT(request_body_timeout_ms, 0, 86'400'000),
    H2_LIMIT(output_high_watermark, 1024, 1 << 30),
    H2_LIMIT(max_unwritten_output, 65536, 1 << 30),
};

#undef H2_LIMIT

}  // namespace

std::span<const LimitSpec> connection_limit_specs() {
  return kSpecs;
}

}  // namespace h2::host
