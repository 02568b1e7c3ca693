// host/exchange.h "Lifetime": once an exchange is closed - completed normally too - the host
// destroys the module callbacks it still holds (on_cancel, a pending read), so a handler that
// captures its own exchange in them (a reference cycle) does not leak it; and a callback that
// holds the last reference is destroyed only after the exchange stopped using itself. Both
// exchange types (H2Exchange, and Http1Exchange through the driver's HTTP/1.1 engine) via
// AsioConnection over Beast's test stream with the real core; live exchanges are counted with
// weak_ptrs.
#include <gtest/gtest.h>

#include <algorithm>
#include <boost/asio/write.hpp>

#include "host/asio_connection.h"
#include "tests/host/session_test_support.h"

namespace h2::host {
namespace {

using namespace ::h2::serve;  // the module-serving vocabulary the runtime serves

using test::H2Peer;
using Stream = boost::beast::test::stream;

// Every exchange registers on_cancel with a callback owning the exchange (the cycle), then:
//   /string          answers with a string
//   /stream          streams two pieces and closes the body
//   /read-then-answer reads the whole body, then answers
//   /answer-then-read answers, then keeps reading the body (a read left pending)
//   /reset-later     lets go of every other reference; a timer resets the stream through a raw
//                    pointer, so the cancel callback holds the last reference during reset()
class CyclicHandler final : public Handler {
 public:
  void handle(std::shared_ptr<Exchange> ex) override {
    exchanges.push_back(ex);
    const std::string path(ex->path());
    ex->on_cancel([ex] { (void)ex; });
    if (path == "/string") {
      ex->respond_with_string({200, {}}, "string");
    } else if (path == "/stream") {
      ex->respond_streaming({200, {}});
      ex->write("one,");
      ex->flush([ex](FlushResult) {
        ex->write("two");
        ex->close_body();
      });
    } else if (path == "/read-then-answer") {
      read_all(ex, [ex] { ex->respond_with_string({200, {}}, "read"); });
    } else if (path == "/answer-then-read") {
      ex->respond_with_string({200, {}}, "answered");
      read_all(ex, [] {});
    } else if (path == "/reset-later") {
      Exchange* raw = ex.get();
      raw->schedule(1, [raw] { raw->reset(8); });  // CANCEL
    }
  }

  size_t live() const {
    return std::count_if(exchanges.begin(), exchanges.end(),
                         [](const std::weak_ptr<Exchange>& w) { return !w.expired(); });
  }

  std::vector<std::weak_ptr<Exchange>> exchanges;

 private:
  static void read_all(std::shared_ptr<Exchange> ex, std::function<void()> done) {
    ex->read_body([ex, done](std::string_view) { read_all(ex, done); }, [done] { done(); });
  }
};

struct LifetimeHarness {
  LifetimeHarness() {
    auto s = std::make_shared<Snapshot>();
    RouteConfig route;
    route.path = "/";
    route.is_prefix = true;
    route.module = "cyclic";
    handler = std::make_shared<CyclicHandler>();
    s->router = std::make_shared<Router>(std::vector<Router::Route>{{route, handler}});
    s->http1 = make_http1_factory(s->config);
    snapshot = s;
  }
  ConnectionContext context() { return ConnectionContext{snapshot, &worker, "test-peer", false}; }
  void run(int ms = 100) {
    ioc.restart();
    ioc.run_for(std::chrono::milliseconds(ms));
  }
  // Connections live on ioc and register with worker (its deadlines on ioc too): the
  // destructor ends them while the worker is alive (it must outlive its connections).
  ~LifetimeHarness() {
    test::end_sessions(worker, ioc);
  }
  boost::asio::io_context ioc;
  Worker worker{0, ioc};
  std::shared_ptr<CyclicHandler> handler;
  std::shared_ptr<const Snapshot> snapshot;
};

void send(Stream& client, const std::string& bytes) {
  boost::asio::write(client, boost::asio::buffer(bytes));
}

TEST(ExchangeLifetime, H2ExchangesAreFreedWhenTheirStreamsCompleteNormally) {
  LifetimeHarness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  auto session = std::make_shared<AsioConnection<Stream>>(std::move(server), h.context());
  session->start();
  H2Peer peer;
  std::string input = peer.hello();
  input += peer.headers(1, "GET", "/string", true);
  input += peer.headers(3, "GET", "/stream", true);
  input += peer.headers(5, "POST", "/read-then-answer", false);
  input += H2Peer::data(5, "body", true);
  send(client, input);
  h.run();
  const auto frames = peer.take(client);
  bool ended = false;
  EXPECT_EQ(H2Peer::response(frames, 1, &ended).second, "string");
  EXPECT_TRUE(ended);
  EXPECT_EQ(H2Peer::response(frames, 3, &ended).second, "one,two");
  EXPECT_TRUE(ended);
  EXPECT_EQ(H2Peer::response(frames, 5, &ended).second, "read");
  EXPECT_TRUE(ended);
  ASSERT_EQ(h.handler->exchanges.size(), 3u);
  // The connection is still open (no GOAWAY, no EOF): the streams' completion alone freed them.
  EXPECT_EQ(h.worker.session_count(), 1u);
  EXPECT_EQ(h.handler->live(), 0u);
}

TEST(ExchangeLifetime, H2ResetWhileTheCancelCallbackHoldsTheLastReference) {
  LifetimeHarness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  auto session = std::make_shared<AsioConnection<Stream>>(std::move(server), h.context());
  session->start();
  H2Peer peer;
  std::string input = peer.hello();
  input += peer.headers(1, "GET", "/reset-later", true);  // HPACK: encoded in order
  input += peer.headers(3, "GET", "/string", true);
  send(client, input);
  h.run();
  const auto frames = peer.take(client);
  const auto rst = std::find_if(frames.begin(), frames.end(),
                                [](const test::Frame& f) { return f.type == 0x3; });
  ASSERT_NE(rst, frames.end());  // RST_STREAM(1, CANCEL), RFC 9113 §6.4
  EXPECT_EQ(rst->stream, 1u);
  EXPECT_EQ(rst->payload, std::string("\0\0\0\x08", 4));
  EXPECT_EQ(H2Peer::response(frames, 3).second, "string");  // the connection goes on
  EXPECT_EQ(h.handler->live(), 0u);
}

TEST(ExchangeLifetime, H2ExchangeStillOpenIsKeptThenFreedOnCancel) {
  LifetimeHarness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  auto session = std::make_shared<AsioConnection<Stream>>(std::move(server), h.context());
  session->start();
  H2Peer peer;
  // The body never ends: the exchange is open, its callbacks must stay.
  send(client, peer.hello() + peer.headers(1, "POST", "/read-then-answer", false) +
                   H2Peer::data(1, "part", false));
  test::run_loop_until(h.ioc, [&] { return h.handler->live() == 1; });
  EXPECT_EQ(h.handler->live(), 1u);
  // RST_STREAM(1, CANCEL) from the peer: on_cancel runs, then the cycle is gone.
  send(client, test::frame(0x3, 0, 1, std::string("\0\0\0\x08", 4)));
  test::run_loop_until(h.ioc, [&] { return h.handler->live() == 0; });
  EXPECT_EQ(h.handler->live(), 0u);
}

void start_http1(LifetimeHarness& h, Stream server) {
  std::make_shared<AsioConnection<Stream>>(std::move(server), h.context())->start();
}

TEST(ExchangeLifetime, Http1ExchangeIsFreedAfterItsResponseOnAKeptAliveConnection) {
  LifetimeHarness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start_http1(h, std::move(server));
  send(client, "GET /string HTTP/1.1\r\nHost: x\r\n\r\nGET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  test::run_loop_until(h.ioc, [&] { return client.str().find("two") != std::string::npos; });
  EXPECT_NE(client.str().find("string"), std::string::npos);
  EXPECT_NE(client.str().find("two"), std::string::npos);
  EXPECT_EQ(h.worker.session_count(), 1u);  // keep-alive: still open
  ASSERT_EQ(h.handler->exchanges.size(), 2u);
  EXPECT_EQ(h.handler->live(), 0u);
}

TEST(ExchangeLifetime, Http1PendingReadIsDroppedWhenTheResponseCompletes) {
  LifetimeHarness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start_http1(h, std::move(server));
  // 10 body bytes announced, 4 sent: the handler's read stays pending after its answer.
  send(client, "POST /answer-then-read HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabcd");
  test::run_loop_until(h.ioc, [&] { return client.str().find("answered") != std::string::npos; });
  EXPECT_NE(client.str().find("answered"), std::string::npos);
  ASSERT_EQ(h.handler->exchanges.size(), 1u);
  EXPECT_EQ(h.handler->live(), 0u);
}

TEST(ExchangeLifetime, Http1ResetWhileTheCancelCallbackHoldsTheLastReference) {
  LifetimeHarness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start_http1(h, std::move(server));
  send(client, "GET /reset-later HTTP/1.1\r\nHost: x\r\n\r\n");
  test::run_loop_until(h.ioc, [&] { return h.worker.session_count() == 0; });
  EXPECT_EQ(client.str(), "");  // reset() on HTTP/1.1 closes the connection
  EXPECT_EQ(h.worker.session_count(), 0u);
  EXPECT_EQ(h.handler->live(), 0u);
}

}  // namespace
}  // namespace h2::host
