// h2::Poster (ABI 1.1, h2_host_api::poster_*): a real module (tests/sdk/modules/probe.cc, mode
// "offload") hands every request to its own thread pool, whose threads post the answers back
// through the bridge onto the exchanges' loop (a ManualLoop run by this test thread). Checks that
// posts from many threads at once each run exactly once on the loop thread, that a task whose
// stream was reset meanwhile finds a closed exchange, and that a stopped loop still calls every
// task exactly once (run == 0), so nothing leaks.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "serve/module_registry.h"
#include "tests/serve/module_fake_exchange.h"

namespace h2::serve {
namespace {

using test::FakeExchange;
using test::ManualLoop;

class PosterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ModuleStatus s = registry_.load_file(std::string(H2_TEST_MODULE_DIR) + "/h2_test_probe.so");
    ASSERT_TRUE(s.ok()) << s.message;
    offload_ = make("offload");
    release_ = make("offload-release");
  }
  // A runtime's loop ends by running what is still queued with run == false (serve/loop.h);
  // without it, tasks left queued here would keep their exchanges, and those the loop, alive.
  void TearDown() override { loop_->stop(); }
  std::shared_ptr<Handler> make(const std::string& mode) {
    ConfigValue route = ConfigValue::make_map();
    route.insert("mode", ConfigValue::make_string(mode));
    HandlerResult r = registry_.create_handler("probe", route);
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    return r.handler;
  }
  std::shared_ptr<FakeExchange> exchange(const std::string& path) {
    auto ex = std::make_shared<FakeExchange>("GET", path);
    ex->set_loop(loop_);
    return ex;
  }
  size_t count_log(const std::string& line) const {
    size_t n = 0;
    for (const auto& l : log_) n += l == line;
    return n;
  }

  const std::thread::id test_thread_ = std::this_thread::get_id();
  std::shared_ptr<ManualLoop> loop_ = std::make_shared<ManualLoop>();
  std::vector<std::string> log_;
  ModuleRegistry registry_{
      [this](ModuleLogLevel, std::string_view line) { log_.emplace_back(line); }};
  std::shared_ptr<Handler> offload_, release_;
};

TEST_F(PosterTest, AnswersFromManyThreadsRunOnceEachOnTheLoopThread) {
  constexpr int kRequests = 400;  // the module's 4 pool threads post concurrently
  std::vector<std::shared_ptr<FakeExchange>> exchanges;
  for (int i = 0; i < kRequests; ++i) {
    exchanges.push_back(exchange("/job/" + std::to_string(i)));
    offload_->handle(exchanges.back());
  }
  auto answered = [&] {
    for (auto& ex : exchanges) {
      if (ex->status == 0) return false;
    }
    return true;
  };
  ASSERT_TRUE(loop_->run_until(answered));
  EXPECT_EQ(std::this_thread::get_id(), test_thread_);
  for (int i = 0; i < kRequests; ++i) {
    EXPECT_EQ(exchanges[i]->status, 200);
    EXPECT_EQ(exchanges[i]->body.rfind("offloaded /job/" + std::to_string(i) + " fnv=", 0), 0u)
        << exchanges[i]->body;
  }
  // One task per answer, plus one per poster for the exchange reference it gives back.
  ASSERT_TRUE(loop_->run_until([&] { return loop_->ran == 2u * kRequests; }));
  EXPECT_EQ(loop_->ran, 2u * kRequests);
}

TEST_F(PosterTest, ATaskWhoseStreamWasResetFindsTheExchangeClosed) {
  std::vector<std::shared_ptr<FakeExchange>> held;
  for (int i = 0; i < 40; ++i) {
    held.push_back(exchange("/hold/" + std::to_string(i)));
    offload_->handle(held.back());
  }
  for (int i = 0; i < 40; i += 2) held[i]->peer_reset();  // while the work is in flight
  auto rel = exchange("/release");
  release_->handle(rel);
  EXPECT_EQ(rel->body, "released");
  ASSERT_TRUE(loop_->run_until([&] {
    return count_log("probe: offload: stream closed before the answer") == 20u;
  }));
  for (int i = 0; i < 40; ++i) {
    SCOPED_TRACE(i);
    if (i % 2 == 0) {
      EXPECT_EQ(held[i]->status, 0) << "a reset stream got an answer";
    } else {
      ASSERT_TRUE(loop_->run_until([&] { return held[i]->status != 0; }));
      EXPECT_EQ(held[i]->status, 200);
    }
  }
}

TEST_F(PosterTest, AStoppedLoopStillEndsEveryTaskSoNothingLeaks) {
  std::weak_ptr<FakeExchange> watched;
  {
    auto ex = exchange("/hold/stopped");
    watched = ex;
    offload_->handle(ex);
  }
  EXPECT_FALSE(watched.expired()) << "the poster holds the exchange while its job runs";
  loop_->stop();
  auto rel = exchange("/release");
  release_->handle(rel);
  // The job posts its answer onto the stopped loop: the task runs with run == 0 on the pool
  // thread, and the poster's reference to the exchange is released there too.
  offload_.reset();
  release_.reset();
  ASSERT_TRUE(loop_->run_until([&] { return watched.expired(); }, std::chrono::seconds(20)))
      << "the exchange was never released";
}

}  // namespace
}  // namespace h2::serve
