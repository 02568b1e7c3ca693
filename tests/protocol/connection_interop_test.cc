// Interoperability of ServerConnection with a real, independent HTTP/2 client: libnghttp2's
// client session (Debian's libnghttp2), driven in memory. Requests with bodies and trailers,
// responses larger than the client's windows, server push and graceful shutdown, all decided by
// nghttp2's own state machine (it sends GOAWAY/RST_STREAM on any violation it detects).
#include <gtest/gtest.h>
#include <nghttp2/nghttp2.h>

#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tests/protocol/support/connection_harness.h"

namespace h2::test {
namespace {

using protocol::Field;
using protocol::Reqd;
using protocol::Result;

struct ClientStream {
  std::map<std::string, std::string> headers;  // final response head (and trailers, merged)
  std::string status;
  std::string body;
  bool closed = false;
  uint32_t close_code = UINT32_MAX;
  int32_t promised_by = 0;  // pushed streams: the parent
};

class NgClient {
 public:
  explicit NgClient(uint32_t initial_window = 65535) {
    nghttp2_session_callbacks* cb;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(cb, on_header);
    nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cb, on_data);
    nghttp2_session_callbacks_set_on_stream_close_callback(cb, on_close);
    nghttp2_session_callbacks_set_on_frame_recv_callback(cb, on_frame);
    nghttp2_session_client_new(&session_, cb, this);
    nghttp2_session_callbacks_del(cb);
    nghttp2_settings_entry s[] = {{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, initial_window},
                                  {NGHTTP2_SETTINGS_ENABLE_PUSH, 1}};
    nghttp2_submit_settings(session_, NGHTTP2_FLAG_NONE, s, 2);
  }
  ~NgClient() { nghttp2_session_del(session_); }

  int32_t get(const std::string& path) {
    auto nva = request_nv("GET", path);
    return nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), nullptr, this);
  }
  // POST with `body`; trailers after it when `trailer` is not empty.
  int32_t post(const std::string& path, std::string body, std::string trailer = {}) {
    auto nva = request_nv("POST", path);
    auto* upload = new Upload{std::move(body), 0, std::move(trailer)};
    nghttp2_data_provider provider{};
    provider.source.ptr = upload;
    provider.read_callback = read_upload;
    int32_t id = nghttp2_submit_request(session_, nullptr, nva.data(), nva.size(), &provider, this);
    uploads_[id].reset(upload);
    return id;
  }

  // Moves bytes both ways until neither side has anything to say.
  void pump(protocol::ServerConnection& server) {
    for (int round = 0; round < 100000; ++round) {
      bool progress = false;
      const uint8_t* data;
      ssize_t n;
      while ((n = nghttp2_session_mem_send(session_, &data)) > 0) {
        progress = true;
        ASSERT_EQ(server.process_bytes({reinterpret_cast<const char*>(data), size_t(n)}, 0),
                  size_t(n));
      }
      ASSERT_GE(n, 0) << nghttp2_strerror(static_cast<int>(n));
      while (server.wants_write()) {
        std::vector<std::string_view> views;
        size_t total = server.pending_output(views, 64 * 1024);
        if (total == 0) break;
        progress = true;
        for (auto v : views) {
          ssize_t r = nghttp2_session_mem_recv(session_, reinterpret_cast<const uint8_t*>(v.data()),
                                               v.size());
          ASSERT_EQ(r, ssize_t(v.size())) << nghttp2_strerror(static_cast<int>(r));
        }
        server.consume_output(total);
      }
      if (!progress) return;
    }
    FAIL() << "no quiescence";
  }

  std::map<int32_t, ClientStream> streams;
  uint32_t goaways = 0;
  uint32_t last_goaway_id = 0;
  uint32_t goaway_error = 0;
  nghttp2_session* session() { return session_; }

 private:
  struct Upload {
    std::string body;
    size_t offset;
    std::string trailer;
  };
  static std::vector<nghttp2_nv> request_nv(const char* method, const std::string& path) {
    static std::string stored_path;
    auto nv = [](const char* n, const char* v, size_t vl) {
      return nghttp2_nv{(uint8_t*)n, (uint8_t*)v, strlen(n), vl, NGHTTP2_NV_FLAG_NONE};
    };
    std::vector<nghttp2_nv> out;
    out.push_back(nv(":method", method, strlen(method)));
    out.push_back(nv(":scheme", "https", 5));
    out.push_back(nv(":authority", "example.com", 11));
    // nghttp2 copies name/value during submit (NV_FLAG_NONE): a short-lived buffer is fine.
    stored_path = path;
    out.push_back(nv(":path", stored_path.c_str(), stored_path.size()));
    return out;
  }
  static ssize_t read_upload(nghttp2_session* session, int32_t stream_id, uint8_t* buf,
                             size_t length, uint32_t* flags, nghttp2_data_source* source, void*) {
    auto* u = static_cast<Upload*>(source->ptr);
    size_t n = std::min(length, u->body.size() - u->offset);
    std::memcpy(buf, u->body.data() + u->offset, n);
    u->offset += n;
    if (u->offset == u->body.size()) {
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      if (!u->trailer.empty()) {
        *flags |= NGHTTP2_DATA_FLAG_NO_END_STREAM;
        nghttp2_nv t{(uint8_t*)"x-checksum", (uint8_t*)u->trailer.data(), 10, u->trailer.size(),
                     NGHTTP2_NV_FLAG_NONE};
        nghttp2_submit_trailer(session, stream_id, &t, 1);
      }
    }
    return static_cast<ssize_t>(n);
  }
  static int on_header(nghttp2_session*, const nghttp2_frame* frame, const uint8_t* name,
                       size_t namelen, const uint8_t* value, size_t valuelen, uint8_t, void* user) {
    auto* self = static_cast<NgClient*>(user);
    int32_t id = frame->hd.type == NGHTTP2_PUSH_PROMISE ? frame->push_promise.promised_stream_id
                                                        : frame->hd.stream_id;
    std::string n(reinterpret_cast<const char*>(name), namelen);
    std::string v(reinterpret_cast<const char*>(value), valuelen);
    ClientStream& s = self->streams[id];
    if (frame->hd.type == NGHTTP2_PUSH_PROMISE) {
      s.promised_by = frame->hd.stream_id;
      s.headers["promise" + n] = v;
    } else if (n == ":status") {
      s.status = v;
    } else {
      s.headers[n] = v;
    }
    return 0;
  }
  static int on_data(nghttp2_session*, uint8_t, int32_t id, const uint8_t* data, size_t len,
                     void* user) {
    static_cast<NgClient*>(user)->streams[id].body.append(reinterpret_cast<const char*>(data), len);
    return 0;
  }
  static int on_close(nghttp2_session*, int32_t id, uint32_t code, void* user) {
    ClientStream& s = static_cast<NgClient*>(user)->streams[id];
    s.closed = true;
    s.close_code = code;
    return 0;
  }
  static int on_frame(nghttp2_session*, const nghttp2_frame* frame, void* user) {
    auto* self = static_cast<NgClient*>(user);
    if (frame->hd.type == NGHTTP2_GOAWAY) {
      ++self->goaways;
      self->last_goaway_id = frame->goaway.last_stream_id;
      self->goaway_error = frame->goaway.error_code;
    }
    return 0;
  }
  nghttp2_session* session_ = nullptr;
  std::map<int32_t, std::unique_ptr<Upload>> uploads_;
};

// Echoes request bodies (with the request trailer's checksum as a response trailer); answers
// GETs with a body sized by the path.
class EchoHandler : public TestHandler {
 public:
  EchoHandler() {
    respond = [](Reqd& r) {
      if (r.request().method == "GET") {
        size_t size = std::stoul(std::string(r.request().path.substr(1)));
        std::string body(size, 'g');
        for (size_t i = 0; i < size; ++i) body[i] = static_cast<char>('a' + i % 23);
        Field f[] = {{"content-type", "application/octet-stream"}};
        r.respond_with_string({200, f}, std::move(body));
        return;
      }
      auto reader = std::make_shared<BodyReader>();
      read(r, reader);
    };
  }

 private:
  static void read(Reqd r, std::shared_ptr<BodyReader> reader) {
    r.schedule_read(
        [r, reader](std::string_view d) {
          reader->body.append(d);
          read(r, reader);
        },
        [r, reader]() mutable {
          protocol::Writer w = r.respond_with_streaming({200, {}});
          w.write(reader->body);
          std::string sum = "none";
          for (const Field& t : r.request_trailers()) {
            if (t.name == "x-checksum") sum = std::string(t.value);
          }
          Field trailers[] = {{"x-echo-checksum", sum}};
          w.close_with_trailers(trailers);
        });
  }
};

TEST(Interop_Nghttp2Client, GetsAndEchoedPostsWithTrailers) {
  EchoHandler handler;
  protocol::ServerConnection server(&handler);
  NgClient client;
  std::vector<int32_t> gets, posts;
  for (int i = 0; i < 30; ++i) gets.push_back(client.get("/" + std::to_string(i * 997)));
  std::string big(200000, 'p');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>('A' + i % 26);
  for (int i = 0; i < 4; ++i) posts.push_back(client.post("/up", big, "sum" + std::to_string(i)));
  posts.push_back(client.post("/up", "small"));
  client.pump(server);
  for (size_t i = 0; i < gets.size(); ++i) {
    const ClientStream& s = client.streams[gets[i]];
    EXPECT_TRUE(s.closed);
    EXPECT_EQ(s.close_code, 0u);
    EXPECT_EQ(s.status, "200");
    EXPECT_EQ(s.body.size(), i * 997);
  }
  for (size_t i = 0; i < 4; ++i) {
    const ClientStream& s = client.streams[posts[i]];
    EXPECT_EQ(s.close_code, 0u);
    EXPECT_EQ(s.body, big);  // 200000 bytes each way through 65535-byte windows
    EXPECT_EQ(s.headers.at("x-echo-checksum"), "sum" + std::to_string(i));
  }
  EXPECT_EQ(client.streams[posts[4]].body, "small");
  EXPECT_EQ(client.streams[posts[4]].headers.at("x-echo-checksum"), "none");
  EXPECT_EQ(client.goaways, 0u);
  EXPECT_EQ(server.open_stream_count(), 0u);
}

TEST(Interop_Nghttp2Client, TinyClientWindowStillGetsWholeBodies) {
  EchoHandler handler;
  protocol::ServerConnection server(&handler);
  NgClient client(1000);
  int32_t a = client.get("/100000");
  int32_t b = client.get("/5000");
  client.pump(server);
  EXPECT_EQ(client.streams[a].body.size(), 100000u);
  EXPECT_EQ(client.streams[b].body.size(), 5000u);
  EXPECT_EQ(client.streams[a].close_code, 0u);
  EXPECT_EQ(client.goaways, 0u);
}

TEST(Interop_Nghttp2Client, ServerPushIsAccepted) {
  TestHandler handler;
  handler.respond = [](Reqd& r) {
    auto pushed = r.push("GET", "/style.css");
    ASSERT_EQ(pushed.result, Result::kOk);
    r.respond_with_string({200, {}}, "<html>");
    pushed.pushed.respond_with_string({200, {}}, "body{}");
  };
  protocol::ServerConnection server(&handler);
  NgClient client;
  int32_t id = client.get("/");
  client.pump(server);
  EXPECT_EQ(client.streams[id].body, "<html>");
  ASSERT_TRUE(client.streams.count(2));
  EXPECT_EQ(client.streams[2].promised_by, id);
  EXPECT_EQ(client.streams[2].headers.at("promise:path"), "/style.css");
  EXPECT_EQ(client.streams[2].body, "body{}");
  EXPECT_EQ(client.streams[2].close_code, 0u);
  EXPECT_EQ(client.goaways, 0u);
}

TEST(Interop_Nghttp2Client, GracefulShutdownCompletes) {
  TestHandler handler;
  handler.respond = nullptr;
  protocol::ServerConnection server(&handler);
  NgClient client;
  int32_t id = client.get("/");
  client.pump(server);
  server.start_graceful_shutdown(0);
  client.pump(server);  // nghttp2 answers our PING: the final GOAWAY follows
  EXPECT_EQ(client.goaways, 2u);
  EXPECT_EQ(client.last_goaway_id, uint32_t(id));
  EXPECT_EQ(client.goaway_error, 0u);
  EXPECT_FALSE(server.is_closed());
  handler.requests.at(0).respond_with_string({200, {}}, "last");
  client.pump(server);
  EXPECT_EQ(client.streams[id].body, "last");
  EXPECT_TRUE(server.is_closed());
}

}  // namespace
}  // namespace h2::test
