// host/http1_session.h: HTTP/1.1 over an in-memory AsyncStream (Beast's test stream): keep-alive,
// chunked request bodies, limits, Upgrade: h2c (RFC 7540 §3.2), faults at every operation.
#include "host/http1_session.h"

#include <gtest/gtest.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "tests/host/session_test_support.h"
#include "tests/support/http_date.h"

namespace h2::host {
namespace {

using namespace ::h2::serve;  // the module-serving vocabulary the runtime serves

using test::H2Peer;
using test::Harness;
using Stream = boost::beast::test::stream;

void send(Stream& client, const std::string& bytes) {
  boost::asio::write(client, boost::asio::buffer(bytes));
}

void start(Harness& h, Stream server) {
  std::make_shared<Http1Session<Stream>>(std::move(server), h.context(),
                                         boost::beast::flat_buffer())
      ->start();
}

TEST(Http1Session, KeepAliveServesRequestsInOrder) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  server.read_size(3);
  start(h, std::move(server));
  send(client, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n");
  h.run();
  EXPECT_EQ(h2::test::without_date(client.str()),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-type: text/plain\r\ncontent-length: 8\r\n"
            "\r\nhello /aHTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-type: text/plain\r\n"
            "content-length: 8\r\n\r\nhello /b");
  EXPECT_EQ(h.worker.session_count(), 1u);  // still open: keep-alive
}

TEST(Http1Session, ChunkedRequestBodyIsDecoded) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  send(client,
       "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
       "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
  h.run();
  EXPECT_EQ(h2::test::without_date(client.str()),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ncontent-length: 7\r\n\r\nabcdefg");
}

TEST(Http1Session, StreamingResponseIsChunked) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  send(client, "GET /stream HTTP/1.1\r\nHost: x\r\n\r\n");
  h.run();
  EXPECT_EQ(h2::test::without_date(client.str()),
            "HTTP/1.1 200 OK\r\nserver: h2host\r\ntransfer-encoding: chunked\r\n\r\n"
            "4\r\none,\r\n4\r\ntwo,\r\n5\r\nthree\r\n0\r\n\r\n");
}

TEST(Http1Session, BodyOverTheLimitGets413AndClose) {
  Harness h;
  auto snapshot = std::make_shared<Snapshot>(*h.snapshot);
  snapshot->config.http1.max_body_bytes = 1024;
  h.snapshot = snapshot;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  send(client,
       "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\n\r\n" + std::string(2000, 'x'));
  h.run();
  EXPECT_EQ(h2::test::without_date(client.str()).substr(0, 38), "HTTP/1.1 413 Content Too Large\r\nserver");
  EXPECT_EQ(h.worker.session_count(), 0u);
}

// http1.max_header_fields: 10,000 "a: b" lines fit in 64 KiB of head; the count is what bounds
// them (RFC 6585 §5: 431), as HTTP/2's max_field_count does.
TEST(Http1Session, TooManyFieldsGet431AndClose) {
  for (const size_t fields : {127u, 128u}) {  // with Host: 128 fields pass, 129 do not
    SCOPED_TRACE(fields);
    Harness h;
    Stream server(h.ioc), client(h.ioc);
    server.connect(client);
    start(h, std::move(server));
    std::string head = "GET /a HTTP/1.1\r\nHost: x\r\n";
    for (size_t i = 0; i < fields; ++i) head += "a: b\r\n";
    send(client, head + "\r\n");
    h.run();
    const std::string status = h2::test::without_date(client.str()).substr(0, 12);
    EXPECT_EQ(status, fields == 127 ? "HTTP/1.1 200" : "HTTP/1.1 431");
  }
}

// Over a real loopback TCP connection: after the 101 the socket itself moves to the HTTP/2
// session (Beast's test stream does not survive being moved out of a live session).
TEST(Rfc7540_3_2, UpgradeH2cAnswers101ThenStream1OverHttp2) {
  using tcp = boost::asio::ip::tcp;
  Harness h;
  tcp::acceptor acceptor(h.ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
  tcp::socket client(h.ioc);
  client.connect(acceptor.local_endpoint());
  tcp::socket server = acceptor.accept();
  std::make_shared<Http1Session<tcp::socket>>(std::move(server), h.context(),
                                              boost::beast::flat_buffer())
      ->start();
  auto received = [&] {
    h.run(50);
    std::string out(client.available(), '\0');
    if (!out.empty()) boost::asio::read(client, boost::asio::buffer(out));
    return out;
  };
  boost::asio::write(client,
                     boost::asio::buffer(std::string(
                         "GET /up HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                         "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABk\r\n\r\n")));
  std::string out = received();
  const std::string head =
      "HTTP/1.1 101 Switching Protocols\r\nconnection: Upgrade\r\nupgrade: h2c\r\n\r\n";
  ASSERT_EQ(out.substr(0, head.size()), head);
  boost::asio::write(client,
                     boost::asio::buffer(std::string(test::kPreface) + test::frame(0x4, 0, 0, "") +
                                         test::frame(0x4, 1, 0, "")));
  out = out.substr(head.size()) + received();
  // Parse the HTTP/2 bytes with the scripted peer (through an in-memory stream).
  Stream sink(h.ioc), feeder(h.ioc);
  sink.connect(feeder);
  send(feeder, out);
  H2Peer peer;
  bool ended = false;
  EXPECT_EQ(H2Peer::response(peer.take(sink), 1, &ended),
            std::make_pair(std::string("200"), std::string("hello /up")));
  EXPECT_TRUE(ended);
  EXPECT_EQ(h.worker.session_count(), 1u);  // the HTTP/2 session
}

TEST(Rfc7540_3_2_1, BadHttp2SettingsGets400AndNoUpgrade) {
  Harness h;
  Stream server(h.ioc), client(h.ioc);
  server.connect(client);
  start(h, std::move(server));
  send(client,
       "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\n"
       "Upgrade: h2c\r\nHTTP2-Settings: ***\r\n\r\n");
  h.run();
  EXPECT_EQ(client.str().substr(0, 26), "HTTP/1.1 400 Bad Request\r\n");
  EXPECT_EQ(h.handler->requests, 0);
}

TEST(Http1Session, EveryFailingOperationEndsTheSessionCleanly) {
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
    if (h.worker.session_count() != 0) {
      client.close();
      h.run();
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
