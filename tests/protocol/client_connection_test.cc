// protocol::ClientConnection against our own ServerConnection in memory (two sans-I/O cores
// pumping bytes into each other), and against scripted hostile servers (FrameBuilder bytes).
// Suites are named after the RFC sections they check.
#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hpack/encoder.h"
#include "protocol/client_connection.h"
#include "protocol/server_connection.h"
#include "support/frame_builder.h"

namespace h2::protocol {
namespace {

using test::FrameBuilder;

// What the client saw of one stream.
struct Seen {
  std::vector<uint16_t> informational;
  int status = 0;
  std::map<std::string, std::string> fields;
  std::string body;
  std::map<std::string, std::string> trailers;
  bool closed = false;
  ClientStreamEnd end = ClientStreamEnd::kCompleted;
  ErrorCode code = ErrorCode::kNoError;
  bool retryable = false;
  bool ended_at_head = false;  // response_ended() inside on_response
};

struct Recorder : ClientHandler {
  std::map<uint32_t, Seen> by_id;  // keyed by the stream's id when it closed / got events
  std::vector<Seen> closed_unsent;
  std::vector<uint64_t> ping_acks;
  std::vector<ClientStream> pushes;
  bool accept_push = false;
  std::optional<ErrorCode> connection_closed;
  std::optional<uint32_t> goaway_last;
  int writable_calls = 0;

  Seen& at(ClientStream& s) { return by_id[s.id()]; }
  void on_informational(ClientStream& s, uint16_t status, std::span<const Field>) override {
    at(s).informational.push_back(status);
  }
  void on_response(ClientStream& s, uint16_t status, std::span<const Field> fields) override {
    at(s).status = status;
    at(s).ended_at_head = s.response_ended();
    for (const Field& f : fields) at(s).fields[std::string(f.name)] = std::string(f.value);
  }
  void on_data(ClientStream& s, std::string_view data) override {
    at(s).body += data;
    if (consume_in_on_data) s.consume(data.size());
  }
  bool consume_in_on_data = false;
  void on_trailers(ClientStream& s, std::span<const Field> fields) override {
    for (const Field& f : fields) at(s).trailers[std::string(f.name)] = std::string(f.value);
  }
  void on_writable(ClientStream&) override { ++writable_calls; }
  // What an event-driven embedder sees when told: does the connection have output?
  ClientConnection* conn = nullptr;
  std::vector<bool> output_ready_had_output;
  void on_output_ready() override {
    output_ready_had_output.push_back(conn != nullptr && conn->wants_write());
  }
  void on_stream_closed(ClientStream& s, ClientStreamEnd end, ErrorCode code,
                        bool retryable) override {
    Seen& seen = s.id() ? at(s) : closed_unsent.emplace_back();
    EXPECT_FALSE(seen.closed) << "on_stream_closed twice for stream " << s.id();
    seen.closed = true;
    seen.end = end;
    seen.code = code;
    seen.retryable = retryable;
  }
  bool on_push_promise(ClientStream&, ClientStream& promised, std::span<const Field>) override {
    pushes.push_back(promised);
    return accept_push;
  }
  void on_goaway(uint32_t last, ErrorCode, std::string_view) override { goaway_last = last; }
  void on_ping_ack(uint64_t opaque) override { ping_acks.push_back(opaque); }
  void on_connection_closed(ErrorCode code, std::string_view) override { connection_closed = code; }
};

// A small origin: /hello, /echo (body back, request trailers reflected as response trailers),
// /early (103 then 200), /refuse (RST_STREAM REFUSED_STREAM), /big (1 MiB), /push (pushes /p).
struct Origin : RequestHandler {
  ServerConnection* conn = nullptr;
  // schedule_read delivers one chunk per call (reqd.h): read again until the end, then answer
  // with the body and the request's trailers plus x-length.
  static void read_then_echo(Reqd r, std::shared_ptr<std::string> body) {
    r.schedule_read(
        [r, body](std::string_view c) {
          body->append(c);
          read_then_echo(r, body);
        },
        [r, body]() mutable {
          Writer w = r.respond_with_streaming(Response{200, {}});
          w.write(*body);
          const std::string length = std::to_string(body->size());
          std::vector<Field> t;
          for (const Field& f : r.request_trailers()) t.push_back(f);
          t.push_back({"x-length", length});  // the views need to outlive the call only
          w.close_with_trailers(t);
        });
  }
  std::vector<Reqd> held;  // /hold: answered by the test
  void on_request(Reqd& reqd) override {
    const std::string path(reqd.request().path);
    Response ok{200, {}};
    if (path == "/hello") {
      static const Field fields[] = {{"content-type", "text/plain"}, {"content-length", "5"}};
      reqd.respond_with_string(Response{200, fields}, "hello");
    } else if (path == "/echo") {
      read_then_echo(reqd, std::make_shared<std::string>());
    } else if (path == "/early") {
      reqd.respond_informational(Response{103, {}});
      reqd.respond_with_string(ok, "late");
    } else if (path == "/refuse") {
      reqd.reset(ErrorCode::kRefusedStream);
    } else if (path == "/big") {
      reqd.respond_with_string(ok, std::string(1 << 20, 'b'));
    } else if (path == "/push") {
      PushResult p = reqd.push("GET", "/p");
      if (p.result == Result::kOk) p.pushed.respond_with_string(ok, "pushed");
      reqd.respond_with_string(ok, "parent");
    } else if (path == "/hold") {
      held.push_back(reqd);
    } else {
      reqd.respond_with_string(Response{404, {}}, "");
    }
  }
};

// Moves bytes both ways until neither side has anything to say. `chunk` splits every write.
struct Pair {
  Origin origin;
  Recorder recorder;
  ConnectionOptions server_options;
  ClientOptions client_options;
  std::unique_ptr<ServerConnection> server;
  std::unique_ptr<ClientConnection> client;
  size_t chunk = 1 << 20;
  uint64_t now = 1000;

  void start() {
    server = std::make_unique<ServerConnection>(&origin, server_options, now);
    origin.conn = server.get();
    client = std::make_unique<ClientConnection>(&recorder, client_options, now);
    recorder.conn = client.get();
  }
  static bool move(auto& from, auto& to, size_t chunk, uint64_t now) {
    std::vector<std::string_view> views;
    size_t n = from.pending_output(views, chunk);
    if (n == 0) return false;
    std::string bytes;
    for (auto v : views) bytes.append(v);
    from.consume_output(n);
    to.process_bytes(bytes, now);
    return true;
  }
  void pump() {
    for (int i = 0; i < 100000; ++i) {
      bool a = move(*client, *server, chunk, now);
      bool b = move(*server, *client, chunk, now);
      if (!a && !b) return;
    }
    FAIL() << "pump did not settle";
  }
  ClientStream get(std::string_view path) {
    return client->submit({"GET", "https", "example.com", path}, true);
  }
};

TEST(Rfc9113_8_1, GetWithResponseFieldsAndBody) {
  Pair p;
  p.start();
  ClientStream s = p.get("/hello");
  p.pump();
  const Seen& seen = p.recorder.by_id[1];
  EXPECT_EQ(s.id(), 1u);
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(seen.fields.at("content-type"), "text/plain");
  EXPECT_EQ(seen.body, "hello");
  EXPECT_TRUE(seen.closed);
  EXPECT_EQ(seen.end, ClientStreamEnd::kCompleted);
  EXPECT_TRUE(s.ended());
  EXPECT_TRUE(p.client->settings_received());
  EXPECT_EQ(p.client->open_stream_count(), 0u);
}

TEST(Rfc9113_6_9, StreamedBodyAndTrailersBothWaysThroughSmallWindows) {
  for (size_t chunk : {size_t{1} << 20, size_t{7}}) {
    Pair p;
    p.server_options.initial_stream_window = 1000;  // the request body must wait for credit
    p.server_options.connection_window = 65535;
    p.client_options.initial_stream_window = 2000;  // and so must the response
    p.client_options.connection_window = 65535;
    p.chunk = chunk;
    p.start();
    p.pump();  // SETTINGS both ways: our server holds a stream to its 1000-byte window at once
    ClientStream s = p.client->submit({"POST", "https", "example.com", "/echo"}, false);
    std::string sent;
    for (int i = 0; i < 50; ++i) {
      std::string piece(997, static_cast<char>('a' + i % 26));
      sent += piece;
      EXPECT_EQ(s.write(piece), ClientResult::kOk);
    }
    const Field trailers[] = {{"x-checksum", "abc"}};
    EXPECT_EQ(s.end(trailers), ClientResult::kOk);
    EXPECT_EQ(s.write("late"), ClientResult::kAlreadyEnded);
    p.pump();
    const Seen& seen = p.recorder.by_id[1];
    EXPECT_EQ(seen.status, 200) << client_stream_end_name(seen.end) << " "
                                << error_code_name(seen.code) << " closed " << seen.closed
                                << " buffered " << s.buffered_bytes();
    EXPECT_TRUE(seen.body == sent) << "chunk " << chunk << ": " << seen.body.size() << " of "
                                   << sent.size() << " bytes";
    EXPECT_EQ(seen.trailers.at("x-checksum"), "abc");
    EXPECT_EQ(seen.trailers.at("x-length"), std::to_string(sent.size()));
    EXPECT_EQ(seen.end, ClientStreamEnd::kCompleted);
  }
}

// RFC 9113 §6.5.3 / §6.9.2: a smaller SETTINGS_INITIAL_WINDOW_SIZE of the server binds the client
// only once the client acknowledged it; a client that starts an upload at once may use the
// default 65,535-byte window (our server used to answer that with FLOW_CONTROL_ERROR).
TEST(Rfc9113_6_9, UploadBeforeTheServersSettingsMayUseTheDefaultWindow) {
  Pair p;
  p.server_options.initial_stream_window = 1000;
  p.start();
  ClientStream s = p.client->submit({"POST", "https", "example.com", "/echo"}, false);
  const std::string body(60000, 'u');
  ASSERT_EQ(s.write(body), ClientResult::kOk);
  ASSERT_EQ(s.end(), ClientResult::kOk);
  p.pump();  // preface, HEADERS and 60,000 bytes of DATA reach the server before its SETTINGS
  const Seen& seen = p.recorder.by_id[1];
  EXPECT_EQ(seen.end, ClientStreamEnd::kCompleted) << error_code_name(seen.code);
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(seen.body.size(), body.size());
}

TEST(Rfc9113_6_9, ManualCreditStopsTheServerAtTheWindow) {
  Pair p;
  p.client_options.initial_stream_window = 16384;
  p.start();
  ClientStream s = p.get("/big");
  s.pause_credit(true);
  p.pump();
  const Seen& seen = p.recorder.by_id[1];
  EXPECT_EQ(seen.body.size(), 16384u);  // the window, then nothing until we give credit
  EXPECT_FALSE(seen.closed);
  for (int i = 0; i < 200 && !seen.closed; ++i) {
    s.consume(16384);
    p.pump();
  }
  EXPECT_EQ(seen.body.size(), size_t{1} << 20);
  EXPECT_TRUE(seen.closed);
}

// A handler that forwards each chunk at once (a proxy whose client is ready) consumes it from
// inside on_data: that credit must reach the server, or the stream stalls at the first window.
TEST(Rfc9113_6_9, ManualCreditConsumedInsideOnDataReachesTheServer) {
  Pair p;
  p.client_options.initial_stream_window = 16384;
  p.recorder.consume_in_on_data = true;
  p.start();
  ClientStream s = p.get("/big");
  s.pause_credit(true);
  for (int i = 0; i < 200 && !p.recorder.by_id[1].closed; ++i) p.pump();
  const Seen& seen = p.recorder.by_id[1];
  EXPECT_EQ(seen.body.size(), size_t{1} << 20);
  EXPECT_TRUE(seen.closed);
}

// The contract of on_output_ready (client_connection.h): it comes when a Stream call made outside
// a driving call queued output. A loop that, told, finds !wants_write() makes no driving call;
// a notice for a write that had to wait for window would then use up the one notice per batch,
// and the WINDOW_UPDATE of a later consume() would never be sent (the proxy's upload stalled).
TEST(ClientConnection, OutputReadyOnlyWhenThereIsOutputSoALaterCreditIsAnnounced) {
  Pair p;
  p.server_options.initial_stream_window = 16384;  // the upload's window
  p.client_options.initial_stream_window = 16384;  // the download's window
  p.start();
  ClientStream upload = p.client->submit({"POST", "https", "example.com", "/hold"}, false);
  ClientStream download = p.get("/big");
  download.pause_credit(true);
  upload.write(std::string(16384, 'u'));
  p.pump();
  ASSERT_EQ(p.recorder.by_id[3].body.size(), 16384u);
  ASSERT_FALSE(p.client->wants_write());
  p.recorder.output_ready_had_output.clear();

  upload.write("beyond the window");  // waits in the stream: nothing to send
  download.consume(16384);            // a WINDOW_UPDATE to send
  EXPECT_TRUE(p.client->wants_write());
  ASSERT_EQ(p.recorder.output_ready_had_output.size(), 1u);
  EXPECT_TRUE(p.recorder.output_ready_had_output[0]);
}

// A head that carries END_STREAM (a 404 with no body here; a gRPC trailers-only answer) is
// known to be the whole response inside on_response, so a proxy can relay it as one HEADERS
// frame with END_STREAM; a head followed by DATA is not.
TEST(ClientConnection, ResponseEndedIsKnownInOnResponseWhenTheHeadEndsTheStream) {
  Pair p;
  p.start();
  ClientStream missing = p.get("/missing");
  ClientStream hello = p.get("/hello");
  p.pump();
  EXPECT_EQ(p.recorder.by_id[1].status, 404);
  EXPECT_TRUE(p.recorder.by_id[1].ended_at_head);
  EXPECT_EQ(p.recorder.by_id[3].status, 200);
  EXPECT_FALSE(p.recorder.by_id[3].ended_at_head);
  EXPECT_TRUE(hello.response_ended());  // after its END_STREAM
}

TEST(Rfc8297, EarlyHintsThenTheResponse) {
  Pair p;
  p.start();
  p.get("/early");
  p.pump();
  const Seen& seen = p.recorder.by_id[1];
  EXPECT_EQ(seen.informational, std::vector<uint16_t>{103});
  EXPECT_EQ(seen.status, 200);
  EXPECT_EQ(seen.body, "late");
}

TEST(Rfc9113_8_7, RefusedStreamIsRetryable) {
  Pair p;
  p.start();
  p.get("/refuse");
  p.get("/hello");
  p.pump();
  EXPECT_EQ(p.recorder.by_id[1].end, ClientStreamEnd::kResetByPeer);
  EXPECT_EQ(p.recorder.by_id[1].code, ErrorCode::kRefusedStream);
  EXPECT_TRUE(p.recorder.by_id[1].retryable);
  EXPECT_EQ(p.recorder.by_id[3].body, "hello");  // the connection goes on
}

TEST(Rfc9113_5_1_2, RequestsBeyondMaxConcurrentStreamsWaitTheirTurn) {
  Pair p;
  p.server_options.max_concurrent_streams = 2;
  p.start();
  p.pump();  // the server's SETTINGS first (before them we assume 100, and it would refuse 5)
  std::vector<ClientStream> streams;
  for (int i = 0; i < 7; ++i) streams.push_back(p.get("/hold"));
  p.pump();
  EXPECT_EQ(p.client->open_stream_count(), 2u);
  EXPECT_EQ(p.client->queued_request_count(), 5u);
  EXPECT_EQ(p.origin.held.size(), 2u);
  size_t answered = 0;
  while (answered < p.origin.held.size()) {
    p.origin.held[answered++].respond_with_string(Response{200, {}}, "ok");
    p.pump();
  }
  EXPECT_EQ(answered, 7u);
  for (uint32_t id = 1; id <= 13; id += 2) {
    EXPECT_EQ(p.recorder.by_id[id].body, "ok") << id;
    EXPECT_TRUE(p.recorder.by_id[id].closed) << id;
  }
}

// RFC 7541 §6.2.3: a field the caller marked sensitive is never indexed, also when its request
// waited in the queue (the head is copied there) and in trailers.
TEST(Rfc7541_6_2_3, SensitiveFieldsStayNeverIndexedThroughTheQueue) {
  Pair p;
  p.server_options.max_concurrent_streams = 1;
  p.start();
  p.pump();
  p.get("/hold");
  const Field secret[] = {{"x-api-key", "secret-value", true}};
  ClientStream queued = p.client->submit({"GET", "https", "example.com", "/hello", secret}, true);
  EXPECT_EQ(queued.id(), 0u);  // waiting for the slot
  p.pump();
  ASSERT_EQ(queued.id(), 0u);
  p.origin.held.at(0).respond_with_string(Response{200, {}}, "ok");
  Pair::move(*p.server, *p.client, 1 << 20, p.now);  // stream 1 ends: stream 3 is sent now
  ASSERT_EQ(queued.id(), 3u);
  // Its HEADERS carry the field as a never-indexed literal (0x10, then the name and value
  // strings), the same bytes a fresh encoder gives for it (they do not depend on the table).
  std::string never_indexed;
  hpack::Encoder fresh;
  const hpack::HeaderField field[] = {{"x-api-key", "secret-value", true}};
  fresh.encode(field, never_indexed);
  ASSERT_EQ(static_cast<uint8_t>(never_indexed[0]), 0x10);
  std::vector<std::string_view> views;
  std::string bytes;
  const size_t n = p.client->pending_output(views, 1 << 20);
  for (auto v : views) bytes.append(v);
  p.client->consume_output(n);
  EXPECT_NE(bytes.find(never_indexed), std::string::npos);
}

TEST(Rfc9113_6_8, GoawayRefusesWhatTheServerNeverProcessed) {
  Pair p;
  p.server_options.max_concurrent_streams = 1;
  p.start();
  p.pump();
  p.get("/hold");
  p.get("/hold");  // queued behind the first
  p.pump();
  p.server->start_graceful_shutdown(p.now);
  p.pump();
  ASSERT_EQ(p.origin.held.size(), 1u);
  p.origin.held[0].respond_with_string(Response{200, {}}, "first");
  p.pump();
  EXPECT_EQ(p.recorder.by_id[1].body, "first");
  EXPECT_EQ(p.recorder.by_id[1].end, ClientStreamEnd::kCompleted);
  ASSERT_EQ(p.recorder.closed_unsent.size(), 1u);  // never got an id
  EXPECT_EQ(p.recorder.closed_unsent[0].end, ClientStreamEnd::kRefusedByGoaway);
  EXPECT_TRUE(p.recorder.closed_unsent[0].retryable);
  EXPECT_TRUE(p.client->goaway_received());
  ClientResult r;
  ClientStream after = p.client->submit({"GET", "https", "a", "/"}, true, &r);
  EXPECT_EQ(r, ClientResult::kConnectionClosed);
  EXPECT_TRUE(after.ended());
}

TEST(Rfc9113_6_7, PingIsAcknowledged) {
  Pair p;
  p.start();
  p.client->ping(0x1122334455667788);
  p.pump();
  EXPECT_EQ(p.recorder.ping_acks, std::vector<uint64_t>{0x1122334455667788});
}

TEST(Rfc9113_8_4, PushAcceptedOrRefused) {
  for (bool accept : {true, false}) {
    Pair p;
    p.client_options.enable_push = true;
    p.recorder.accept_push = accept;
    p.start();
    p.get("/push");
    p.pump();
    ASSERT_EQ(p.recorder.pushes.size(), 1u);
    EXPECT_EQ(p.recorder.by_id[1].body, "parent");
    if (accept) {
      EXPECT_EQ(p.recorder.by_id[2].status, 200);
      EXPECT_EQ(p.recorder.by_id[2].body, "pushed");
      EXPECT_TRUE(p.recorder.by_id[2].closed);
    } else {
      EXPECT_EQ(p.recorder.by_id.count(2), 0u);
    }
  }
}

TEST(Rfc9113_8_4, PushIsOffByDefaultSoTheServerDoesNotPush) {
  Pair p;
  p.start();
  p.get("/push");
  p.pump();
  EXPECT_TRUE(p.recorder.pushes.empty());
  EXPECT_EQ(p.recorder.by_id[1].body, "parent");
}

TEST(Rfc9113_8_2, InvalidRequestsAreRefusedBeforeSending) {
  Pair p;
  p.start();
  const Field upper[] = {{"X-Upper", "1"}};
  const Field conn[] = {{"connection", "close"}};
  ClientResult r;
  p.client->submit({"GET", "https", "a", "/", upper}, true, &r);
  EXPECT_EQ(r, ClientResult::kInvalidArgument);
  p.client->submit({"GET", "https", "a", "/", conn}, true, &r);
  EXPECT_EQ(r, ClientResult::kInvalidArgument);
  p.client->submit({"GET", "", "a", "/"}, true, &r);
  EXPECT_EQ(r, ClientResult::kInvalidArgument);
  p.pump();
  EXPECT_EQ(p.client->open_stream_count(), 0u);
}

TEST(Rfc9113_6_8, StreamResetByUsAndContainedExceptions) {
  struct Thrower : Recorder {
    void on_response(ClientStream&, uint16_t, std::span<const Field>) override {
      throw std::runtime_error("handler bug");
    }
  };
  Pair p;
  p.start();
  Thrower t;
  ClientConnection client(&t, {}, p.now);
  ServerConnection server(&p.origin, {}, p.now);
  client.submit({"GET", "https", "a", "/hello"}, true);
  for (int i = 0; i < 10; ++i) {
    Pair::move(client, server, 1 << 20, p.now);
    Pair::move(server, client, 1 << 20, p.now);
  }
  EXPECT_EQ(client.callback_exceptions(), 1u);
  EXPECT_EQ(t.by_id[1].end, ClientStreamEnd::kResetByUs);
  EXPECT_EQ(t.by_id[1].code, ErrorCode::kInternalError);
  // reset() of a held request: RST_STREAM(CANCEL) reaches the server, its handler hears it.
  ClientStream s = p.get("/hold");
  p.pump();
  EXPECT_EQ(s.reset(), ClientResult::kOk);
  p.pump();
  EXPECT_EQ(p.recorder.by_id[1].end, ClientStreamEnd::kResetByUs);
  ASSERT_EQ(p.origin.held.size(), 1u);
  EXPECT_TRUE(p.origin.held[0].is_closed());
}

TEST(ClientConnection, DestructionEndsOpenStreamsWithCallbacks) {
  Pair p;
  p.start();
  p.get("/hold");
  p.pump();
  p.client.reset();
  EXPECT_EQ(p.recorder.by_id[1].end, ClientStreamEnd::kConnectionEnded);
  EXPECT_EQ(p.recorder.connection_closed, ErrorCode::kCancel);
}

// ---- a hostile or broken server: scripted bytes ----

struct Scripted {
  Recorder recorder;
  ClientOptions options;
  std::unique_ptr<ClientConnection> client;
  std::string sent;  // everything the client wrote
  void start() { client = std::make_unique<ClientConnection>(&recorder, options, 0); }
  void feed(std::string_view bytes) {
    client->process_bytes(bytes, 0);
    std::vector<std::string_view> views;
    size_t n = client->pending_output(views, 1 << 24);
    for (auto v : views) sent.append(v);
    client->consume_output(n);
  }
  static std::string status_block(std::initializer_list<std::pair<std::string_view, std::string_view>> f) {
    return FrameBuilder::literal_block(f);
  }
};

TEST(Rfc9113_8_1_1, ContentLengthMismatchIsAStreamError) {
  Scripted t;
  t.start();
  t.client->submit({"GET", "https", "a", "/"}, true);
  FrameBuilder b;
  b.settings().headers(1, Scripted::status_block({{":status", "200"}, {"content-length", "3"}}))
      .data(1, "toolong", true);
  t.feed(b.view());
  EXPECT_EQ(t.recorder.by_id[1].end, ClientStreamEnd::kProtocolError);
  EXPECT_EQ(t.recorder.by_id[1].code, ErrorCode::kProtocolError);
}

TEST(Rfc9113_8_3_2, MalformedResponseHeadsAreStreamErrors) {
  for (auto block : {Scripted::status_block({{"server", "x"}}),                    // no :status
                     Scripted::status_block({{":status", "200"}, {":path", "/"}}),  // request pseudo
                     Scripted::status_block({{":status", "101"}}),
                     Scripted::status_block({{":status", "200"}, {"connection", "close"}}),
                     Scripted::status_block({{":status", "200"}, {"Upper", "x"}})}) {
    Scripted t;
    t.start();
    t.client->submit({"GET", "https", "a", "/"}, true);
    t.client->submit({"GET", "https", "a", "/"}, true);
    FrameBuilder b;
    b.settings().headers(1, block).headers(3, Scripted::status_block({{":status", "204"}}),
                                           flags::kEndHeaders | flags::kEndStream);
    t.feed(b.view());
    EXPECT_EQ(t.recorder.by_id[1].end, ClientStreamEnd::kProtocolError);
    EXPECT_EQ(t.recorder.by_id[3].status, 204);  // other streams go on
    EXPECT_EQ(t.recorder.by_id[3].end, ClientStreamEnd::kCompleted);
  }
}

TEST(Rfc9113_8_4, PushPromiseWithPushDisabledIsAConnectionError) {
  Scripted t;
  t.start();
  t.client->submit({"GET", "https", "a", "/"}, true);
  FrameBuilder b;
  b.settings().push_promise(1, 2, Scripted::status_block({{":method", "GET"}, {":path", "/x"}}));
  t.feed(b.view());
  EXPECT_EQ(t.recorder.connection_closed, ErrorCode::kProtocolError);
  EXPECT_EQ(t.recorder.by_id[1].end, ClientStreamEnd::kConnectionEnded);
  EXPECT_NE(t.sent.find(std::string("\x07\x00\x00\x00\x00\x00", 6)), std::string::npos);  // GOAWAY
}

TEST(ClientDefenses, ContinuationFloodIsCut) {
  Scripted t;
  t.start();
  t.client->submit({"GET", "https", "a", "/"}, true);
  FrameBuilder b;
  b.settings().headers(1, "", 0);
  for (int i = 0; i < 20; ++i) b.continuation(1, "", false);
  t.feed(b.view());
  EXPECT_EQ(t.recorder.connection_closed, ErrorCode::kEnhanceYourCalm);
}

TEST(ClientDefenses, OversizedResponseHeadResetsOnlyItsStream) {
  Scripted t;
  t.options.max_header_list_size = 1000;
  t.start();
  t.client->submit({"GET", "https", "a", "/"}, true);
  t.client->submit({"GET", "https", "a", "/"}, true);
  std::string big(2000, 'v');
  FrameBuilder b;
  b.settings()
      .headers(1, Scripted::status_block({{":status", "200"}, {"x-big", big}}))
      .headers(3, Scripted::status_block({{":status", "200"}}),
               flags::kEndHeaders | flags::kEndStream);
  t.feed(b.view());
  EXPECT_EQ(t.recorder.by_id[1].end, ClientStreamEnd::kHeaderListTooLarge);
  EXPECT_EQ(t.recorder.by_id[3].end, ClientStreamEnd::kCompleted);
}

TEST(ClientDefenses, PingFloodWithoutReadingIsCut) {
  Scripted t;
  t.options.max_queued_control_frames = 50;
  t.start();
  FrameBuilder b;
  b.settings();
  for (int i = 0; i < 100; ++i) b.ping(i);
  t.client->process_bytes(b.view(), 0);  // output never pulled: the ACKs pile up
  EXPECT_EQ(t.recorder.connection_closed, ErrorCode::kEnhanceYourCalm);
}

TEST(Rfc9113_6_5_3, UnacknowledgedSettingsTimeOut) {
  Scripted t;
  t.options.settings_ack_timeout_ms = 100;
  t.start();
  ASSERT_EQ(t.client->next_wakeup_ms(), 100u);
  t.client->on_time(99);
  EXPECT_FALSE(t.recorder.connection_closed);
  t.client->on_time(100);
  EXPECT_EQ(t.recorder.connection_closed, ErrorCode::kSettingsTimeout);
}

}  // namespace
}  // namespace h2::protocol
