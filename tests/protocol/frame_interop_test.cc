// Interoperability of the frame layer with a real, independent HTTP/2 implementation
// (libnghttp2, as shipped by Debian): frames written by a real nghttp2 client (including its
// padding and PRIORITY_UPDATE) decode cleanly with FrameDecoder, and frames from our writer are
// accepted by a real nghttp2 server session field by field.
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <string>
#include <vector>

#include "protocol/frame/frame_decoder.h"
#include "protocol/frame/frame_writer.h"
#include "tests/protocol/frame_recorder.h"
#include "tests/protocol/support/frame_builder.h"

namespace h2::protocol {
namespace {

using test::DecodedFrame;
using test::FrameBuilder;
using test::FrameRecorder;

// Owns an nghttp2 session; all output is pulled with mem_send.
class Session {
 public:
  Session(bool server, nghttp2_session_callbacks* callbacks, void* user) {
    int rv = server ? nghttp2_session_server_new(&session_, callbacks, user)
                    : nghttp2_session_client_new(&session_, callbacks, user);
    EXPECT_EQ(rv, 0);
  }
  ~Session() { nghttp2_session_del(session_); }
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  nghttp2_session* get() { return session_; }
  std::string send_all() {
    std::string out;
    for (;;) {
      const uint8_t* data = nullptr;
      ssize_t n = nghttp2_session_mem_send(session_, &data);
      EXPECT_GE(n, 0) << nghttp2_strerror(static_cast<int>(n));
      if (n <= 0) break;
      out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    return out;
  }
  void recv_all(std::string_view bytes) {
    ssize_t n = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(bytes.data()),
                                         bytes.size());
    EXPECT_EQ(n, static_cast<ssize_t>(bytes.size())) << nghttp2_strerror(static_cast<int>(n));
  }

 private:
  nghttp2_session* session_ = nullptr;
};

struct Callbacks {
  Callbacks() { nghttp2_session_callbacks_new(&ptr); }
  ~Callbacks() { nghttp2_session_callbacks_del(ptr); }
  nghttp2_session_callbacks* ptr = nullptr;
};

std::vector<DecodedFrame> decode_all(std::string_view wire) {
  FrameRecorder recorder;
  FrameDecoder decoder(&recorder);
  EXPECT_EQ(decoder.process_bytes(wire), wire.size());
  EXPECT_TRUE(recorder.errors.empty()) << recorder.errors.front().reason;
  EXPECT_TRUE(decoder.at_frame_boundary());
  return recorder.frames;
}

// ---- nghttp2 client -> FrameDecoder ----

struct Body {
  std::string bytes;
  size_t offset = 0;
};

ssize_t read_body(nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* data_flags,
                  nghttp2_data_source* source, void*) {
  auto* body = static_cast<Body*>(source->ptr);
  size_t n = std::min(length, body->bytes.size() - body->offset);
  std::memcpy(buf, body->bytes.data() + body->offset, n);
  body->offset += n;
  if (body->offset == body->bytes.size()) *data_flags |= NGHTTP2_DATA_FLAG_EOF;
  return static_cast<ssize_t>(n);
}

// Pads every HEADERS and DATA frame by 7 octets where it fits.
ssize_t pad_seven(nghttp2_session*, const nghttp2_frame* frame, size_t max_payloadlen, void*) {
  return static_cast<ssize_t>(std::min(frame->hd.length + 7, max_payloadlen));
}

TEST(FrameInteropTest, Rfc9113_6_NghttpClientFramesDecode) {
  Callbacks callbacks;
  nghttp2_session_callbacks_set_select_padding_callback(callbacks.ptr, pad_seven);
  Session client(false, callbacks.ptr, nullptr);

  const nghttp2_settings_entry iv[] = {{NGHTTP2_SETTINGS_HEADER_TABLE_SIZE, 8192},
                                       {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
                                       {NGHTTP2_SETTINGS_ENABLE_PUSH, 0}};
  ASSERT_EQ(nghttp2_submit_settings(client.get(), NGHTTP2_FLAG_NONE, iv, 3), 0);
  // Our SETTINGS (RFC 9218 §2.1) lets the client send PRIORITY_UPDATE.
  std::string server_settings;
  const Setting ours[] = {{static_cast<uint16_t>(SettingId::kNoRfc7540Priorities), 1}};
  write_settings(server_settings, ours);
  client.recv_all(server_settings);

  Body body{std::string(40000, 'b')};
  nghttp2_data_provider provider{};
  provider.source.ptr = &body;
  provider.read_callback = read_body;
  std::string method = ":method", post = "POST", path = ":path", slash = "/upload",
              scheme = ":scheme", https = "https", authority = ":authority", host = "example.com";
  auto nv = [](std::string& n, std::string& v) {
    return nghttp2_nv{reinterpret_cast<uint8_t*>(n.data()), reinterpret_cast<uint8_t*>(v.data()),
                      n.size(), v.size(), NGHTTP2_NV_FLAG_NONE};
  };
  const nghttp2_nv headers[] = {nv(method, post), nv(path, slash), nv(scheme, https),
                                nv(authority, host)};
  int32_t stream = nghttp2_submit_request(client.get(), nullptr, headers, 4, &provider, nullptr);
  ASSERT_EQ(stream, 1);
  const uint8_t opaque[8] = {1, 2, 3, 4, 5, 6, 7, 8};
  ASSERT_EQ(nghttp2_submit_ping(client.get(), NGHTTP2_FLAG_NONE, opaque), 0);
  ASSERT_EQ(nghttp2_submit_priority_update(client.get(), NGHTTP2_FLAG_NONE, 1,
                                           reinterpret_cast<const uint8_t*>("u=1, i"), 6),
            0);
  ASSERT_EQ(nghttp2_submit_window_update(client.get(), NGHTTP2_FLAG_NONE, 0, 100000), 0);
  ASSERT_EQ(nghttp2_submit_goaway(client.get(), NGHTTP2_FLAG_NONE, 0, NGHTTP2_NO_ERROR,
                                  reinterpret_cast<const uint8_t*>("bye"), 3),
            0);

  std::string wire = client.send_all();
  ASSERT_GT(wire.size(), kConnectionPreface.size());
  ASSERT_EQ(wire.substr(0, kConnectionPreface.size()), kConnectionPreface);
  std::vector<DecodedFrame> frames = decode_all(std::string_view(wire).substr(24));

  size_t data_bytes = 0, data_frames = 0, padded = 0;
  bool settings = false, ack = false, headers_seen = false, ping = false, update = false,
       window = false, goaway = false, end_stream = false;
  for (const DecodedFrame& f : frames) {
    ASSERT_TRUE(f.complete);
    switch (f.header.type) {
      case FrameType::kSettings:
        if (f.header.has(flags::kAck)) {
          ack = true;
        } else {
          settings = true;
          EXPECT_EQ(f.settings, (std::vector<Setting>{{1, 8192}, {4, 1 << 20}, {2, 0}}));
        }
        break;
      case FrameType::kHeaders:
        headers_seen = true;
        EXPECT_EQ(f.header.stream_id, 1u);
        EXPECT_TRUE(f.header.has(flags::kEndHeaders));
        EXPECT_FALSE(f.payload.empty());
        padded += f.header.has(flags::kPadded);
        break;
      case FrameType::kData:
        EXPECT_EQ(f.header.stream_id, 1u);
        EXPECT_LE(f.header.length, kDefaultMaxFrameSize);
        data_bytes += f.payload.size();
        ++data_frames;
        if (f.padding_and_pad_length) {
          ++padded;
          EXPECT_EQ(f.payload.size() + *f.padding_and_pad_length, f.header.length);
        }
        end_stream = f.header.has(flags::kEndStream);
        break;
      case FrameType::kPing:
        ping = true;
        EXPECT_EQ(f.ping, 0x0102030405060708u);
        break;
      case FrameType::kPriorityUpdate:
        update = true;
        EXPECT_EQ(f.id, 1u);
        EXPECT_EQ(f.payload, "u=1, i");
        break;
      case FrameType::kWindowUpdate:
        if (f.increment == 100000) window = true;
        break;
      case FrameType::kGoaway:
        goaway = true;
        EXPECT_EQ(f.payload, "bye");
        break;
      default:
        ADD_FAILURE() << "unexpected frame type " << int{static_cast<uint8_t>(f.header.type)};
    }
  }
  EXPECT_TRUE(settings && ack && headers_seen && ping && update && window && goaway);
  EXPECT_EQ(data_bytes, 40000u);
  EXPECT_GE(data_frames, 3u);  // 40000 bytes need at least three 16 KiB frames
  EXPECT_TRUE(end_stream);
  EXPECT_GE(padded, 2u);  // nghttp2 padded the HEADERS and the DATA frames
}

// ---- FrameBuilder / writer -> nghttp2 server ----

struct Received {
  std::vector<nghttp2_frame_hd> frames;
  std::vector<std::pair<std::string, std::string>> fields;
  std::string data;
  uint8_t ping[8] = {};
  int32_t goaway_last = -1;
  uint32_t goaway_code = 0;
  std::string goaway_debug;
  int32_t window_increment = 0;
  int32_t priority_dependency = -1;
  int32_t priority_weight = 0;
  uint32_t rst_code = 0;
  size_t settings_entries = 0;
  int invalid = 0;
};

int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
  auto* r = static_cast<Received*>(user);
  r->frames.push_back(frame->hd);
  switch (frame->hd.type) {
    case NGHTTP2_PING:
      std::memcpy(r->ping, frame->ping.opaque_data, 8);
      break;
    case NGHTTP2_GOAWAY:
      r->goaway_last = frame->goaway.last_stream_id;
      r->goaway_code = frame->goaway.error_code;
      r->goaway_debug.assign(reinterpret_cast<const char*>(frame->goaway.opaque_data),
                             frame->goaway.opaque_data_len);
      break;
    case NGHTTP2_WINDOW_UPDATE:
      r->window_increment = frame->window_update.window_size_increment;
      break;
    case NGHTTP2_PRIORITY:
      r->priority_dependency = frame->priority.pri_spec.stream_id;
      r->priority_weight = frame->priority.pri_spec.weight;
      break;
    case NGHTTP2_RST_STREAM:
      r->rst_code = frame->rst_stream.error_code;
      break;
    case NGHTTP2_SETTINGS:
      r->settings_entries += frame->settings.niv;
      break;
    default:
      break;
  }
  return 0;
}

int on_header(nghttp2_session*, const nghttp2_frame*, const uint8_t* name, size_t namelen,
              const uint8_t* value, size_t valuelen, uint8_t, void* user) {
  static_cast<Received*>(user)->fields.emplace_back(
      std::string(reinterpret_cast<const char*>(name), namelen),
      std::string(reinterpret_cast<const char*>(value), valuelen));
  return 0;
}

int on_data(nghttp2_session*, uint8_t, int32_t, const uint8_t* data, size_t len, void* user) {
  static_cast<Received*>(user)->data.append(reinterpret_cast<const char*>(data), len);
  return 0;
}

int on_invalid(nghttp2_session*, const nghttp2_frame*, int, void* user) {
  ++static_cast<Received*>(user)->invalid;
  return 0;
}

TEST(FrameInteropTest, Rfc9113_6_NghttpServerAcceptsOurFrames) {
  Callbacks callbacks;
  nghttp2_session_callbacks_set_on_frame_recv_callback(callbacks.ptr, on_frame);
  nghttp2_session_callbacks_set_on_header_callback(callbacks.ptr, on_header);
  nghttp2_session_callbacks_set_on_data_chunk_recv_callback(callbacks.ptr, on_data);
  nghttp2_session_callbacks_set_on_invalid_frame_recv_callback(callbacks.ptr, on_invalid);
  Received received;
  Session server(true, callbacks.ptr, &received);

  std::string get = FrameBuilder::literal_block(
      {{":method", "GET"}, {":scheme", "https"}, {":path", "/"}, {":authority", "example.com"}});
  std::string post = FrameBuilder::literal_block({{":method", "POST"},
                                                  {":scheme", "https"},
                                                  {":path", "/up"},
                                                  {":authority", "example.com"},
                                                  {"content-length", "20000"}});
  std::string wire =
      FrameBuilder()
          .preface()
          .settings({{3, 100}, {4, 1 << 20}, {2, 0}})
          .header_block(1, get, 10, true)  // HEADERS + CONTINUATION x n
          .headers(3, post, flags::kEndHeaders, PrioritySpec{0, false, 41}, Padding{5})
          .data(3, std::string(15000, 'p'), false, 20)
          .data(3, std::string(5000, 'q'), true)
          .priority(5, 3, 99, false)
          .window_update(0, 12345)
          .rst_stream(3, ErrorCode::kCancel)
          .raw(0x42, 0, 0, "extension, ignored")
          .ping(0x1122334455667788)
          // A client's GOAWAY names the last *server*-initiated stream: none.
          .goaway(0, ErrorCode::kNoError, "done")
          .take();
  server.recv_all(wire);

  EXPECT_EQ(received.invalid, 0);
  std::vector<uint8_t> types;
  for (const nghttp2_frame_hd& hd : received.frames) types.push_back(hd.type);
  // nghttp2 reports a header block once, on HEADERS, and never the unknown frame.
  EXPECT_EQ(types,
            (std::vector<uint8_t>{NGHTTP2_SETTINGS, NGHTTP2_HEADERS, NGHTTP2_HEADERS, NGHTTP2_DATA,
                                  NGHTTP2_DATA, NGHTTP2_PRIORITY, NGHTTP2_WINDOW_UPDATE,
                                  NGHTTP2_RST_STREAM, NGHTTP2_PING, NGHTTP2_GOAWAY}));
  EXPECT_EQ(received.settings_entries, 3u);
  ASSERT_EQ(received.fields.size(), 9u);
  EXPECT_EQ(received.fields[0], (std::pair<std::string, std::string>{":method", "GET"}));
  EXPECT_EQ(received.fields[8], (std::pair<std::string, std::string>{"content-length", "20000"}));
  EXPECT_EQ(received.data, std::string(15000, 'p') + std::string(5000, 'q'));
  EXPECT_EQ(received.priority_dependency, 3);
  EXPECT_EQ(received.priority_weight, 100);  // wire octet 99 means weight 100 (RFC 9113 §6.3)
  EXPECT_EQ(received.window_increment, 12345);
  EXPECT_EQ(received.rst_code, static_cast<uint32_t>(NGHTTP2_CANCEL));
  const uint8_t expected_ping[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  EXPECT_EQ(std::memcmp(received.ping, expected_ping, 8), 0);
  EXPECT_EQ(received.goaway_last, 0);
  EXPECT_EQ(received.goaway_code, static_cast<uint32_t>(NGHTTP2_NO_ERROR));
  EXPECT_EQ(received.goaway_debug, "done");

  // The server's answers (its SETTINGS, our SETTINGS' ACK, the PING ACK) decode with ours.
  std::vector<DecodedFrame> answers = decode_all(server.send_all());
  bool settings_ack = false, ping_ack = false;
  for (const DecodedFrame& f : answers) {
    if (f.header.type == FrameType::kSettings && f.header.has(flags::kAck)) settings_ack = true;
    if (f.header.type == FrameType::kPing && f.header.has(flags::kAck)) {
      ping_ack = f.ping == 0x1122334455667788u;
    }
  }
  EXPECT_TRUE(settings_ack);
  EXPECT_TRUE(ping_ack);
}

}  // namespace
}  // namespace h2::protocol
