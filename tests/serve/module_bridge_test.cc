// The SDK bridge (host/sdk_bridge.h) end to end: a real module (tests/sdk/modules/probe.cc,
// built on h2/module.hpp) loaded with dlopen, called through the C ABI with an in-process
// Exchange. Covers config access, the request head, failures mapped to 500 / RST_STREAM and
// capabilities HTTP/1.1 cannot express.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "serve/module_registry.h"
#include "serve/sdk_bridge.h"
#include "tests/serve/module_fake_exchange.h"

namespace h2::serve {
namespace {

using test::FakeExchange;

class ProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModuleStatus s = registry_.load_file(std::string(H2_TEST_MODULE_DIR) + "/h2_test_probe.so");
    ASSERT_TRUE(s.ok()) << s.message;
    ConfigValue module = ConfigValue::make_map({"m.yaml", 1, 1});
    module.insert("greeting", ConfigValue::make_string("hi", {"m.yaml", 2, 13}));
    module.insert("n", ConfigValue::make_int(-7));
    ConfigValue list = ConfigValue::make_list();
    list.push_back(ConfigValue::make_bool(false));
    list.push_back(ConfigValue());
    module.insert("l", std::move(list));
    ASSERT_TRUE(registry_.init_module("probe", module).ok());
  }

  std::shared_ptr<Handler> handler(const std::string& mode) {
    ConfigValue route = ConfigValue::make_map({"routes.yaml", 4, 7});
    route.insert("mode", ConfigValue::make_string(mode, {"routes.yaml", 5, 13}));
    HandlerResult r = registry_.create_handler("probe", route);
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    return r.handler;
  }

  std::vector<std::string> log_;
  ModuleRegistry registry_{
      [this](ModuleLogLevel, std::string_view line) { log_.emplace_back(line); }};
};

TEST_F(ProbeTest, SeesTheRequestHeadAndBothConfigs) {
  auto ex = std::make_shared<FakeExchange>(
      "GET", "/x?q=1", FakeExchange::Fields{{"x-test", "yes"}, {"accept", "*/*"}});
  handler("info")->handle(ex);
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->header("x-probe"), "1");
  EXPECT_EQ(ex->body,
            "method=GET\npath=/x?q=1\nauthority=example.test\nversion=2\nx-test=yes\n"
            "headers=2\nmodule={greeting:'hi',n:-7,l:[false,null]}\n"
            "route={mode:'info'}\nroute_where=routes.yaml:4:7\n");
  EXPECT_EQ(log_.back(), "probe: served /x?q=1");
}

TEST_F(ProbeTest, ThrowBeforeTheHeadAnswers500AndLogs) {
  auto ex = std::make_shared<FakeExchange>("GET", "/boom");
  handler("throw")->handle(ex);
  EXPECT_EQ(ex->status, 500);
  EXPECT_EQ(ex->body, "500 internal server error\n");
  EXPECT_FALSE(ex->was_reset);
  EXPECT_EQ(log_.back(),
            "probe: handler failed on GET /boom: probe failure before the head (answered 500)");
}

TEST_F(ProbeTest, ThrowAfterTheHeadResetsWithInternalError) {
  auto ex = std::make_shared<FakeExchange>("GET", "/boom2");
  handler("throw-after-head")->handle(ex);
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->body, "partial");
  EXPECT_TRUE(ex->was_reset);
  EXPECT_EQ(ex->reset_code, 0x2u);  // RFC 9113 §7 INTERNAL_ERROR
  EXPECT_EQ(log_.back(),
            "probe: handler failed on GET /boom2: probe failure after the head "
            "(stream reset with INTERNAL_ERROR)");
}

TEST_F(ProbeTest, ThrowInsideACallbackIsCaughtAndAnswered500) {
  auto ex = std::make_shared<FakeExchange>("POST", "/cb");
  ex->end_body();
  handler("throw-in-callback")->handle(ex);
  EXPECT_EQ(ex->status, 0);  // nothing yet: the read is pending
  ex->run();
  EXPECT_EQ(ex->status, 500);
  EXPECT_EQ(log_.back(),
            "probe: handler failed on POST /cb: probe failure in on_eof (answered 500)");
}

TEST_F(ProbeTest, PushOverHttp2RespondsToThePushedStream) {
  auto ex = std::make_shared<FakeExchange>("GET", "/page");
  handler("push")->handle(ex);
  EXPECT_EQ(ex->body, "push: ok");
  ASSERT_EQ(ex->pushed.size(), 1u);
  EXPECT_EQ(ex->pushed_paths[0], "/pushed.css");
  EXPECT_EQ(ex->pushed[0]->status, 200);
  EXPECT_EQ(ex->pushed[0]->body, "body{}");
}

TEST_F(ProbeTest, PushIsAResultValueNotAnErrorWhenRefusedOrUnsupported) {
  auto refused = std::make_shared<FakeExchange>("GET", "/page");
  refused->set_push_allowed(false);
  handler("push")->handle(refused);
  EXPECT_EQ(refused->body, "push: refused");

  auto h1 =
      std::make_shared<FakeExchange>("GET", "/page", FakeExchange::Fields{}, HttpVersion::kHttp11);
  handler("push")->handle(h1);
  EXPECT_EQ(h1->status, 200);
  EXPECT_EQ(h1->body, "push: unsupported");
}

TEST_F(ProbeTest, EarlyHints) {
  auto ex = std::make_shared<FakeExchange>("GET", "/");
  handler("early-hints")->handle(ex);
  EXPECT_EQ(ex->informational, std::vector<int>{103});
  EXPECT_EQ(ex->body, "103: ok");
}

TEST_F(ProbeTest, HandleOnAClosedExchangeOnlyLogs) {
  auto ex = std::make_shared<FakeExchange>("GET", "/gone");
  ex->peer_reset();
  handler("throw")->handle(ex);
  EXPECT_EQ(ex->status, 0);
  EXPECT_EQ(log_.back(),
            "probe: handler failed on GET /gone: probe failure before the head "
            "(exchange already closed)");
}

// h2/abi.h: every callback runs exactly once, with "cancelled" when the event cannot happen.
TEST_F(ProbeTest, CallbacksRunExactlyOnceAndDropsBecomeCancellations) {
  auto ex = std::make_shared<FakeExchange>("POST", "/wait");
  handler("wait")->handle(ex);
  log_.clear();
  ex->drop_callbacks();  // the connection went away: read + timer + cancel dropped
  EXPECT_EQ(log_, (std::vector<std::string>{"probe: read cancelled"}));
  ex->run();
  EXPECT_EQ(log_.size(), 1u);  // the dropped timer never fires
}

TEST_F(ProbeTest, PeerResetRunsOnCancelOnce) {
  auto ex = std::make_shared<FakeExchange>("POST", "/wait");
  handler("wait")->handle(ex);
  log_.clear();
  ex->peer_reset();
  EXPECT_EQ(log_, (std::vector<std::string>{"probe: read cancelled", "probe: cancel"}));
}

TEST_F(ProbeTest, ReadsAndTimersDeliverInOrder) {
  auto ex = std::make_shared<FakeExchange>("POST", "/wait");
  ex->add_body("abc");
  handler("wait")->handle(ex);
  log_.clear();
  ex->run();
  EXPECT_EQ(log_, (std::vector<std::string>{"probe: chunk abc", "probe: timer fired"}));
  EXPECT_EQ(ex->now_ms, 1000u);
}

TEST_F(ProbeTest, BorrowedBytesAreReleasedOnceAfterTheWrite) {
  auto ex = std::make_shared<FakeExchange>("GET", "/borrowed");
  handler("borrowed")->handle(ex);
  EXPECT_EQ(ex->borrowed_writes, 2);
  log_.clear();
  ex->run();
  EXPECT_EQ(ex->body, "one,two");
  EXPECT_EQ(log_,
            (std::vector<std::string>{"probe: released 0", "probe: released 1", "probe: flushed"}));
  EXPECT_TRUE(ex->body_closed);
}

TEST_F(ProbeTest, BorrowedBytesAreReleasedWhenTheStreamDies) {
  auto ex = std::make_shared<FakeExchange>("GET", "/borrowed");
  handler("borrowed")->handle(ex);
  log_.clear();
  ex->peer_reset();
  EXPECT_EQ(log_, (std::vector<std::string>{"probe: released 0", "probe: released 1",
                                            "probe: flush closed"}));
}

TEST(SdkHostApi, DescribesItsOwnAbi) {
  const h2_host_api& api = sdk_host_api();
  EXPECT_EQ(api.abi_major, static_cast<std::uint32_t>(H2_ABI_MAJOR));
  EXPECT_EQ(api.abi_minor, static_cast<std::uint32_t>(H2_ABI_MINOR));
  EXPECT_EQ(api.struct_size, sizeof(h2_host_api));
  EXPECT_NE(api.fail, nullptr);  // last member: the table is complete
}

TEST(SdkHostApi, ConfigAccessorsToleratesNullAndMismatchedKinds) {
  const h2_host_api& api = sdk_host_api();
  ConfigValue s = ConfigValue::make_string("text", {"f.yaml", 3, 4});
  auto* node = reinterpret_cast<const h2_config*>(&s);
  EXPECT_EQ(api.config_kind(node), H2_CONFIG_STRING);
  EXPECT_EQ(api.config_int(node, 42), 42);
  EXPECT_EQ(api.config_bool(node, 1), 1);
  EXPECT_EQ(api.config_size(node), 0u);
  EXPECT_EQ(api.config_at(node, 0), nullptr);
  EXPECT_EQ(api.config_find(node, "k", 1), nullptr);
  EXPECT_EQ(api.config_kind(nullptr), H2_CONFIG_NULL);
  h2_str file{};
  int line = 0, column = 0;
  api.config_location(node, &file, &line, &column);
  EXPECT_EQ(std::string(file.data, file.size), "f.yaml");
  EXPECT_EQ(line, 3);
  EXPECT_EQ(column, 4);
}

}  // namespace
}  // namespace h2::serve
