// The built-in status module (serve/status_module.h) and ModuleRegistry::add_builtin.
#include "serve/status_module.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "tests/serve/module_fake_exchange.h"

namespace h2::serve {
namespace {

void fill(Counters& c, uint64_t base) {
  c.connections_accepted = base;
  c.connections_open = 2;
  c.exchanges_open = 1;
  c.requests = base * 10;
  c.responses[2] = base * 9;
  c.responses[4] = base;
  c.bytes_sent = base * 1000;
  c.bytes_received = base * 10;
}

TEST(StatusModule, JsonHasEveryWorkerAndTotalsIncludingExitedWorkers) {
  auto table = std::make_unique<StatsTable>();
  fill(table->retired, 100);  // workers that exited: counts, no gauges
  table->retired.connections_open = 0;
  table->slots[3].pid = 4242;
  table->slots[3].generation = 2;
  fill(table->slots[3].counters, 1);
  table->slots[700].pid = 4343;
  table->slots[700].generation = 2;
  fill(table->slots[700].counters, 2);
  Counters unused;
  const auto doc = nlohmann::json::parse(render_status(StatusFormat::kJson, table.get(), unused, 1));
  ASSERT_EQ(doc["workers"].size(), 2u);
  EXPECT_EQ(doc["workers"][0]["pid"], 4242);
  EXPECT_EQ(doc["workers"][0]["generation"], 2);
  EXPECT_EQ(doc["workers"][1]["requests"], 20);
  const auto& total = doc["total"];
  EXPECT_EQ(total["requests"], 1000 + 10 + 20);
  EXPECT_EQ(total["connections_accepted"], 100 + 1 + 2);
  EXPECT_EQ(total["connections_open"], 4) << "gauges: the live workers only";
  EXPECT_EQ(total["requests_open"], 2);
  EXPECT_EQ(total["responses"]["2xx"], 900 + 9 + 18);
  EXPECT_EQ(total["responses"]["4xx"], 100 + 1 + 2);
  EXPECT_EQ(total["responses"]["5xx"], 0);
  EXPECT_EQ(total["bytes_sent"], 100000 + 1000 + 2000);
  EXPECT_EQ(total["bytes_received"], 1000 + 10 + 20);
}

TEST(StatusModule, PrometheusTextHasTypedSeriesPerWorkerAndTotal) {
  auto table = std::make_unique<StatsTable>();
  table->slots[0].pid = 11;
  fill(table->slots[0].counters, 1);
  Counters unused;
  const std::string text = render_status(StatusFormat::kPrometheus, table.get(), unused, 1);
  EXPECT_NE(text.find("# TYPE h2host_requests_total counter\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h2host_requests_total{worker=\"11\"} 10\n"), std::string::npos) << text;
  EXPECT_NE(text.find("h2host_requests_total{worker=\"total\"} 10\n"), std::string::npos);
  EXPECT_NE(text.find("# TYPE h2host_connections_open gauge\n"), std::string::npos);
  EXPECT_NE(text.find("h2host_responses_total{worker=\"11\",class=\"2xx\"} 9\n"),
            std::string::npos);
  // Every non-comment line is NAME{LABELS} VALUE.
  size_t at = 0;
  while (at < text.size()) {
    const size_t end = text.find('\n', at);
    ASSERT_NE(end, std::string::npos) << "the last line has no newline";
    const std::string line = text.substr(at, end - at);
    if (line[0] != '#') {
      EXPECT_EQ(line.rfind("h2host_", 0), 0u) << line;
      EXPECT_NE(line.find("} "), std::string::npos) << line;
    }
    at = end + 1;
  }
}

TEST(StatusModule, WithoutAMasterTheProcessReportsItself) {
  Counters own;
  fill(own, 3);
  const auto doc = nlohmann::json::parse(render_status(StatusFormat::kJson, nullptr, own, 99));
  ASSERT_EQ(doc["workers"].size(), 1u);
  EXPECT_EQ(doc["workers"][0]["pid"], 99);
  EXPECT_EQ(doc["total"]["requests"], 30);
}

TEST(StatusModule, IsABuiltinOfTheRegistryWithCheckedRouteConfig) {
  ModuleRegistry registry;
  ASSERT_TRUE(registry.add_builtin(status_module()).ok());
  EXPECT_TRUE(registry.has_module("status"));
  EXPECT_EQ(registry.add_builtin(status_module()).code, ModuleError::kDuplicateName);
  const auto modules = registry.modules();
  ASSERT_EQ(modules.size(), 1u);
  EXPECT_EQ(modules[0].file, "(built in)");

  ConfigValue route = ConfigValue::make_map();
  route.insert("fromat", ConfigValue::make_string("json"));
  EXPECT_NE(registry.check_route_config("status", route).find("did you mean \"format\""),
            std::string::npos)
      << registry.check_route_config("status", route);
  ConfigValue bad = ConfigValue::make_map();
  bad.insert("format", ConfigValue::make_string("xml"));
  HandlerResult r = registry.create_handler("status", bad);
  EXPECT_EQ(r.status.code, ModuleError::kCreateHandlerFailed);
  EXPECT_NE(r.status.message.find("must be json or prometheus"), std::string::npos);

  HandlerResult ok = registry.create_handler("status", ConfigValue());
  ASSERT_TRUE(ok.status.ok()) << ok.status.message;
  auto ex = std::make_shared<test::FakeExchange>("GET", "/status");
  ok.handler->handle(ex);
  EXPECT_EQ(ex->status, 200);
  EXPECT_TRUE(nlohmann::json::parse(ex->body).contains("total"));
}

}  // namespace
}  // namespace h2::serve
