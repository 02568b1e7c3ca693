// host/asio_connection.h: the Asio runtime driving the connection driver over an in-memory
// AsyncStream (Beast's test stream): split reads and writes, faults injected at every I/O
// operation, peer EOF, timeouts, HTTP/2 and HTTP/1.1. The core, HPACK, the HTTP/1.1 engine and
// the handler are the real ones.
#include "host/asio_connection.h"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <algorithm>
#include <chrono>
#include <functional>

#include "tests/host/session_test_support.h"
#include "tests/support/http_date.h"
// Beast's test stream is compiled with the rest of Beast in http1/boost_impl.cc
// (boost/beast/src.hpp).

namespace h2::host {
namespace {

using namespace ::h2::serve;  // the module-serving vocabulary the runtime serves

using test::Frame;
using test::H2Peer;
using test::Harness;
using Stream = boost::beast::test::stream;

void send(Stream& client, const std::string& bytes) {
  boost::asio::write(client, boost::asio::buffer(bytes));
}

std::shared_ptr<AsioConnection<Stream>> start(Harness& h, Stream server) {
  auto session = std::make_shared<AsioConnection<Stream>>(std::move(server), h.context());
  session->start();
  return session;
}

// Runs the session until every stream in `streams` ended (bounded: 30 s), collecting what the
// server wrote: a deadline, not a fixed run time, so slow machines and sanitizers only make it
// slower.
std::vector<Frame> frames_until_ended(Harness& h, H2Peer& peer, Stream& client,
                                      std::initializer_list<uint32_t> streams) {
  std::vector<Frame> frames;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  auto all_ended = [&] {
    for (uint32_t id : streams) {
      bool ended = false;
      H2Peer::response(frames, id, &ended);
      if (!ended) return false;
    }
    return true;
  };
  while (!all_ended() && std::chrono::steady_clock::now() < deadline) {
    h.run(20);
    auto more = peer.take(client);
    frames.insert(frames.end(), more.begin(), more.end());
  }
  return frames;
}

TEST(AsioConnection, GetWithOneByteReadsAndSevenByteWrites) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  server.read_size(1);   // every read returns one byte: frames arrive in pieces
  server.write_size(7);  // every write is partial
  start(h, std::move(server));
  H2Peer peer;
  // Encoded in order: the HPACK dynamic table depends on it.
  std::string input = peer.hello();
  input += peer.headers(1, "GET", "/a", true);
  input += peer.headers(3, "GET", "/b", true);
  send(client, input);
  const auto frames = frames_until_ended(h, peer, client, {1, 3});
  bool ended = false;
  EXPECT_EQ(H2Peer::response(frames, 1, &ended),
            std::make_pair(std::string("200"), std::string("hello /a")));
  EXPECT_TRUE(ended);
  EXPECT_EQ(H2Peer::response(frames, 3),
            std::make_pair(std::string("200"), std::string("hello /b")));
  ASSERT_FALSE(frames.empty());
  EXPECT_EQ(frames[0].type, 0x4);  // RFC 9113 §3.4: the server preface is a SETTINGS frame
  EXPECT_EQ(h.worker.session_count(), 1u);
}

TEST(AsioConnection, StreamingResponseWithFlushBackpressure) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  H2Peer peer;
  send(client, peer.hello() + peer.headers(1, "GET", "/stream", true));
  bool ended = false;
  EXPECT_EQ(H2Peer::response(frames_until_ended(h, peer, client, {1}), 1, &ended).second,
            "one,two,three");
  EXPECT_TRUE(ended);
  ASSERT_EQ(h.handler->flushes.size(), 1u);
  EXPECT_EQ(h.handler->flushes[0], FlushResult::kWritten);
}

TEST(AsioConnection, RequestBodyIsReadThroughTheExchange) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  server.read_size(5);
  start(h, std::move(server));
  H2Peer peer;
  const std::string body(40000, 'x');
  send(client, peer.hello() + peer.headers(1, "POST", "/echo", false) +
                   H2Peer::data(1, body.substr(0, 16384), false) +
                   H2Peer::data(1, body.substr(16384, 16384), false) +
                   H2Peer::data(1, body.substr(32768), true));
  const auto frames = frames_until_ended(h, peer, client, {1});  // read 5 bytes at a time
  bool ended = false;
  H2Peer::response(frames, 1, &ended);
  const std::string echoed = H2Peer::response(frames, 1).second;
  EXPECT_TRUE(ended);
  EXPECT_EQ(echoed.size(), body.size());
  EXPECT_TRUE(echoed == body);
}

TEST(AsioConnection, PeerEofCancelsOpenStreamsAndEndsTheSession) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  H2Peer peer;
  send(client, peer.hello() + peer.headers(1, "GET", "/hold", false));
  h.run_until([&] { return h.handler->requests == 1; });
  ASSERT_EQ(h.handler->requests, 1);
  client.close();  // the peer goes away with the stream open
  h.run_until([&] { return h.worker.session_count() == 0; });
  EXPECT_EQ(h.handler->cancelled, 1);
  EXPECT_EQ(h.worker.session_count(), 0u);
  ASSERT_EQ(h.handler->held.size(), 1u);
  EXPECT_TRUE(h.handler->held[0]->closed());
  EXPECT_EQ(h.handler->held[0]->respond_with_string({200, {}}, "late"), ExchangeResult::kClosed);
}

TEST(AsioConnection, PrefaceTimeoutClosesASilentConnection) {
  TimeoutConfig timeouts;
  timeouts.preface_ms = 20;
  Harness h(timeouts);
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  h.run_until([&] { return h.worker.session_count() == 0; });
  EXPECT_EQ(h.worker.session_count(), 0u);
}

TEST(AsioConnection, GracefulShutdownSendsGoawayAndCloses) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  auto session = start(h, std::move(server));
  H2Peer peer;
  send(client, peer.hello() + peer.headers(1, "GET", "/a", true));
  h.run();
  session->shutdown_gracefully();
  session.reset();
  // Draining waits until the connection was quiet for one check (100 ms) before the GOAWAY.
  std::vector<test::Frame> frames;
  auto is_goaway = [](const test::Frame& f) { return f.type == 0x7; };
  h.run_until([&] {
    auto more = peer.take(client);
    frames.insert(frames.end(), more.begin(), more.end());
    return std::any_of(frames.begin(), frames.end(), is_goaway);
  });
  const auto goaway = std::find_if(frames.begin(), frames.end(), is_goaway);
  ASSERT_NE(goaway, frames.end());
  EXPECT_EQ(goaway->payload.substr(0, 4), std::string("\x7f\xff\xff\xff", 4));  // RFC 9113 §6.8
}

// Fault injection: the n-th I/O operation of the server stream fails. Whatever n, the session
// must end cleanly (no crash, no leak: it unregisters), and a request that reached the handler
// is either answered or cancelled.
TEST(AsioConnection, EveryFailingOperationEndsTheSessionCleanly) {
  for (size_t n = 1; n <= 12; ++n) {
    SCOPED_TRACE("failing operation " + std::to_string(n));
    Harness h;
    boost::beast::test::fail_count fc(n);
    Stream server(h.ioc, fc), client(h.ioc);
    server.connect(client);
    server.read_size(16);
    start(h, std::move(server));
    H2Peer peer;
    std::string input = peer.hello();
    input += peer.headers(1, "GET", "/hold", false);
    input += peer.headers(3, "GET", "/a", true);
    send(client, input);
    h.run(100);  // the request and the faults' reach, as far as they go
    if (h.worker.session_count() != 0) {
      client.close();  // the fault was never reached: end the connection from the peer
      h.run_until([&] { return h.worker.session_count() == 0; });
    }
    EXPECT_EQ(h.worker.session_count(), 0u);
    EXPECT_EQ(h.handler->cancelled, static_cast<int>(h.handler->held.size()));
  }
}

// A user-supplied AsyncStream (the adapter is generic over any): reads come from a test stream,
// writes never complete - a peer that stopped reading. close() aborts the stalled write.
class StallingStream {
 public:
  using executor_type = boost::asio::any_io_executor;
  explicit StallingStream(Stream inner) : inner_(std::move(inner)) {}
  executor_type get_executor() { return inner_.get_executor(); }

  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    inner_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers&, Handler&& handler) {
    auto held = std::make_shared<std::decay_t<Handler>>(std::forward<Handler>(handler));
    stalled_ = [held, executor = get_executor()] {
      boost::asio::post(executor, [held] {
        (*held)(boost::system::error_code(boost::asio::error::operation_aborted), size_t{0});
      });
    };
    ++writes;
  }
  void close() {
    inner_.close();
    if (stalled_) std::exchange(stalled_, nullptr)();
  }
  int writes = 0;

 private:
  Stream inner_;
  std::function<void()> stalled_;
};

TEST(AsioConnection, WriteTimeoutClosesAConnectionWhosePeerStoppedReading) {
  TimeoutConfig timeouts;
  timeouts.write_ms = 40;
  Harness h(timeouts);
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  auto session = std::make_shared<AsioConnection<StallingStream>>(StallingStream(std::move(server)),
                                                                  h.context());
  session->start();
  H2Peer peer;
  send(client, peer.hello() + peer.headers(1, "GET", "/hold", true));
  session.reset();
  h.run(20);
  EXPECT_EQ(h.worker.session_count(), 1u);  // the SETTINGS write is stalled, not yet timed out
  h.run_until([&] { return h.worker.session_count() == 0; });
  EXPECT_EQ(h.worker.session_count(), 0u);
  EXPECT_EQ(h.handler->cancelled, static_cast<int>(h.handler->held.size()));
}

// Writes through a test stream, recording how many bytes each write_some was offered.
class RecordingStream {
 public:
  using executor_type = boost::asio::any_io_executor;
  explicit RecordingStream(Stream inner, std::vector<size_t>& offered)
      : inner_(std::move(inner)), offered_(&offered) {}
  executor_type get_executor() { return inner_.get_executor(); }
  template <class Buffers, class Handler>
  void async_read_some(const Buffers& buffers, Handler&& handler) {
    inner_.async_read_some(buffers, std::forward<Handler>(handler));
  }
  template <class Buffers, class Handler>
  void async_write_some(const Buffers& buffers, Handler&& handler) {
    offered_->push_back(boost::asio::buffer_size(buffers));
    inner_.async_write_some(buffers, std::forward<Handler>(handler));
  }
  void close() { inner_.close(); }

 private:
  Stream inner_;
  std::vector<size_t>* offered_;
};

// Output ready beyond 64 KiB goes to the stream in one write_some (one sendmsg on a socket),
// not in 64 KiB pieces (Asio's default for async_write): each write wakes the reader.
TEST(AsioConnection, ReadyOutputIsOfferedInWritesLargerThan64KiB) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  std::vector<size_t> offered;
  auto session = std::make_shared<AsioConnection<RecordingStream>>(
      RecordingStream(std::move(server), offered), h.context());
  session->start();
  H2Peer peer;
  // RFC 9113 §6.5.2 / §6.9: a 1 MiB stream window and 1 MiB more for the connection.
  const std::string big_window("\x00\x04\x00\x10\x00\x00", 6);  // INITIAL_WINDOW_SIZE
  const std::string increment("\x00\x10\x00\x00", 4);             // WINDOW_UPDATE 1 MiB
  send(client, std::string(test::kPreface) + test::frame(0x4, 0, 0, big_window) +
                   test::frame(0x4, 0x1, 0, "") + test::frame(0x8, 0, 0, increment) +
                   peer.headers(1, "GET", "/big", true));
  bool ended = false;
  const auto frames = frames_until_ended(h, peer, client, {1});
  EXPECT_EQ(H2Peer::response(frames, 1, &ended).second.size(), size_t{200 << 10});
  EXPECT_TRUE(ended);
  ASSERT_FALSE(offered.empty());
  EXPECT_GT(*std::max_element(offered.begin(), offered.end()), size_t{64 << 10});
  EXPECT_LE(offered.size(), 3u);  // the SETTINGS, then the response in one or two writes
}

// HTTP/1.1 through the same connection: the driver's engine (http1/http1_connection.h).
TEST(AsioConnection, Http1KeepAliveWithThreeByteReads) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  server.read_size(3);
  start(h, std::move(server));
  send(client, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  h.run_until([&] { return client.str().find("hello /b") != std::string::npos; });
  EXPECT_EQ(h2::test::without_date(client.str()),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-type: text/plain\r\ncontent-length: 8\r\n"
            "\r\nhello /aHTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-type: text/plain\r\n"
            "content-length: 8\r\n\r\nhello /b");
  EXPECT_EQ(h.worker.session_count(), 1u);  // still open: keep-alive
}

// A connection lives until it closes, whatever is pending: while a handler holds an HTTP/1.1
// request the connection reads nothing, writes nothing and may have no deadline, and nothing
// but itself owns it (the worker's deadline heap holds no reference). It answers later.
TEST(AsioConnection, Http1ConnectionOutlivesAHandlerThatAnswersLater) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  send(client, "GET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
  h.run_until([&] { return !h.handler->held.empty(); });
  ASSERT_EQ(h.handler->held.size(), 1u);
  EXPECT_EQ(h.worker.session_count(), 1u);
  EXPECT_EQ(h.handler->cancelled, 0);
  h.handler->held[0]->respond_with_string({200, {}}, "later");
  h.handler->held.clear();
  h.run_until([&] { return client.str().find("later") != std::string::npos; });
  EXPECT_EQ(h2::test::without_date(client.str()),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 5\r\n\r\nlater");
}

TEST(AsioConnection, Http1ChunkedRequestBodyIsDecoded) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  send(client,
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  h.run_until([&] { return client.str().find("abcdefg") != std::string::npos; });
  EXPECT_EQ(h2::test::without_date(client.str()),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 7\r\n\r\nabcdefg");
}

TEST(AsioConnection, Http1EveryFailingOperationEndsTheConnectionCleanly) {
  for (size_t n = 1; n <= 8; ++n) {
    SCOPED_TRACE("failing operation " + std::to_string(n));
    Harness h;
    boost::beast::test::fail_count fc(n);
    Stream server(h.ioc, fc), client(h.ioc);
    server.connect(client);
    server.read_size(8);
    start(h, std::move(server));
    send(client, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /hold HTTP/1.1\r\nHost: x\r\n\r\n");
    h.run();
    // The first request takes 4 reads and a write: a later failure comes after its answer.
    if (n >= 6) {
      EXPECT_NE(client.str().find("hello /a"), std::string::npos);
    }
    if (h.worker.session_count() != 0) {
      client.close();
      h.run_until([&] { return h.worker.session_count() == 0; });
    }
    // A held exchange is cancelled once the connection is gone.
    if (h.worker.session_count() != 0) {
      for (auto& ex : h.handler->held) ex->respond_with_string({200, {}}, "late");
      h.run();
    }
    EXPECT_EQ(h.handler->cancelled + (h.worker.session_count() == 0 ? 0 : 1),
              static_cast<int>(h.handler->held.size()));
  }
}

}  // namespace
}  // namespace h2::host
