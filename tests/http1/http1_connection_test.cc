// http1/http1_connection.h through serve::ConnectionDriver, as every runtime drives it: a fake
// runtime with an injected clock gives bytes, time and write results; each test is one promise
// of the header (keep-alive, streamed bodies with backpressure, 100-continue, the limits, the
// h2c upgrade of RFC 7540 §3.2, the deadlines, draining, resets).
#include "http1/http1_connection.h"

#include <gtest/gtest.h>

#include "serve/router.h"
#include "tests/support/driver_support.h"
#include "tests/support/http_date.h"

namespace h2::http1 {
namespace {

using serve::ConnectionDriver;
using State = ConnectionDriver::State;

// Reads the whole request body, then answers it (or "empty").
class EchoHandler final : public serve::Handler {
 public:
  void handle(std::shared_ptr<serve::Exchange> exchange) override {
    read(std::make_shared<std::string>(), exchange);
  }
  void read(std::shared_ptr<std::string> body, std::shared_ptr<serve::Exchange> exchange) {
    ++reads;
    exchange->read_body(
        [this, body, exchange](std::string_view chunk) {
          body->append(chunk);
          read(body, exchange);
        },
        [body, exchange] {
          std::string trailer;
          for (const auto& field : exchange->request_trailers()) {
            trailer += std::string(field.name) + "=" + std::string(field.value) + ";";
          }
          exchange->respond_with_string({200, {}}, *body + trailer);
        });
  }
  int reads = 0;
};

// Keeps the exchange unanswered (a handler waiting for something else).
class HoldHandler final : public serve::Handler {
 public:
  void handle(std::shared_ptr<serve::Exchange> exchange) override {
    exchange->on_cancel([this] { ++cancelled; });
    held = std::move(exchange);
  }
  std::shared_ptr<serve::Exchange> held;
  int cancelled = 0;
};

class Http1Test : public ::testing::Test {
 protected:
  void SetUp() override {
    std::vector<serve::Router::Route> routes;
    routes.push_back(route("/echo", echo_));
    routes.push_back(route("/hold", hold_));
    routes.push_back(route("/", hello_, true));
    router_ = std::make_shared<serve::Router>(std::move(routes));
  }

  static serve::Router::Route route(std::string path, std::shared_ptr<serve::Handler> handler,
                                    bool prefix = false) {
    serve::RouteConfig config;
    config.path = std::move(path);
    config.is_prefix = prefix;
    config.module = "test";
    return serve::Router::Route{config, std::move(handler)};
  }

  std::shared_ptr<ConnectionDriver> make(serve::Protocols protocols = {true, true}) {
    serve::DriverPolicy policy;
    policy.protocols = protocols;
    policy.linger_ms = 500;
    policy.http1 = std::make_shared<Factory>(limits_);
    return std::make_shared<ConnectionDriver>(runtime_, router_, policy,
                                              serve::DriverPeer{"192.0.2.1:5000"}, runtime_.clock);
  }

  // What the driver has to write, all of it written; due work (on_time) run first.
  std::string take(ConnectionDriver& driver) {
    std::string out;
    for (int round = 0; round < 100; ++round) {
      const auto due = driver.next_wakeup_ms();
      if (due && *due <= runtime_.clock) driver.on_time(runtime_.clock);
      std::vector<std::string_view> views;
      driver.pending_output(views, SIZE_MAX);
      std::string bytes;
      for (auto v : views) bytes.append(v);
      if (bytes.empty() && !(due && *due <= runtime_.clock)) break;
      driver.on_written(bytes.size(), runtime_.clock);
      out += bytes;
    }
    return test::without_date(out);
  }

  test::FakeRuntime runtime_;
  Limits limits_;
  std::shared_ptr<test::BodyHandler> hello_ = std::make_shared<test::BodyHandler>("hello");
  std::shared_ptr<EchoHandler> echo_ = std::make_shared<EchoHandler>();
  std::shared_ptr<HoldHandler> hold_ = std::make_shared<HoldHandler>();
  std::shared_ptr<serve::Router> router_;
};

constexpr const char* kHello =
    "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 5\r\n\r\nhello";

TEST_F(Http1Test, PipelinedRequestsAreAnsweredInOrderOnOneConnection) {
  auto driver = make();
  driver->on_bytes("GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHo", runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHttp1);
  EXPECT_EQ(take(*driver), kHello);
  driver->on_bytes("st: x\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(hello_->requests, 2);
  EXPECT_EQ(driver->state(), State::kHttp1);  // keep-alive
  EXPECT_TRUE(driver->wants_read());
}

// Output made inside the runtime's call is pumped when the call returns: no wake() (a posted
// pump per response on Asio); output made outside (a posted task) wakes the runtime.
TEST_F(Http1Test, OnlyOutputFromOutsideTheRuntimesCallsWakesIt) {
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\nGET /hold HTTP/1.1\r\nHost: x\r\n\r\n",
                   runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(runtime_.wakes, 0);
  ASSERT_TRUE(hold_->held);
  hold_->held->respond_with_string({200, {}}, "late");
  EXPECT_EQ(runtime_.wakes, 1);
}

TEST_F(Http1Test, ChunkedBodyIsStreamedOnDemandWithItsTrailers) {
  auto driver = make();
  driver->on_bytes(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
      runtime_.clock);
  // The handler asked for a piece when it got the request; the piece came once its read_body()
  // had returned (never inside it), and the driver wants bytes only while the handler waits.
  EXPECT_EQ(echo_->reads, 2);
  EXPECT_EQ(take(*driver), "");
  EXPECT_TRUE(driver->wants_read());
  driver->on_bytes("4\r\ndefg\r\n0\r\nx-sum: 7\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*driver),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 15\r\n\r\nabcdefgx-sum=7;");
}

TEST_F(Http1Test, NothingIsReadAheadOfAHandlerThatHasNotAskedForTheBody) {
  auto driver = make();
  driver->on_bytes("POST /hold HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\nab",
                   runtime_.clock);
  ASSERT_TRUE(hold_->held);
  EXPECT_FALSE(driver->wants_read());
  bool got = false;
  hold_->held->read_body([&](std::string_view chunk) { got = chunk == "ab"; }, [] {});
  EXPECT_FALSE(got);  // not inline
  take(*driver);
  EXPECT_TRUE(got);
  EXPECT_FALSE(driver->wants_read());  // the handler has not asked again
}

TEST_F(Http1Test, ExpectContinueIsAnsweredBeforeTheBody) {
  auto driver = make();
  driver->on_bytes(
      "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
      "Expect: 100-continue\r\n\r\n",
      runtime_.clock);
  EXPECT_EQ(take(*driver), "HTTP/1.1 100 Continue\r\n\r\n");
  driver->on_bytes("xyz", runtime_.clock);
  EXPECT_EQ(take(*driver), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 3\r\n\r\nxyz");
}

TEST_F(Http1Test, BadRequestsGetTheirStatusAndTheConnectionLingers) {
  limits_.max_body_bytes = 10;
  limits_.max_header_fields = 4;
  const std::pair<const char*, const char*> cases[] = {
      {"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", "HTTP/1.1 413 "},
      {"GET / HTTP/1.1\r\nHost: x\r\na: 1\r\nb: 2\r\nc: 3\r\nd: 4\r\n\r\n", "HTTP/1.1 431 "},
      {"GET / HTTP/1.1\r\nHost x\r\n\r\n", "HTTP/1.1 400 "},
      {"GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
       "HTTP2-Settings: ***\r\n\r\n",
       "HTTP/1.1 400 "},
  };
  for (const auto& [request, status] : cases) {
    SCOPED_TRACE(request);
    auto driver = make();
    driver->on_bytes(request, runtime_.clock);
    EXPECT_EQ(take(*driver).substr(0, 13), status);
    EXPECT_EQ(driver->state(), State::kLingering);  // the answer, then close
  }
  EXPECT_EQ(hello_->requests, 0);
}

TEST_F(Http1Test, HeadOverMaxHeaderBytesGets431) {
  limits_.max_header_bytes = 64;
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\nx-long: " + std::string(100, 'a'), runtime_.clock);
  EXPECT_EQ(take(*driver).substr(0, 13), "HTTP/1.1 431 ");
  EXPECT_EQ(driver->state(), State::kLingering);
}

// Beast (1.81) consumes the whole field lines of an unfinished head and checks its limit per
// call: a client that always leaves one byte of the next line pending is bounded all the same.
TEST_F(Http1Test, AHeadSentLineByLineIsBoundedByMaxHeaderBytes) {
  limits_.max_header_bytes = 256;
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nx", runtime_.clock);
  for (int i = 0; i < 100 && driver->state() == State::kHttp1 && driver->wants_read(); ++i) {
    driver->on_bytes("-field-line: value\r\nx", runtime_.clock);
  }
  EXPECT_EQ(take(*driver).substr(0, 13), "HTTP/1.1 431 ");
  EXPECT_EQ(driver->state(), State::kLingering);
  EXPECT_EQ(hello_->requests, 0);
}

// A response can end without a last byte (close_body() after everything was written): the
// connection still moves on to the next request.
TEST_F(Http1Test, AResponseEndedWithoutALastByteLetsTheNextRequestIn) {
  auto driver = make();
  driver->on_bytes("GET /hold HTTP/1.1\r\nHost: x\r\n\r\nGET /a HTTP/1.1\r\nHost: x\r\n\r\n",
                   runtime_.clock);
  ASSERT_TRUE(hold_->held);
  const serve::HeaderField length[] = {{"content-length", "4"}};
  hold_->held->respond_streaming({200, length});
  hold_->held->write("late");
  EXPECT_EQ(take(*driver), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 4\r\n\r\nlate");
  EXPECT_EQ(hello_->requests, 0);
  hold_->held->close_body();  // from a posted task: no byte queued
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(hello_->requests, 1);
}

TEST_F(Http1Test, StreamedBodyOverTheLimitGets413) {
  limits_.max_body_bytes = 4;
  auto driver = make();
  driver->on_bytes(
      "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "3\r\nabc\r\n3\r\ndef\r\n",
      runtime_.clock);
  EXPECT_EQ(take(*driver).substr(0, 13), "HTTP/1.1 413 ");
  EXPECT_EQ(driver->state(), State::kLingering);
}

TEST_F(Http1Test, EarlyResponseWithAnUnreadBodyEndsInALingeringClose) {
  auto driver = make();
  driver->on_bytes("POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc",
                   runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(driver->state(), State::kLingering);
  EXPECT_TRUE(driver->wants_read());  // read and drop
  runtime_.clock += 500;
  driver->on_time(runtime_.clock);
  EXPECT_EQ(driver->state(), State::kClosed);
}

// RFC 7540 §3.2: 101, then the request is stream 1 of the HTTP/2 connection.
TEST_F(Http1Test, Rfc7540_3_2_UpgradeAnswers101ThenStream1OverHttp2) {
  auto driver = make();
  driver->on_bytes(
      "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
      runtime_.clock);
  std::vector<std::string_view> views;
  driver->pending_output(views, SIZE_MAX);
  ASSERT_EQ(views.size(), 1u);
  EXPECT_EQ(views[0],
            "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n");
  // The client's preface, sent right behind the request, waits for the 101 to be written.
  driver->on_bytes(
      std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9),
      runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHttp1);
  driver->on_written(views[0].size(), runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHttp2);
  const std::string out = take(*driver);
  EXPECT_NE(out.find(std::string("\0\0\5\0\1\0\0\0\1hello", 14)), std::string::npos)
      << "stream 1's DATA with END_STREAM";
  EXPECT_EQ(hello_->requests, 1);
}

// The runtime may read while a write is in flight: the "100 Continue" being written stays
// valid while the body arrives and the "101" is queued behind it (ASan checks the views).
TEST_F(Http1Test, OutputViewsSurviveMoreOutputQueuedBehindThem) {
  auto driver = make();
  driver->on_bytes(
      "POST /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nExpect: 100-continue\r\n"
      "Content-Length: 3\r\n\r\n",
      runtime_.clock);
  std::vector<std::string_view> views;
  driver->pending_output(views, SIZE_MAX);
  ASSERT_EQ(views.size(), 1u);
  driver->on_bytes("abc", runtime_.clock);  // the whole body: the 101 is queued
  EXPECT_EQ(views[0], "HTTP/1.1 100 Continue\r\n\r\n");
  driver->on_written(13, runtime_.clock);  // a partial write: "HTTP/1.1 100 "
  views.clear();
  driver->pending_output(views, SIZE_MAX);
  ASSERT_EQ(views.size(), 2u);
  EXPECT_EQ(views[0], "Continue\r\n\r\n");
  EXPECT_EQ(views[1].substr(0, 12), "HTTP/1.1 101");
  driver->on_written(views[0].size() + views[1].size(), runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHttp2);
}

// Only h2c is an upgrade here, and only with a body small enough to read before the 101:
// anything else is an ordinary request whose body is streamed (RFC 7540 §3.2 lets a server
// ignore an upgrade).
TEST_F(Http1Test, OtherUpgradesAndLargeBodiesAreServedOverHttp11) {
  limits_.max_upgrade_body_bytes = 16;
  auto websocket = make();
  websocket->on_bytes(
      "POST /hold HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
      "Connection: Upgrade\r\nContent-Length: 100000\r\n\r\nabc",
      runtime_.clock);
  ASSERT_TRUE(hold_->held);  // at once: the body is not read whole first
  EXPECT_FALSE(websocket->wants_read());

  auto large = make();
  large->on_bytes(
      "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\nContent-Length: 20\r\n\r\n"
      "01234567890123456789",
      runtime_.clock);
  EXPECT_EQ(take(*large),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 20\r\n\r\n01234567890123456789");
  EXPECT_EQ(large->state(), State::kHttp1);
}

// RFC 9110 §7.8 and §10.1.1: an HTTP/1.0 request's Upgrade and Expect are ignored.
TEST_F(Http1Test, Http10RequestsGetNeither101Nor100) {
  auto driver = make();
  driver->on_bytes(
      "GET /up HTTP/1.0\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
      runtime_.clock);
  EXPECT_EQ(take(*driver).substr(0, 13), "HTTP/1.1 200 ");
  auto expect = make();
  expect->on_bytes(
      "POST /echo HTTP/1.0\r\nHost: x\r\nContent-Length: 2\r\n"
      "Expect: 100-continue\r\n\r\n",
      runtime_.clock);
  EXPECT_EQ(take(*expect), "");
  expect->on_bytes("ok", runtime_.clock);
  EXPECT_EQ(take(*expect).substr(0, 13), "HTTP/1.1 200 ");
}

// A client that sends its request, its preface and a half-close at once: the EOF reaches the
// HTTP/2 core, which answers stream 1 and then closes.
TEST_F(Http1Test, APeerEofBeforeThe101IsCarriedIntoHttp2) {
  auto driver = make();
  driver->on_bytes(
      "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n" +
          std::string("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n") + std::string("\0\0\0\4\0\0\0\0\0", 9),
      runtime_.clock);
  driver->on_peer_eof(runtime_.clock, false);
  EXPECT_EQ(driver->state(), State::kHttp1);
  const std::string out = take(*driver);
  EXPECT_NE(out.find(std::string("\0\0\5\0\1\0\0\0\1hello", 14)), std::string::npos);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(Http1Test, UpgradeIsNotOfferedOnAnHttp1OnlyListener) {
  auto driver = make({/*http2=*/false, /*http1=*/true});
  driver->on_bytes(
      "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
      "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n",
      runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(driver->state(), State::kHttp1);
}

TEST_F(Http1Test, TheFirstHeadIsBoundedByPrefaceMsAndTheNextByIdleMs) {
  limits_.preface_ms = 100;
  limits_.idle_ms = 300;
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\n", runtime_.clock);  // a slow head
  runtime_.clock += 99;
  driver->on_time(runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHttp1);
  runtime_.clock += 1;
  driver->on_time(runtime_.clock);
  EXPECT_EQ(driver->state(), State::kClosed);

  auto second = make();
  second->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*second), kHello);
  EXPECT_EQ(*second->next_wakeup_ms(), runtime_.clock + 300);
  runtime_.clock += 300;
  second->on_time(runtime_.clock);
  EXPECT_EQ(second->state(), State::kClosed);
}

TEST_F(Http1Test, AHandlerThatNeverAnswersIsCutAtIdleMsAndHearsOnCancel) {
  limits_.idle_ms = 300;
  auto driver = make();
  driver->on_bytes("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  ASSERT_TRUE(hold_->held);
  runtime_.clock += 300;
  driver->on_time(runtime_.clock);
  EXPECT_EQ(driver->state(), State::kClosed);
  EXPECT_EQ(hold_->cancelled, 1);
}

TEST_F(Http1Test, OutputThatDoesNotMoveForWriteMsCloses) {
  limits_.write_ms = 200;
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  std::vector<std::string_view> views;
  ASSERT_GT(driver->pending_output(views, SIZE_MAX), 0u);
  driver->on_written(0, runtime_.clock);  // would block
  EXPECT_EQ(*driver->next_wakeup_ms(), runtime_.clock + 200);
  runtime_.clock += 200;
  driver->on_time(runtime_.clock);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(Http1Test, DrainClosesAnIdleConnectionAndFinishesARequestInProgress) {
  auto idle = make();
  idle->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*idle), kHello);
  idle->drain(runtime_.clock);
  EXPECT_EQ(idle->state(), State::kLingering);

  auto busy = make();
  busy->on_bytes("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  busy->drain(runtime_.clock);
  EXPECT_EQ(busy->state(), State::kHttp1);
  hold_->held->respond_with_string({200, {}}, "late");
  EXPECT_EQ(take(*busy), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 4\r\n\r\nlate");
  EXPECT_EQ(busy->state(), State::kLingering);
}

TEST_F(Http1Test, DrainDuringAHalfReceivedHeadServesThatRequest) {
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n", runtime_.clock);
  driver->drain(runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHttp1);
  driver->on_bytes("\r\n", runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(driver->state(), State::kLingering);
}

TEST_F(Http1Test, DrainBeforeTheFirstBytesServesOneRequest) {
  auto driver = make();
  driver->drain(runtime_.clock);
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  EXPECT_EQ(driver->state(), State::kLingering);
}

TEST_F(Http1Test, AHandlersResetClosesTheConnection) {
  auto driver = make();
  driver->on_bytes("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  hold_->held->reset(0);  // from outside the driver's calls (a posted task)
  EXPECT_GT(runtime_.wakes, 0);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(Http1Test, PeerEofBetweenRequestsClosesAndInsideAHeadToo) {
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*driver), kHello);
  driver->on_peer_eof(runtime_.clock, false);
  EXPECT_EQ(driver->state(), State::kClosed);

  auto partial = make();
  partial->on_bytes("GET / HTTP/1.1\r\nHo", runtime_.clock);
  partial->on_peer_eof(runtime_.clock, false);
  EXPECT_EQ(partial->state(), State::kClosed);
  EXPECT_EQ(hello_->requests, 1);
}

TEST_F(Http1Test, AHalfClosedClientStillGetsItsResponse) {
  auto driver = make();
  driver->on_bytes("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  driver->on_peer_eof(runtime_.clock, false);
  EXPECT_EQ(driver->state(), State::kHttp1);
  hold_->held->respond_with_string({200, {}}, "late");
  EXPECT_EQ(take(*driver), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 4\r\n\r\nlate");
  EXPECT_EQ(driver->state(), State::kClosed);  // the peer is gone: no linger
}

TEST_F(Http1Test, ModuleTimersRunFromOnTime) {
  hello_->delay_ms = 50;
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  EXPECT_EQ(take(*driver), "");
  EXPECT_EQ(*driver->next_wakeup_ms(), runtime_.clock + 50);
  runtime_.clock += 50;
  EXPECT_EQ(take(*driver), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 5\r\n\r\nlater");
}

TEST_F(Http1Test, DestroyingTheDriverCancelsTheExchangeInProgress) {
  auto driver = make();
  driver->on_bytes("GET /hold HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  driver.reset();
  EXPECT_EQ(hold_->cancelled, 1);
  EXPECT_EQ(hold_->held->respond_with_string({200, {}}, "late"), serve::ExchangeResult::kClosed);
}

}  // namespace
}  // namespace h2::http1
