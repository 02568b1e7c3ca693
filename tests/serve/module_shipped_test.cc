// The shipped modules (modules/: hello, echo, sse, static) and the spec handlers
// (spec-handlers/), each loaded from its real .so through the loader and driven through the
// C ABI with the in-process FakeExchange (virtual clock, explicit flush completion).
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>

#include "serve/module_registry.h"
#include "tests/serve/module_fake_exchange.h"

namespace h2::serve {
namespace {

namespace fs = std::filesystem;
using test::FakeExchange;

class Shipped : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    registry_ = new ModuleRegistry;
    for (auto& s : registry_->load_directory(H2_SHIPPED_MODULE_DIR)) ADD_FAILURE() << s.message;
    // The conformance fixture is built apart from the shipped modules.
    if (auto s = registry_->load_file(H2_SPEC_MODULE); !s.ok()) ADD_FAILURE() << s.message;
  }
  static void TearDownTestSuite() {
    delete registry_;
    registry_ = nullptr;
  }

  static std::shared_ptr<Handler> make(const std::string& module, ConfigValue route = {}) {
    HandlerResult r = registry_->create_handler(module, route);
    EXPECT_TRUE(r.status.ok()) << r.status.message;
    return r.handler;
  }
  static std::shared_ptr<FakeExchange> get(const std::string& path,
                                           FakeExchange::Fields headers = {},
                                           std::string method = "GET") {
    auto ex = std::make_shared<FakeExchange>(std::move(method), path, std::move(headers));
    ex->end_body();
    return ex;
  }

  static ModuleRegistry* registry_;
};
ModuleRegistry* Shipped::registry_ = nullptr;

ConfigValue map_of(std::initializer_list<std::pair<std::string, ConfigValue>> items) {
  ConfigValue m = ConfigValue::make_map();
  for (auto& [k, v] : items) m.insert(k, v);
  return m;
}

// ---- hello ----

TEST_F(Shipped, HelloAnswersWithTheProtocolName) {
  auto ex = get("/");
  make("hello")->handle(ex);
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->body, "hello from h2host (HTTP/2)\n");
  auto h1 =
      std::make_shared<FakeExchange>("GET", "/", FakeExchange::Fields{}, HttpVersion::kHttp11);
  make("hello", map_of({{"message", ConfigValue::make_string("hi")}}))->handle(h1);
  EXPECT_EQ(h1->body, "hi (HTTP/1.1)\n");
}

// ---- echo ----

TEST_F(Shipped, EchoStreamsTheBodyBackOneFlushedChunkAtATime) {
  auto ex = std::make_shared<FakeExchange>(
      "POST", "/echo", FakeExchange::Fields{{"content-type", "application/x-test"}});
  for (int i = 0; i < 5; ++i) ex->add_body("chunk" + std::to_string(i) + ";");
  ex->end_body({{"x-checksum", "42"}});
  make("echo")->handle(ex);
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->header("content-type"), "application/x-test");
  ex->run();
  EXPECT_EQ(ex->body, "chunk0;chunk1;chunk2;chunk3;chunk4;");
  EXPECT_EQ(ex->flushes, 5);         // one flush per chunk ...
  EXPECT_EQ(ex->max_unflushed, 7u);  // ... so never more than one chunk is buffered
  EXPECT_TRUE(ex->body_closed);
  EXPECT_EQ(ex->response_trailers, (FakeExchange::Fields{{"x-checksum", "42"}}));
}

TEST_F(Shipped, EchoOverHttp11EndsWithoutTrailers) {
  auto ex =
      std::make_shared<FakeExchange>("POST", "/echo", FakeExchange::Fields{}, HttpVersion::kHttp11);
  ex->add_body("abc");
  ex->end_body({{"x-t", "1"}});
  make("echo")->handle(ex);
  ex->run();
  EXPECT_EQ(ex->body, "abc");
  EXPECT_TRUE(ex->body_closed);
  EXPECT_TRUE(ex->response_trailers.empty());
}

TEST_F(Shipped, EchoStopsWhenThePeerResets) {
  auto ex = std::make_shared<FakeExchange>("POST", "/echo");
  ex->add_body("first");
  make("echo")->handle(ex);
  ex->run();
  EXPECT_EQ(ex->body, "first");
  ex->peer_reset();  // the pending read is dropped; the module gets "cancelled" and stops
  ex->add_body("second");
  ex->run();
  EXPECT_EQ(ex->body, "first");
}

// ---- sse ----

TEST_F(Shipped, SseSendsCountEventsOneIntervalApartThenCloses) {
  auto ex = get("/events");
  make("sse",
       map_of({{"interval_ms", ConfigValue::make_int(250)}, {"count", ConfigValue::make_int(3)}}))
      ->handle(ex);
  EXPECT_EQ(ex->header("content-type"), "text/event-stream");
  ex->run();
  EXPECT_EQ(ex->body,
            ": stream open\n\n"
            "id: 1\nevent: tick\ndata: {\"n\":1}\n\n"
            "id: 2\nevent: tick\ndata: {\"n\":2}\n\n"
            "id: 3\nevent: tick\ndata: {\"n\":3}\n\n");
  EXPECT_EQ(ex->now_ms, 750u);  // virtual clock: 3 intervals
  EXPECT_TRUE(ex->body_closed);
}

TEST_F(Shipped, SseStopsOnCancel) {
  auto ex = get("/events");
  make("sse",
       map_of({{"interval_ms", ConfigValue::make_int(10)}, {"count", ConfigValue::make_int(0)}}))
      ->handle(ex);
  ex->run(6);  // open flush + a few events
  std::string so_far = ex->body;
  ex->peer_reset();
  ex->run();
  EXPECT_EQ(ex->body, so_far);
  EXPECT_FALSE(ex->body_closed);
}

TEST_F(Shipped, SseRefusesABadIntervalWithItsLocation) {
  ConfigValue route = ConfigValue::make_map({"c.yaml", 3, 5});
  route.insert("interval_ms", ConfigValue::make_int(0, {"c.yaml", 4, 20}));
  HandlerResult r = registry_->create_handler("sse", route);
  EXPECT_EQ(r.status.message,
            "module sse: cannot create a handler: c.yaml:4:20: interval_ms must be in 1..3600000");
}

// ---- static ----

class Static : public Shipped {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("h2-static-" + std::to_string(::getpid()));
    fs::remove_all(root_);
    fs::create_directories(root_ / "sub");
    write(root_ / "index.html", "<h1>home</h1>");
    write(root_ / "style.CSS", "body{}");
    write(root_ / "sub" / "data.json", "{\"a\":1}");
    big_.resize(300 * 1024);
    for (std::size_t i = 0; i < big_.size(); ++i) big_[i] = static_cast<char>('a' + i % 26);
    write(root_ / "big.bin", big_);
    outside_ = root_.string() + "-outside.txt";
    write(outside_, "secret");
    fs::create_symlink(outside_, root_ / "escape");
    handler_ = make("static", map_of({{"root", ConfigValue::make_string(root_.string())},
                                      {"chunk_size", ConfigValue::make_int(64 * 1024)}}));
  }
  void TearDown() override {
    fs::remove_all(root_);
    fs::remove(outside_);
  }
  static void write(const fs::path& p, const std::string& s) { std::ofstream(p) << s; }
  std::shared_ptr<FakeExchange> serve(const std::string& path, FakeExchange::Fields h = {},
                                      std::string method = "GET") {
    auto ex = get(path, std::move(h), std::move(method));
    handler_->handle(ex);
    ex->run();
    return ex;
  }

  fs::path root_;
  fs::path outside_;
  std::string big_;
  std::shared_ptr<Handler> handler_;
};

TEST_F(Static, ServesFilesWithTypeEtagAndLastModified) {
  auto ex = serve("/sub/data.json?x=1");
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->body, "{\"a\":1}");
  EXPECT_EQ(ex->header("content-type"), "application/json");
  EXPECT_EQ(ex->header("accept-ranges"), "bytes");
  EXPECT_EQ(ex->header("etag").front(), '"');
  EXPECT_EQ(ex->header("last-modified").size(), 29u);  // IMF-fixdate
  EXPECT_EQ(serve("/style.CSS")->header("content-type"), "text/css; charset=utf-8");
  auto index = serve("/");
  EXPECT_EQ(index->body, "<h1>home</h1>");
  EXPECT_EQ(index->header("content-type"), "text/html; charset=utf-8");
}

// modules/static/file_cache.h: a hot file is served from memory for cache_valid_ms, so a change
// on disk is seen at most that late; with the cache off it is seen at once.
TEST_F(Static, OpenFileCacheBoundsStalenessByValidMs) {
  auto cached = make("static", map_of({{"root", ConfigValue::make_string(root_.string())},
                                       {"cache_valid_ms", ConfigValue::make_int(300)}}));
  auto fetch = [&](const std::shared_ptr<Handler>& h) {
    auto ex = get("/index.html");
    h->handle(ex);
    ex->run();
    return ex;
  };
  EXPECT_EQ(fetch(cached)->body, "<h1>home</h1>");
  write(root_ / "index.html", "<h1>changed home</h1>");
  EXPECT_EQ(fetch(cached)->body, "<h1>home</h1>");  // within 300 ms: the cached bytes
  // Revalidated once 300 ms have passed: asked again until then (bounded), not a fixed sleep.
  auto fresh = fetch(cached);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (fresh->body != "<h1>changed home</h1>" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
    fresh = fetch(cached);
  }
  EXPECT_EQ(fresh->body, "<h1>changed home</h1>");
  EXPECT_EQ(fresh->status, 200);

  auto uncached = make("static", map_of({{"root", ConfigValue::make_string(root_.string())},
                                         {"cache_valid_ms", ConfigValue::make_int(0)}}));
  EXPECT_EQ(fetch(uncached)->body, "<h1>changed home</h1>");
  write(root_ / "index.html", "<h1>third</h1>");
  EXPECT_EQ(fetch(uncached)->body, "<h1>third</h1>");
}

TEST_F(Static, RangeOfACachedFileIsASliceOfIt) {
  serve("/sub/data.json");  // loads it into the cache
  auto ex = serve("/sub/data.json", {{"range", "bytes=1-3"}});
  EXPECT_EQ(ex->status, 206);
  EXPECT_EQ(ex->body, "\"a\"");
  EXPECT_EQ(ex->header("content-range"), "bytes 1-3/7");
}

TEST_F(Static, CacheSettingsAreValidatedWithTheirLocation) {
  ConfigValue route = map_of({{"root", ConfigValue::make_string(root_.string())},
                              {"cache_valid_ms", ConfigValue::make_int(-5)}});
  HandlerResult r = registry_->create_handler("static", route);
  EXPECT_FALSE(r.status.ok());
  EXPECT_NE(r.status.message.find("cache_valid_ms must be in 0..3600000"), std::string::npos)
      << r.status.message;
}

TEST_F(Static, ConditionalRequestsAnswer304) {
  auto first = serve("/index.html");
  std::string etag = first->header("etag");
  std::string date = first->header("last-modified");
  auto by_tag = serve("/index.html", {{"if-none-match", "\"other\", W/" + etag}});
  EXPECT_EQ(by_tag->status, 304);
  EXPECT_EQ(by_tag->body, "");
  EXPECT_EQ(by_tag->header("etag"), etag);
  EXPECT_EQ(serve("/index.html", {{"if-none-match", "*"}})->status, 304);
  EXPECT_EQ(serve("/index.html", {{"if-modified-since", date}})->status, 304);
  EXPECT_EQ(serve("/index.html", {{"if-modified-since", "Sun, 06 Nov 1994 08:49:37 GMT"}})->status,
            200);
  // RFC 9110 §13.2.2: If-None-Match wins over If-Modified-Since.
  EXPECT_EQ(
      serve("/index.html", {{"if-none-match", "\"nope\""}, {"if-modified-since", date}})->status,
      200);
}

TEST_F(Static, RangesAnswer206Or416) {
  auto ex = serve("/index.html", {{"range", "bytes=1-3"}});
  EXPECT_EQ(ex->status, 206);
  EXPECT_EQ(ex->body, "h1>");
  EXPECT_EQ(ex->header("content-range"), "bytes 1-3/13");
  EXPECT_EQ(serve("/index.html", {{"range", "bytes=-4"}})->body, "/h1>");
  EXPECT_EQ(serve("/index.html", {{"range", "bytes=10-"}})->body, "h1>");
  auto bad = serve("/index.html", {{"range", "bytes=13-20"}});
  EXPECT_EQ(bad->status, 416);
  EXPECT_EQ(bad->header("content-range"), "bytes */13");
  EXPECT_EQ(serve("/index.html", {{"range", "bytes=0-1,3-4"}})->status, 200);  // ignored
  EXPECT_EQ(serve("/index.html", {{"range", "bytes=1-3"}, {"if-range", "\"stale\""}})->status, 200);
}

TEST_F(Static, LargeFilesStreamInChunksWithFlushBackpressure) {
  auto ex = serve("/big.bin");
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->header("content-length"), std::to_string(big_.size()));
  EXPECT_EQ(ex->header("content-type"), "application/octet-stream");
  EXPECT_EQ(ex->body, big_);
  EXPECT_EQ(ex->borrowed_writes, 5);          // 300 KiB in 64 KiB pieces, never copied
  EXPECT_EQ(ex->max_unflushed, 64u * 1024u);  // one chunk in flight at a time
  EXPECT_TRUE(ex->body_closed);
  auto tail = serve("/big.bin", {{"range", "bytes=100000-"}});
  EXPECT_EQ(tail->status, 206);
  EXPECT_EQ(tail->body, big_.substr(100000));
}

TEST_F(Static, HeadSendsTheLengthWithoutABody) {
  auto ex = serve("/big.bin", {}, "HEAD");
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->header("content-length"), std::to_string(big_.size()));
  EXPECT_EQ(ex->body, "");
  EXPECT_TRUE(ex->body_closed);
}

TEST_F(Static, RefusesTraversalAndOtherMethods) {
  EXPECT_EQ(serve("/../etc/passwd")->status, 403);
  EXPECT_EQ(serve("/sub/%2e%2e/%2e%2e/etc/passwd")->status, 403);
  EXPECT_EQ(serve("/sub/..%2F..%2Fetc%2Fpasswd")->status, 403);
  EXPECT_EQ(serve("/a%00b")->status, 403);
  EXPECT_EQ(serve("/escape")->status, 403);  // symlink out of the root
  EXPECT_EQ(serve("/missing.txt")->status, 404);
  auto post = serve("/index.html", {}, "POST");
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("allow"), "GET, HEAD");
}

TEST_F(Static, RootMustBeADirectory) {
  ConfigValue route = ConfigValue::make_map({"c.yaml", 1, 1});
  route.insert("root", ConfigValue::make_string("/nonexistent/dir", {"c.yaml", 2, 9}));
  HandlerResult r = registry_->create_handler("static", route);
  EXPECT_EQ(r.status.message,
            "module static: cannot create a handler: c.yaml:2:9: root '/nonexistent/dir' is not a "
            "directory");
}

// ---- spec handlers (ocaml-h2's) ----

TEST_F(Shipped, SpecStringAndBigstringReadTheBodyFirst) {
  for (const char* mode : {"string", "bigstring"}) {
    auto ex = std::make_shared<FakeExchange>("POST", std::string("/") + mode);
    ex->add_body("abc");
    ex->add_body("def");
    make("spec")->handle(ex);
    EXPECT_EQ(ex->status, 0) << mode;  // waits for the whole body
    ex->end_body();
    ex->run();
    EXPECT_EQ(ex->status, 200) << mode;
    EXPECT_EQ(ex->body, "non-empty data.") << mode;
  }
}

TEST_F(Shipped, SpecImmediatelyAnswersBeforeReading) {
  auto ex = std::make_shared<FakeExchange>("POST", "/immediately");
  ex->add_body("never read");
  make("spec", map_of({{"handler", ConfigValue::make_string("immediately")}}))->handle(ex);
  EXPECT_EQ(ex->status, 200);
  EXPECT_EQ(ex->body, "non-empty data.");
}

TEST_F(Shipped, SpecStreamingWritesTenPiecesOverASecond) {
  auto ex = get("/streaming");
  make("spec")->handle(ex);
  ex->run();
  EXPECT_EQ(ex->flushes, 10);
  EXPECT_EQ(ex->now_ms, 900u);  // 9 gaps of 100 ms between 10 pieces
  EXPECT_EQ(ex->body.rfind("piece 10 of 10: non-empty data.\n"), ex->body.size() - 32);
  EXPECT_TRUE(ex->body_closed);
}

TEST_F(Shipped, SpecPushPushesThenAnswers) {
  auto ex = get("/push");
  make("spec")->handle(ex);
  ASSERT_EQ(ex->pushed.size(), 1u);
  EXPECT_EQ(ex->pushed_paths[0], "/pushed");
  EXPECT_EQ(ex->pushed[0]->body, "pushed data.");
  EXPECT_EQ(ex->body, "non-empty data.");
}

TEST_F(Shipped, SpecRefusesAnUnknownHandlerName) {
  ConfigValue route = ConfigValue::make_map();
  route.insert("handler", ConfigValue::make_string("nope", {"s.yaml", 9, 14}));
  EXPECT_EQ(registry_->create_handler("spec", route).status.message,
            "module spec: cannot create a handler: s.yaml:9:14: unknown spec handler 'nope' "
            "(string, bigstring, streaming, immediately, push)");
}

}  // namespace
}  // namespace h2::serve
