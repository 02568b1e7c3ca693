// host/http1_exchange.h: HTTP/1.1 response framing (RFC 9112 §6, §7.1 chunked), flush
// backpressure, borrowed buffers, and what HTTP/1.1 cannot express (push).
#include "serve/http1_exchange.h"
#include "tests/support/http_date.h"

#include <gtest/gtest.h>

#include <deque>

namespace h2::serve {
namespace {

// Runs scheduled callbacks when asked, like the session's io_context would.
class LoopTransport final : public Http1Transport {
 public:
  void output_ready() override { ++ready; }
  void abort() override { aborted = true; }
  void schedule(uint64_t, std::function<void()> fn) override { queue.push_back(std::move(fn)); }
  std::shared_ptr<Loop> loop() const override { return stopped_loop(); }
  void request_body() override { ++body_requests; }
  void run() {
    while (!queue.empty()) {
      auto fn = std::move(queue.front());
      queue.pop_front();
      fn();
    }
  }
  int ready = 0;
  int body_requests = 0;
  bool aborted = false;
  std::deque<std::function<void()>> queue;
};

struct Fixture {
  explicit Fixture(Http1Request request = default_request()) {
    transport = std::make_shared<LoopTransport>();
    exchange =
        std::make_shared<Http1Exchange>(std::move(request), "http", "127.0.0.1:1", transport);
  }
  static Http1Request default_request() {
    Http1Request r;
    r.method = "GET";
    r.target = "/x?y";
    r.host = "localhost";
    r.fields = {{"host", "localhost"}, {"accept", "*/*"}};
    return r;
  }
  // Everything queued so far, consumed in one go.
  std::string drain() {
    std::vector<std::string_view> views;
    exchange->pending_output(views, SIZE_MAX);
    std::string out;
    for (auto v : views) out += v;
    exchange->consume_output(out.size());
    return test::without_date(std::move(out));
  }
  std::shared_ptr<LoopTransport> transport;
  std::shared_ptr<Http1Exchange> exchange;
};

TEST(Http1Exchange, RequestHead) {
  Fixture f;
  EXPECT_EQ(f.exchange->method(), "GET");
  EXPECT_EQ(f.exchange->path(), "/x?y");
  EXPECT_EQ(f.exchange->authority(), "localhost");
  EXPECT_EQ(f.exchange->scheme(), "http");
  EXPECT_EQ(f.exchange->version(), HttpVersion::kHttp11);
  ASSERT_EQ(f.exchange->headers().size(), 2u);
  EXPECT_EQ(f.exchange->headers()[1].name, "accept");
}

TEST(Http1Exchange, StringResponseHasContentLength) {
  Fixture f;
  const HeaderField fields[] = {{"content-type", "text/plain"}, {"connection", "x"}};
  EXPECT_EQ(f.exchange->respond_with_string({200, fields}, "hello"), ExchangeResult::kOk);
  EXPECT_EQ(f.drain(),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-type: text/plain\r\n"
            "content-length: 5\r\n\r\nhello");
  EXPECT_TRUE(f.exchange->finished());
  EXPECT_TRUE(f.exchange->keep_alive());
  EXPECT_EQ(f.exchange->respond_with_string({200, {}}, "again"), ExchangeResult::kClosed);
}

TEST(Http1Exchange, SecondResponseIsInvalid) {
  Fixture f;
  EXPECT_EQ(f.exchange->respond_streaming({200, {}}), ExchangeResult::kOk);
  EXPECT_EQ(f.exchange->respond_with_string({200, {}}, "x"), ExchangeResult::kInvalid);
}

TEST(Http1Exchange, StreamingIsChunkedWithTrailers) {
  Fixture f;
  ASSERT_EQ(f.exchange->respond_streaming({200, {}}), ExchangeResult::kOk);
  EXPECT_EQ(f.exchange->write("abc"), ExchangeResult::kOk);
  std::string borrowed(20, 'z');
  bool released = false;
  EXPECT_EQ(f.exchange->write_borrowed(borrowed, [&] { released = true; }), ExchangeResult::kOk);
  const HeaderField trailers[] = {{"x-checksum", "42"}};
  EXPECT_EQ(f.exchange->close_body(trailers), ExchangeResult::kOk);
  EXPECT_FALSE(released);
  EXPECT_EQ(f.drain(),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ntransfer-encoding: chunked\r\n\r\n"
            "3\r\nabc\r\n14\r\n" +
                borrowed + "\r\n0\r\nx-checksum: 42\r\n\r\n");
  EXPECT_TRUE(released);
  EXPECT_TRUE(f.exchange->finished());
}

TEST(Http1Exchange, FlushCompletesWhenBytesAreConsumed) {
  Fixture f;
  ASSERT_EQ(f.exchange->respond_streaming({200, {}}), ExchangeResult::kOk);
  f.exchange->write("0123456789");
  std::vector<FlushResult> results;
  f.exchange->flush([&](FlushResult r) { results.push_back(r); });
  std::vector<std::string_view> views;
  const size_t total = f.exchange->pending_output(views, SIZE_MAX);
  f.exchange->consume_output(total - 3);  // partially written: not flushed yet
  EXPECT_TRUE(results.empty());
  f.exchange->consume_output(3);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], FlushResult::kWritten);
  // Nothing outstanding: completes from the loop, not inline.
  f.exchange->flush([&](FlushResult r) { results.push_back(r); });
  EXPECT_EQ(results.size(), 1u);
  f.transport->run();
  EXPECT_EQ(results.size(), 2u);
}

TEST(Http1Exchange, ContentLengthStreamingIsNotChunkedAndRefusesTrailers) {
  Fixture f;
  const HeaderField fields[] = {{"content-length", "4"}};
  ASSERT_EQ(f.exchange->respond_streaming({200, fields}), ExchangeResult::kOk);
  f.exchange->write("ab");
  f.exchange->write("cd");
  const HeaderField trailers[] = {{"x", "y"}};
  EXPECT_EQ(f.exchange->close_body(trailers), ExchangeResult::kUnsupported);
  EXPECT_EQ(f.drain(), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 4\r\n\r\nabcd");
}

TEST(Http1Exchange, HeadResponseHasNoBody) {
  Http1Request r = Fixture::default_request();
  r.method = "HEAD";
  Fixture f(std::move(r));
  f.exchange->respond_with_string({200, {}}, "hello");
  EXPECT_EQ(f.drain(), "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 5\r\n\r\n");
}

TEST(Http1Exchange, Http10StreamingIsCloseDelimited) {
  Http1Request r = Fixture::default_request();
  r.http10 = true;
  r.keep_alive = false;
  Fixture f(std::move(r));
  f.exchange->respond_streaming({200, {}});
  f.exchange->write("x");
  f.exchange->close_body();
  EXPECT_EQ(f.drain(), "HTTP/1.1 200 OK\r\nserver: h2host\r\nconnection: close\r\n\r\nx");
  EXPECT_FALSE(f.exchange->keep_alive());
  EXPECT_EQ(f.exchange->send_informational({103, {}}), ExchangeResult::kClosed);
}

TEST(Http1Exchange, EarlyHintsBeforeTheHead) {
  Fixture f;
  const HeaderField link[] = {{"link", "</a.css>; rel=preload"}};
  EXPECT_EQ(f.exchange->send_informational({103, link}), ExchangeResult::kOk);
  f.exchange->respond_with_string({204, {}}, "");
  EXPECT_EQ(f.drain(),
            "HTTP/1.1 103 Early Hints\r\nlink: </a.css>; rel=preload\r\n\r\n"
            "HTTP/1.1 204 No Content\r\nserver: h2host\r\n\r\n");
}

TEST(Http1Exchange, PushIsUnsupported) {
  Fixture f;
  EXPECT_EQ(f.exchange->push({"GET", "/a.css", {}}).result, ExchangeResult::kUnsupported);
}

TEST(Http1Exchange, BodyIsReadInChunksThenEof) {
  Http1Request r = Fixture::default_request();
  r.method = "POST";
  r.body = std::string(100 * 1024, 'b');
  Fixture f(std::move(r));
  size_t bytes = 0;
  bool eof = false;
  std::function<void()> read = [&] {
    EXPECT_EQ(f.exchange->read_body(
                  [&](std::string_view c) {
                    bytes += c.size();
                    read();
                  },
                  [&] { eof = true; }),
              ExchangeResult::kOk);
  };
  read();
  EXPECT_EQ(f.exchange->read_body({}, {}), ExchangeResult::kInvalid);  // one read at a time
  f.transport->run();
  EXPECT_EQ(bytes, 100u * 1024);
  EXPECT_TRUE(eof);
}

TEST(Http1Exchange, StreamedBodyIsReadOnDemandOnly) {
  Http1Request r = Fixture::default_request();
  r.method = "POST";
  r.body_streamed = true;
  Fixture f(std::move(r));
  EXPECT_EQ(f.transport->body_requests, 0);  // nothing is read before the handler asks
  std::string got;
  bool eof = false;
  auto on_chunk = [&](std::string_view c) { got += c; };
  auto on_eof = [&] { eof = true; };
  ASSERT_EQ(f.exchange->read_body(on_chunk, on_eof), ExchangeResult::kOk);
  EXPECT_EQ(f.transport->body_requests, 1);
  f.exchange->deliver_body("abc");
  EXPECT_EQ(got, "abc");
  EXPECT_FALSE(f.exchange->body_complete());
  f.exchange->respond_with_string({200, {}}, "x");
  EXPECT_FALSE(f.exchange->keep_alive());  // the rest of the body is unread
  ASSERT_EQ(f.exchange->read_body(on_chunk, on_eof), ExchangeResult::kOk);
  EXPECT_EQ(f.transport->body_requests, 2);
  f.exchange->deliver_eof();
  EXPECT_TRUE(eof);
  EXPECT_TRUE(f.exchange->body_complete());
  EXPECT_TRUE(f.exchange->keep_alive());
}

TEST(Http1Exchange, ConnectionLostCancelsAndReleases) {
  Fixture f;
  bool cancelled = false, released = false;
  std::vector<FlushResult> results;
  f.exchange->on_cancel([&] { cancelled = true; });
  f.exchange->respond_streaming({200, {}});
  std::string data = "data";
  f.exchange->write_borrowed(data, [&] { released = true; });
  f.exchange->flush([&](FlushResult r) { results.push_back(r); });
  f.exchange->connection_lost();
  EXPECT_TRUE(cancelled);
  EXPECT_TRUE(released);
  ASSERT_EQ(results.size(), 1u);
  EXPECT_EQ(results[0], FlushResult::kClosed);
  EXPECT_TRUE(f.exchange->closed());
  EXPECT_EQ(f.exchange->write("x"), ExchangeResult::kClosed);
}

TEST(Http1Exchange, ResetAbortsTheConnection) {
  Fixture f;
  f.exchange->reset(2);
  EXPECT_TRUE(f.transport->aborted);
  EXPECT_TRUE(f.exchange->closed());
}

}  // namespace
}  // namespace h2::serve
