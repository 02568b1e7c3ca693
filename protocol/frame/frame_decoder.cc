#include "protocol/frame/frame_decoder.h"

#include <algorithm>
#include <cstring>

namespace h2::protocol {
namespace {

uint32_t read24(const uint8_t* p) {
  return uint32_t{p[0]} << 16 | uint32_t{p[1]} << 8 | p[2];
}
uint16_t read16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t read32(const uint8_t* p) {
  return uint32_t{read16(p)} << 16 | read16(p + 2);
}

PrioritySpec read_priority(const uint8_t* p) {
  uint32_t word = read32(p);
  return PrioritySpec{word & kStreamIdMask, (word & 0x80000000u) != 0, p[4]};
}

uint32_t clamp_frame_size(uint32_t size) {
  return std::clamp(size, kDefaultMaxFrameSize, kMaxAllowedFrameSize);
}

// RFC 9113 §6.5.2, RFC 8441 §3, RFC 9218 §2.1. Unknown identifiers pass (they are ignored).
std::optional<std::pair<ErrorCode, std::string_view>> judge_setting(const Setting& s) {
  using R = std::pair<ErrorCode, std::string_view>;
  switch (static_cast<SettingId>(s.id)) {
    case SettingId::kEnablePush:
      if (s.value > 1) return R{ErrorCode::kProtocolError, "SETTINGS_ENABLE_PUSH above 1"};
      break;
    case SettingId::kInitialWindowSize:
      if (s.value > kMaxWindowSize) {
        return R{ErrorCode::kFlowControlError, "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1"};
      }
      break;
    case SettingId::kMaxFrameSize:
      if (s.value < kDefaultMaxFrameSize || s.value > kMaxAllowedFrameSize) {
        return R{ErrorCode::kProtocolError, "SETTINGS_MAX_FRAME_SIZE outside [2^14, 2^24-1]"};
      }
      break;
    case SettingId::kEnableConnectProtocol:
      if (s.value > 1) {
        return R{ErrorCode::kProtocolError, "SETTINGS_ENABLE_CONNECT_PROTOCOL above 1"};
      }
      break;
    case SettingId::kNoRfc7540Priorities:
      if (s.value > 1) {
        return R{ErrorCode::kProtocolError, "SETTINGS_NO_RFC7540_PRIORITIES above 1"};
      }
      break;
    default:
      break;
  }
  return std::nullopt;
}

}  // namespace

FrameDecoder::FrameDecoder(FrameVisitor* visitor, const FrameDecoderOptions& options)
    : visitor_(visitor), options_(options) {
  options_.max_frame_size = clamp_frame_size(options_.max_frame_size);
}

void FrameDecoder::set_max_frame_size(uint32_t size) {
  options_.max_frame_size = clamp_frame_size(size);
}

size_t FrameDecoder::process_bytes(std::string_view bytes) {
  size_t consumed = 0;
  while (!stopped_ && consumed < bytes.size()) {
    std::string_view rest = bytes.substr(consumed);
    switch (state_) {
      case State::kHeader:
        consumed += on_header_bytes(rest);
        break;
      case State::kPrefix:
        consumed += on_prefix_bytes(rest);
        break;
      case State::kBody:
        consumed += on_body_bytes(rest);
        break;
      case State::kPadding:
        consumed += on_padding_bytes(rest);
        break;
    }
  }
  return consumed;
}

size_t FrameDecoder::on_header_bytes(std::string_view bytes) {
  const uint8_t* octets;
  size_t n;
  if (filled_ == 0 && bytes.size() >= kFrameHeaderSize) {
    // Common case: the whole header is in this input; read it in place.
    octets = reinterpret_cast<const uint8_t*>(bytes.data());
    n = kFrameHeaderSize;
  } else {
    n = std::min(kFrameHeaderSize - filled_, bytes.size());
    std::memcpy(fixed_.data() + filled_, bytes.data(), n);
    filled_ += n;
    if (filled_ < kFrameHeaderSize) return n;
    filled_ = 0;
    octets = fixed_.data();
  }
  header_ = FrameHeader{read24(octets), static_cast<FrameType>(octets[3]), octets[4],
                        read32(octets + 5) & kStreamIdMask};
  prefix_size_ = compute_prefix_size();
  skip_ = Skip::kNone;
  pad_length_ = 0;
  const HeaderVerdict verdict = check_header();
  if (verdict == HeaderVerdict::kFailed) return n;
  if (!visitor_->on_frame_header(header_)) stopped_ = true;
  if (stopped_) return n;
  if (verdict == HeaderVerdict::kStreamError) {
    // After on_frame_header, so the connection's sequencing rules (e.g. RFC 9113 §6.10: nothing
    // but CONTINUATION inside a header block) still see the frame first.
    constexpr std::string_view kReason = "PRIORITY length is not 5";
    if (!visitor_->on_frame_stream_error(header_, ErrorCode::kFrameSizeError, kReason)) {
      fail(ErrorCode::kFrameSizeError, kReason);
      return n;
    }
    if (stopped_) return n;
    skip_ = Skip::kSilent;
    enter_body(header_.length);
    return n;
  }
  state_ = State::kPrefix;
  if (prefix_size_ == 0) start_body();
  return n;
}

// RFC 9113 §4.2 (sizes), §6.x (stream identifier rules), RFC 9218 §7.1. Only what the header
// alone shows; payload-dependent checks (padding, promised id, settings values) come later.
FrameDecoder::HeaderVerdict FrameDecoder::check_header() {
  const FrameHeader& h = header_;
  if (h.length > options_.max_frame_size) {
    fail(ErrorCode::kFrameSizeError, "frame length above SETTINGS_MAX_FRAME_SIZE");
    return HeaderVerdict::kFailed;
  }
  const bool on_stream_zero = h.stream_id == 0;
  std::string_view reason;
  switch (h.type) {
    case FrameType::kData:
    case FrameType::kHeaders:
    case FrameType::kPriority:
    case FrameType::kRstStream:
    case FrameType::kPushPromise:
    case FrameType::kContinuation:
      if (on_stream_zero) reason = "frame type requires a non-zero stream identifier";
      break;
    case FrameType::kSettings:
    case FrameType::kPing:
    case FrameType::kGoaway:
    case FrameType::kPriorityUpdate:
      if (!on_stream_zero) reason = "frame type requires stream identifier 0";
      break;
    default:
      break;
  }
  if (!reason.empty()) {
    fail(ErrorCode::kProtocolError, reason);
    return HeaderVerdict::kFailed;
  }

  switch (h.type) {
    case FrameType::kPriority:
      // RFC 9113 §6.3: a stream error, judged after on_frame_header (see on_header_bytes).
      if (h.length != kPrioritySpecSize) return HeaderVerdict::kStreamError;
      break;
    case FrameType::kRstStream:
    case FrameType::kWindowUpdate:
      if (h.length != 4) reason = "RST_STREAM/WINDOW_UPDATE length is not 4";
      break;
    case FrameType::kPing:
      if (h.length != 8) reason = "PING length is not 8";
      break;
    case FrameType::kSettings:
      if (h.has(flags::kAck) && h.length != 0) reason = "SETTINGS ACK with a payload";
      if (h.length % 6 != 0) reason = "SETTINGS length is not a multiple of 6";
      break;
    case FrameType::kGoaway:
    case FrameType::kData:
    case FrameType::kHeaders:
    case FrameType::kPushPromise:
    case FrameType::kPriorityUpdate:
      if (h.length < prefix_size_) reason = "frame too short for its mandatory fields";
      break;
    default:
      break;
  }
  if (!reason.empty()) {
    fail(ErrorCode::kFrameSizeError, reason);
    return HeaderVerdict::kFailed;
  }
  if (h.type == FrameType::kSettings && h.length / 6 > options_.max_settings_entries) {
    fail(ErrorCode::kEnhanceYourCalm, "SETTINGS frame carries more entries than allowed");
    return HeaderVerdict::kFailed;
  }
  return HeaderVerdict::kDecode;
}

uint8_t FrameDecoder::compute_prefix_size() const {
  const uint8_t pad = header_.has(flags::kPadded) ? 1 : 0;
  switch (header_.type) {
    case FrameType::kData:
      return pad;
    case FrameType::kHeaders:
      return static_cast<uint8_t>(pad + (header_.has(flags::kPriority) ? kPrioritySpecSize : 0));
    case FrameType::kPushPromise:
      return static_cast<uint8_t>(pad + 4);
    case FrameType::kPriority:
      return kPrioritySpecSize;
    case FrameType::kRstStream:
    case FrameType::kWindowUpdate:
    case FrameType::kPriorityUpdate:
      return 4;
    case FrameType::kPing:
    case FrameType::kGoaway:
      return 8;
    default:
      return 0;
  }
}

size_t FrameDecoder::on_prefix_bytes(std::string_view bytes) {
  size_t n = std::min(prefix_size_ - filled_, bytes.size());
  std::memcpy(fixed_.data() + filled_, bytes.data(), n);
  filled_ += n;
  if (filled_ == prefix_size_) start_body();
  return n;
}

void FrameDecoder::start_body() {
  const FrameHeader& h = header_;
  const size_t prefix = prefix_size_;
  filled_ = 0;
  const uint8_t* p = fixed_.data();
  if (h.has(flags::kPadded) && (h.type == FrameType::kData || h.type == FrameType::kHeaders ||
                                h.type == FrameType::kPushPromise)) {
    pad_length_ = *p++;
    // RFC 9113 §6.1, §6.2, §6.6: padding may not exceed what is left after the fixed fields.
    if (pad_length_ > h.length - prefix) {
      fail(ErrorCode::kProtocolError, "padding longer than the frame payload");
      return;
    }
  }
  const uint32_t body = static_cast<uint32_t>(h.length - prefix - pad_length_);
  switch (h.type) {
    case FrameType::kData:
      visitor_->on_data_start(h);
      if (!stopped_ && h.has(flags::kPadded)) visitor_->on_data_padding(h, pad_length_ + 1u);
      break;
    case FrameType::kHeaders: {
      std::optional<PrioritySpec> priority;
      if (h.has(flags::kPriority)) priority = read_priority(p);
      visitor_->on_headers_start(h, priority);
      break;
    }
    case FrameType::kPushPromise: {
      uint32_t promised = read32(p) & kStreamIdMask;
      // RFC 9113 §5.1.1, §6.6: a promised stream is server-initiated, so even and non-zero.
      if (promised == 0 || promised % 2 != 0) {
        fail(ErrorCode::kProtocolError, "PUSH_PROMISE promised stream id zero or odd");
        return;
      }
      visitor_->on_push_promise_start(h, promised);
      break;
    }
    case FrameType::kContinuation:
      visitor_->on_continuation_start(h);
      break;
    case FrameType::kSettings:
      settings_.clear();
      break;
    case FrameType::kGoaway:
      last_stream_id_ = read32(p) & kStreamIdMask;
      goaway_code_ = read32(p + 4);
      value_.clear();
      break;
    case FrameType::kPriorityUpdate:
      last_stream_id_ = read32(p) & kStreamIdMask;
      if (last_stream_id_ == 0) {
        fail(ErrorCode::kProtocolError, "PRIORITY_UPDATE for stream 0");  // RFC 9218 §7.1
        return;
      }
      value_.clear();
      if (body > options_.max_priority_update_size) skip_ = Skip::kUnknown;
      break;
    case FrameType::kPriority:
    case FrameType::kRstStream:
    case FrameType::kPing:
    case FrameType::kWindowUpdate:
      break;  // reported whole by finish_frame
    default:
      skip_ = Skip::kUnknown;
      break;  // RFC 9113 §5.5
  }
  if (stopped_) return;
  enter_body(body);
}

void FrameDecoder::enter_body(uint32_t body_size) {
  body_remaining_ = body_size;
  padding_remaining_ = pad_length_;
  state_ = State::kBody;
  if (body_remaining_ == 0) end_body();
}

void FrameDecoder::end_body() {
  if (padding_remaining_ > 0) {
    state_ = State::kPadding;
    return;
  }
  finish_frame();
}

size_t FrameDecoder::on_body_bytes(std::string_view bytes) {
  size_t n = std::min<size_t>(body_remaining_, bytes.size());
  std::string_view piece = bytes.substr(0, n);
  if (skip_ != Skip::kNone) {
    // Skipped payload: nothing delivered.
  } else if (header_.type == FrameType::kData) {
    visitor_->on_data_chunk(header_.stream_id, piece);
  } else if (header_.type == FrameType::kHeaders || header_.type == FrameType::kPushPromise ||
             header_.type == FrameType::kContinuation) {
    visitor_->on_header_block_fragment(piece);
  } else if (header_.type == FrameType::kSettings) {
    for (size_t i = 0; i < n; ++i) {
      fixed_[filled_++] = static_cast<uint8_t>(piece[i]);
      if (filled_ == 6 && !take_settings_entry()) {
        body_remaining_ -= static_cast<uint32_t>(i + 1);
        return i + 1;
      }
    }
  } else if (header_.type == FrameType::kGoaway) {
    size_t room =
        options_.max_goaway_debug_size - std::min(options_.max_goaway_debug_size, value_.size());
    value_.append(piece.substr(0, room));
  } else if (header_.type == FrameType::kPriorityUpdate) {
    value_.append(piece);
  }
  body_remaining_ -= static_cast<uint32_t>(n);
  if (!stopped_ && body_remaining_ == 0) end_body();
  return n;
}

bool FrameDecoder::take_settings_entry() {
  filled_ = 0;
  Setting setting{read16(fixed_.data()), read32(fixed_.data() + 2)};
  if (auto error = judge_setting(setting)) {
    fail(error->first, error->second);
    return false;
  }
  settings_.push_back(setting);
  return true;
}

size_t FrameDecoder::on_padding_bytes(std::string_view bytes) {
  size_t n = std::min<size_t>(padding_remaining_, bytes.size());
  padding_remaining_ -= static_cast<uint32_t>(n);
  if (padding_remaining_ == 0) finish_frame();
  return n;
}

void FrameDecoder::finish_frame() {
  const FrameHeader& h = header_;
  state_ = State::kHeader;
  filled_ = 0;
  if (skip_ != Skip::kNone) {
    if (skip_ == Skip::kUnknown) visitor_->on_unknown_frame(h);
    skip_ = Skip::kNone;
    return;
  }
  switch (h.type) {
    case FrameType::kData:
      visitor_->on_data_end(h);
      break;
    case FrameType::kHeaders:
    case FrameType::kPushPromise:
    case FrameType::kContinuation:
      visitor_->on_header_frame_end(h);
      break;
    case FrameType::kPriority:
      visitor_->on_priority(h, read_priority(fixed_.data()));
      break;
    case FrameType::kRstStream:
      visitor_->on_rst_stream(h, static_cast<ErrorCode>(read32(fixed_.data())));
      break;
    case FrameType::kSettings:
      visitor_->on_settings(h, settings_);
      // A connection sees two or three SETTINGS frames in its life: their entries are not kept
      // (64 bytes per idle connection).
      settings_ = {};
      break;
    case FrameType::kPing:
      visitor_->on_ping(h, uint64_t{read32(fixed_.data())} << 32 | read32(fixed_.data() + 4));
      break;
    case FrameType::kGoaway:
      visitor_->on_goaway(h, last_stream_id_, static_cast<ErrorCode>(goaway_code_), value_);
      break;
    case FrameType::kWindowUpdate:
      visitor_->on_window_update(h, read32(fixed_.data()) & kStreamIdMask);
      break;
    case FrameType::kPriorityUpdate:
      visitor_->on_priority_update(h, last_stream_id_, value_);
      break;
    default:
      break;
  }
}

void FrameDecoder::fail(ErrorCode code, std::string_view reason) {
  has_error_ = true;
  stopped_ = true;
  visitor_->on_frame_error(header_, code, reason);
}

}  // namespace h2::protocol
