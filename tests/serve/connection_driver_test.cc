// serve/connection_driver.h: the serving policy every runtime shares, driven here by a fake
// runtime with an injected clock and a real client core (protocol::ClientConnection) on the
// other end. Each test is one promise of the header's contract.
#include "serve/connection_driver.h"

#include <gtest/gtest.h>

#include "protocol/client_connection.h"
#include "serve/router.h"
#include "tests/support/driver_support.h"

namespace h2::serve {
namespace {

using State = ConnectionDriver::State;

using test::FakeRuntime;
using HelloHandler = test::BodyHandler;
using Client = test::RecordingClient;

class DriverTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RouteConfig config;
    config.path = "/";
    config.is_prefix = true;
    config.module = "hello";
    router_ = std::make_shared<Router>(std::vector<Router::Route>{Router::Route{config, handler_}});
  }

  std::shared_ptr<ConnectionDriver> make(DriverPolicy policy = {}) {
    return std::make_shared<ConnectionDriver>(runtime_, router_, policy,
                                              DriverPeer{"192.0.2.1:5000"}, runtime_.clock);
  }

  // Moves bytes both ways until neither side has output.
  void shuttle(ConnectionDriver& driver, protocol::ClientConnection& client) {
    for (int round = 0; round < 50; ++round) {
      std::vector<std::string_view> views;
      std::string bytes;
      client.pending_output(views, SIZE_MAX);
      for (auto v : views) bytes.append(v);
      client.consume_output(bytes.size());
      if (!bytes.empty()) driver.on_bytes(bytes, runtime_.clock);
      views.clear();
      std::string back;
      driver.pending_output(views, SIZE_MAX);
      for (auto v : views) back.append(v);
      driver.on_written(back.size(), runtime_.clock);
      if (!back.empty()) client.process_bytes(back, runtime_.clock);
      if (bytes.empty() && back.empty()) return;
    }
  }

  // The client's queued bytes (its preface and request) given to the driver, nothing back.
  void send_only(ConnectionDriver& driver, protocol::ClientConnection& client) {
    std::vector<std::string_view> views;
    std::string bytes;
    client.pending_output(views, SIZE_MAX);
    for (auto v : views) bytes.append(v);
    client.consume_output(bytes.size());
    driver.on_bytes(bytes, runtime_.clock);
  }

  void get(protocol::ClientConnection& client) { test::submit_get(client); }

  FakeRuntime runtime_;
  std::shared_ptr<HelloHandler> handler_ = std::make_shared<HelloHandler>("hello");
  std::shared_ptr<Router> router_;
  Client client_handler_;
};

TEST_F(DriverTest, ThePrefaceStartsHttp2AndARequestIsServed) {
  auto driver = make();
  EXPECT_EQ(driver->state(), State::kSniffing);
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  EXPECT_EQ(driver->state(), State::kHttp2);
  EXPECT_EQ(client_handler_.status, 200);
  EXPECT_EQ(client_handler_.body, "hello");
  EXPECT_FALSE(driver->wants_write());
}

TEST_F(DriverTest, AnHttp1RequestLineIsHandedBackWithEveryByteRead) {
  auto driver = make();
  driver->on_bytes("GET / HTTP/1.1\r\n", runtime_.clock);
  EXPECT_EQ(driver->state(), State::kHandOff);
  driver->on_bytes("Host: x\r\n\r\n", runtime_.clock);  // read before the runtime took over
  EXPECT_FALSE(driver->wants_read());
  EXPECT_EQ(driver->next_wakeup_ms(), std::nullopt);
  EXPECT_EQ(driver->take_sniffed(), "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
}

TEST_F(DriverTest, H2OnlyListenerGivesEveryByteToTheCore) {
  DriverPolicy policy;
  policy.protocols.http1 = false;
  auto driver = make(policy);
  EXPECT_EQ(driver->state(), State::kHttp2);
  // Not a preface: the core answers GOAWAY(PROTOCOL_ERROR), RFC 9113 §3.4, and closes.
  driver->on_bytes("GET / HTTP/1.1\r\n\r\n", runtime_.clock);
  std::vector<std::string_view> views;
  std::string out;
  driver->pending_output(views, SIZE_MAX);
  for (auto v : views) out.append(v);
  driver->on_written(out.size(), runtime_.clock);
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  client.process_bytes(out, runtime_.clock);
  EXPECT_TRUE(client_handler_.goaway);
  EXPECT_NE(driver->state(), State::kHttp2);  // the core is done: lingering or closed
}

TEST_F(DriverTest, ASilentConnectionClosesAtThePrefaceDeadline) {
  DriverPolicy policy;
  policy.preface_ms = 500;
  auto driver = make(policy);
  EXPECT_EQ(driver->next_wakeup_ms(), runtime_.clock + 500);
  driver->on_time(runtime_.clock + 499);
  EXPECT_EQ(driver->state(), State::kSniffing);
  driver->on_time(runtime_.clock + 500);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(DriverTest, APartialPrefaceAlsoTimesOut) {
  DriverPolicy policy;
  policy.preface_ms = 500;
  policy.protocols.http1 = false;
  auto driver = make(policy);
  driver->on_bytes("PRI * HTTP/2.0\r\n", runtime_.clock);
  EXPECT_EQ(driver->next_wakeup_ms(), runtime_.clock + 500);
  driver->on_time(runtime_.clock + 500);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(DriverTest, OutputThatIsNeverWrittenClosesAtTheWriteDeadline) {
  DriverPolicy policy;
  policy.write_ms = 300;
  auto driver = make(policy);
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  send_only(*driver, client);
  std::vector<std::string_view> views;
  ASSERT_GT(driver->pending_output(views, SIZE_MAX), 0u);
  driver->on_written(0, runtime_.clock);  // would block
  EXPECT_EQ(driver->next_wakeup_ms(), runtime_.clock + 300);
  driver->on_time(runtime_.clock + 299);
  EXPECT_EQ(driver->state(), State::kHttp2);
  driver->on_time(runtime_.clock + 300);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(DriverTest, WrittenBytesMoveTheWriteDeadline) {
  DriverPolicy policy;
  policy.write_ms = 300;
  auto driver = make(policy);
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  send_only(*driver, client);
  std::vector<std::string_view> views;
  ASSERT_GT(driver->pending_output(views, SIZE_MAX), 1u);
  runtime_.clock += 200;
  driver->on_written(1, runtime_.clock);  // progress: the deadline starts again
  views.clear();
  driver->pending_output(views, SIZE_MAX);
  driver->on_time(runtime_.clock + 299);
  EXPECT_EQ(driver->state(), State::kHttp2);
}

TEST_F(DriverTest, AModuleTimerRunsAtItsTimeAndWakesTheRuntime) {
  handler_->delay_ms = 50;
  auto driver = make();
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  EXPECT_EQ(handler_->requests, 1);
  EXPECT_EQ(client_handler_.status, 0);
  EXPECT_GE(runtime_.wakes, 1);  // set from inside a driving call too: the runtime re-arms
  ASSERT_TRUE(driver->next_wakeup_ms().has_value());
  EXPECT_LE(*driver->next_wakeup_ms(), runtime_.clock + 50);
  runtime_.clock += 49;
  driver->on_time(runtime_.clock);
  shuttle(*driver, client);
  EXPECT_EQ(client_handler_.status, 0);
  runtime_.clock += 1;
  driver->on_time(runtime_.clock);
  shuttle(*driver, client);
  EXPECT_EQ(client_handler_.status, 200);
  EXPECT_EQ(client_handler_.body, "later");
}

TEST_F(DriverTest, DrainingSendsGoawayOnceQuietThenLingersUntilEof) {
  auto driver = make();
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  driver->drain(runtime_.clock);
  EXPECT_FALSE(client_handler_.goaway);
  // Quiet for one check (100 ms): GOAWAY (RFC 9113 §6.8), sent in two steps by the core.
  for (int i = 0; i < 40 && driver->state() == State::kHttp2; ++i) {
    runtime_.clock = std::max(runtime_.clock + 1, driver->next_wakeup_ms().value_or(0));
    driver->on_time(runtime_.clock);
    shuttle(*driver, client);
  }
  EXPECT_TRUE(client_handler_.goaway);
  EXPECT_EQ(driver->state(), State::kLingering);
  EXPECT_TRUE(driver->wants_read());
  driver->on_bytes("dropped", runtime_.clock);
  driver->on_peer_eof(runtime_.clock, false);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(DriverTest, ALingerEndsAtItsDeadlineWithoutEof) {
  DriverPolicy policy;
  policy.linger_ms = 700;
  auto driver = make(policy);
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  driver->drain(runtime_.clock);
  for (int i = 0; i < 40 && driver->state() == State::kHttp2; ++i) {
    runtime_.clock = std::max(runtime_.clock + 1, driver->next_wakeup_ms().value_or(0));
    driver->on_time(runtime_.clock);
    shuttle(*driver, client);
  }
  ASSERT_EQ(driver->state(), State::kLingering);
  EXPECT_EQ(driver->next_wakeup_ms(), runtime_.clock + 700);
  driver->on_time(runtime_.clock + 700);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(DriverTest, DrainingBeforeTheFirstBytesServesTheRequestOnItsWayThenGoaway) {
  auto driver = make();
  driver->drain(runtime_.clock);  // the client connected just before the listeners closed
  EXPECT_EQ(driver->state(), State::kSniffing);
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  EXPECT_EQ(client_handler_.status, 200);  // served, not cut off
  for (int i = 0; i < 40 && driver->state() == State::kHttp2; ++i) {
    runtime_.clock = std::max(runtime_.clock + 1, driver->next_wakeup_ms().value_or(0));
    driver->on_time(runtime_.clock);
    shuttle(*driver, client);
  }
  EXPECT_TRUE(client_handler_.goaway);
  EXPECT_EQ(driver->state(), State::kLingering);
}

TEST_F(DriverTest, DrainingASilentConnectionEndsAtThePrefaceDeadline) {
  DriverPolicy policy;
  policy.preface_ms = 300;
  auto driver = make(policy);
  driver->drain(runtime_.clock);
  driver->on_time(runtime_.clock + 300);
  EXPECT_EQ(driver->state(), State::kClosed);
}

TEST_F(DriverTest, AfterThePeersEofTheEndNeedsNoLinger) {
  auto driver = make();
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  driver->on_peer_eof(runtime_.clock, false);
  for (int i = 0; i < 10 && driver->state() == State::kHttp2; ++i) shuttle(*driver, client);
  EXPECT_EQ(driver->state(), State::kClosed);  // not kLingering: no EOF left to wait for
}

TEST_F(DriverTest, APeerResetClosesWithoutLingering) {
  auto driver = make();
  protocol::ClientConnection client(&client_handler_, {}, runtime_.clock);
  get(client);
  shuttle(*driver, client);
  driver->on_peer_eof(runtime_.clock, /*failed=*/true);
  EXPECT_EQ(driver->state(), State::kClosed);
  EXPECT_FALSE(driver->wants_read());
}

}  // namespace
}  // namespace h2::serve
