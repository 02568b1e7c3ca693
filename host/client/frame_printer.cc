#include "host/client/frame_printer.h"

#include <string>

#include "hpack/decoder.h"
#include "protocol/frame/frame_decoder.h"

namespace h2::host::client {

using protocol::ErrorCode;
using protocol::FrameHeader;
using protocol::FrameType;

namespace {
constexpr std::string_view kPreface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

const char* setting_name(uint16_t id) {
  switch (id) {
    case 1: return "SETTINGS_HEADER_TABLE_SIZE";
    case 2: return "SETTINGS_ENABLE_PUSH";
    case 3: return "SETTINGS_MAX_CONCURRENT_STREAMS";
    case 4: return "SETTINGS_INITIAL_WINDOW_SIZE";
    case 5: return "SETTINGS_MAX_FRAME_SIZE";
    case 6: return "SETTINGS_MAX_HEADER_LIST_SIZE";
    case 8: return "SETTINGS_ENABLE_CONNECT_PROTOCOL";
    case 9: return "SETTINGS_NO_RFC7540_PRIORITIES";
    default: return "UNKNOWN";
  }
}

hpack::DecoderOptions printer_hpack_options() {
  hpack::DecoderOptions o;  // generous: the printer shows what came, the connection judges it
  // Larger than any table the peers use: entries the encoder evicted linger here, unreferenced,
  // and the indices of newer ones are the same (RFC 7541 §2.3.3).
  o.max_table_size = 64 * 1024;
  o.max_header_list_size = 1u << 30;
  o.max_field_count = 1u << 20;
  o.max_string_length = 1u << 24;
  return o;
}
}  // namespace

class FramePrinter::Direction final : public protocol::FrameVisitor, public hpack::HeaderSink {
 public:
  Direction(std::FILE* out, bool outgoing)
      : out_(out), outgoing_(outgoing), preface_left_(outgoing ? kPreface.size() : 0),
        decoder_(this), hpack_(printer_hpack_options()) {
    decoder_.set_max_frame_size(protocol::kMaxAllowedFrameSize);
  }

  void feed(std::string_view bytes, double elapsed_ms) {
    elapsed_ms_ = elapsed_ms;
    const size_t skip = std::min(preface_left_, bytes.size());
    preface_left_ -= skip;
    bytes.remove_prefix(skip);
    if (!bytes.empty()) decoder_.process_bytes(bytes);
  }

  bool on_frame_header(const FrameHeader& h) override {
    std::fprintf(out_, "[%8.3f] %s %s frame <length=%u, flags=0x%02x, stream_id=%u>\n",
                 elapsed_ms_ / 1000.0, outgoing_ ? "send" : "recv",
                 std::string(protocol::frame_type_name(h.type)).c_str(), h.length, h.flags,
                 h.stream_id);
    const bool end_stream_frame = h.type == FrameType::kData || h.type == FrameType::kHeaders;
    if (end_stream_frame && h.has(protocol::flags::kEndStream)) note("; END_STREAM");
    if ((h.type == FrameType::kSettings || h.type == FrameType::kPing) &&
        h.has(protocol::flags::kAck)) {
      note("; ACK");
    }
    if ((h.type == FrameType::kHeaders || h.type == FrameType::kContinuation ||
         h.type == FrameType::kPushPromise) && h.has(protocol::flags::kEndHeaders)) {
      note("; END_HEADERS");
    }
    return true;
  }
  void on_data_start(const FrameHeader&) override {}
  void on_data_chunk(uint32_t, std::string_view) override {}
  void on_data_end(const FrameHeader&) override {}
  void on_headers_start(const FrameHeader&, const std::optional<protocol::PrioritySpec>&) override {
    begin_block();
  }
  void on_push_promise_start(const FrameHeader&, uint32_t promised) override {
    std::fprintf(out_, "          (promised_stream_id=%u)\n", promised);
    begin_block();
  }
  void on_continuation_start(const FrameHeader&) override {}
  void on_header_block_fragment(std::string_view fragment) override {
    if (in_block_ && hpack_.process_bytes(fragment) != hpack::Error::kOk) in_block_ = false;
  }
  void on_header_frame_end(const FrameHeader& h) override {
    if (in_block_ && h.has(protocol::flags::kEndHeaders)) {
      hpack_.end_block();
      in_block_ = false;
    }
  }
  void on_priority(const FrameHeader&, const protocol::PrioritySpec&) override {}
  void on_rst_stream(const FrameHeader&, ErrorCode code) override {
    std::fprintf(out_, "          (error_code=%s(0x%02x))\n", name(code).c_str(),
                 static_cast<unsigned>(code));
  }
  void on_settings(const FrameHeader&, std::span<const protocol::Setting> settings) override {
    if (settings.empty()) return;
    std::fprintf(out_, "          (niv=%zu)\n", settings.size());
    for (const protocol::Setting& s : settings) {
      std::fprintf(out_, "          [%s(0x%02x):%u]\n", setting_name(s.id), s.id, s.value);
    }
  }
  void on_ping(const FrameHeader&, uint64_t opaque) override {
    std::fprintf(out_, "          (opaque_data=%016llx)\n", static_cast<unsigned long long>(opaque));
  }
  void on_goaway(const FrameHeader&, uint32_t last, ErrorCode code,
                 std::string_view debug) override {
    std::fprintf(out_, "          (last_stream_id=%u, error_code=%s(0x%02x), opaque_data(%zu)=[%s])\n",
                 last, name(code).c_str(), static_cast<unsigned>(code), debug.size(),
                 std::string(debug).c_str());
  }
  void on_window_update(const FrameHeader&, uint32_t increment) override {
    std::fprintf(out_, "          (window_size_increment=%u)\n", increment);
  }
  void on_priority_update(const FrameHeader&, uint32_t id, std::string_view value) override {
    std::fprintf(out_, "          (prioritized_stream_id=%u, priority_field_value=%s)\n", id,
                 std::string(value).c_str());
  }
  void on_frame_error(const FrameHeader&, ErrorCode code, std::string_view reason) override {
    std::fprintf(out_, "          [undecodable: %s: %s]\n", name(code).c_str(),
                 std::string(reason).c_str());
  }
  void on_header(std::string_view n, std::string_view v) override {
    std::fprintf(out_, "          %.*s: %.*s\n", static_cast<int>(n.size()), n.data(),
                 static_cast<int>(v.size()), v.data());
  }

 private:
  void note(const char* text) { std::fprintf(out_, "          %s\n", text); }
  void begin_block() {
    hpack_.begin_block(this);
    in_block_ = true;
  }
  static std::string name(ErrorCode code) { return std::string(protocol::error_code_name(code)); }

  std::FILE* out_;
  bool outgoing_;
  size_t preface_left_;
  double elapsed_ms_ = 0;
  bool in_block_ = false;
  protocol::FrameDecoder decoder_;
  hpack::Decoder hpack_;
};

FramePrinter::FramePrinter(std::FILE* out)
    : sent_(std::make_unique<Direction>(out, true)),
      received_(std::make_unique<Direction>(out, false)) {}
FramePrinter::~FramePrinter() = default;

void FramePrinter::feed(std::string_view bytes, bool outgoing, double elapsed_ms) {
  (outgoing ? sent_ : received_)->feed(bytes, elapsed_ms);
}

}  // namespace h2::host::client
