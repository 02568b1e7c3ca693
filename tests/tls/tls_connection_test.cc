// tls/tls_connection.h: TLS stacked under a ConnectionDriver with no runtime at all. A real
// OpenSSL client (memory BIOs) and a real HTTP/2 client core talk to it; each test is one
// promise of the header.
#include "tls/tls_connection.h"

#include <gtest/gtest.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <algorithm>

#include "http1/http1_connection.h"
#include "protocol/client_connection.h"
#include "serve/router.h"
#include "tests/support/driver_support.h"

namespace h2::tls {
namespace {

using State = serve::ConnectionEngine::State;

using test::BodyHandler;
using test::FakeRuntime;
using Client = test::RecordingClient;

// A TLS client over memory BIOs: what it writes is read off `to_server`.
class TlsClient {
 public:
  explicit TlsClient(const char* alpn_wire, size_t alpn_size) {
    ctx_ = SSL_CTX_new(TLS_client_method());
    ssl_ = SSL_new(ctx_);
    in_ = BIO_new(BIO_s_mem());
    out_ = BIO_new(BIO_s_mem());
    BIO_set_mem_eof_return(in_, -1);
    SSL_set_bio(ssl_, in_, out_);
    SSL_set_connect_state(ssl_);
    if (alpn_size > 0) {
      SSL_set_alpn_protos(ssl_, reinterpret_cast<const unsigned char*>(alpn_wire),
                          static_cast<unsigned>(alpn_size));
    }
  }
  ~TlsClient() {
    SSL_free(ssl_);
    SSL_CTX_free(ctx_);
  }
  // Progress the handshake; true once done.
  bool handshake() {
    const int r = SSL_do_handshake(ssl_);
    if (r != 1) {
      const int e = SSL_get_error(ssl_, r);
      failed = failed || (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE);
      ERR_clear_error();
    }
    return r == 1;
  }
  std::string take_ciphertext() {
    std::string out;
    char buffer[16384];
    int n;
    while ((n = BIO_read(out_, buffer, sizeof buffer)) > 0) out.append(buffer, n);
    return out;
  }
  void give_ciphertext(std::string_view bytes) {
    BIO_write(in_, bytes.data(), static_cast<int>(bytes.size()));
  }
  void write(std::string_view plain) {
    if (!plain.empty()) SSL_write(ssl_, plain.data(), static_cast<int>(plain.size()));
  }
  std::string read() {
    std::string out;
    char buffer[16384];
    for (;;) {
      const int n = SSL_read(ssl_, buffer, sizeof buffer);
      if (n > 0) {
        out.append(buffer, n);
        continue;
      }
      if (SSL_get_error(ssl_, n) == SSL_ERROR_ZERO_RETURN) close_notify = true;
      ERR_clear_error();
      return out;
    }
  }
  SSL* ssl_;
  SSL_CTX* ctx_;
  BIO* in_;
  BIO* out_;
  bool failed = false;
  bool close_notify = false;
};

constexpr char kAlpnH2[] = "\x02h2";
constexpr char kAlpnHttp1[] = "\x08http/1.1";

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    serve::RouteConfig config;
    config.path = "/";
    config.is_prefix = true;
    config.module = "body";
    router_ = std::make_shared<serve::Router>(
        std::vector<serve::Router::Route>{serve::Router::Route{config, handler_}});
  }

  // `http1`: the listener serves HTTP/1.1 (ALPN http/1.1 or none) with the real engine.
  std::unique_ptr<TlsConnection> make(serve::Protocols protocols = {}, bool http1 = false) {
    std::string error;
    context_ = make_server_context(H2_TEST_CERT, H2_TEST_KEY, protocols, &error);
    EXPECT_TRUE(context_) << error;
    serve::DriverPolicy listener;
    listener.protocols = protocols;
    if (http1) listener.http1 = std::make_shared<http1::Factory>(http1::Limits{});
    auto factory = [this, listener](const char* version, std::string_view alpn) {
      version_ = version;
      std::optional<serve::DriverPolicy> policy = policy_after_handshake(listener, alpn);
      if (!policy) return std::shared_ptr<serve::ConnectionDriver>();
      driver_ = std::make_shared<serve::ConnectionDriver>(
          runtime_, router_, *policy,
          serve::DriverPeer{"192.0.2.1:443", true, version, alpn_name(alpn)}, runtime_.clock);
      return driver_;
    };
    TlsConnection::Limits limits;
    limits.handshake_ms = 500;
    return std::make_unique<TlsConnection>(context_, factory, limits, runtime_.clock);
  }

  // Moves records both ways (and HTTP/2 inside, when `h2` is given) until nothing moves.
  void shuttle(TlsConnection& server, TlsClient& client, protocol::ClientConnection* h2 = nullptr) {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      if (client.handshake() && h2 != nullptr) {
        std::vector<std::string_view> views;
        std::string plain;
        h2->pending_output(views, SIZE_MAX);
        for (auto v : views) plain.append(v);
        h2->consume_output(plain.size());
        client.write(plain);
      }
      std::string up = client.take_ciphertext();
      if (!up.empty()) {
        server.on_bytes(up, runtime_.clock);
        moved = true;
      }
      std::vector<std::string_view> views;
      std::string down;
      server.pending_output(views, SIZE_MAX);
      for (auto v : views) down.append(v);
      server.on_written(down.size(), runtime_.clock);
      for (size_t at = 0; at + 5 <= down.size();) {  // whole records: each SSL_write appends one
        const size_t length = (size_t(uint8_t(down[at + 3])) << 8) | uint8_t(down[at + 4]);
        record_lengths_.push_back(length);
        at += 5 + length;
      }
      if (!down.empty()) {
        client.give_ciphertext(down);
        moved = true;
      }
      if (client.handshake()) {
        std::string plain = client.read();
        if (!plain.empty() && h2 != nullptr) h2->process_bytes(plain, runtime_.clock);
        if (h2 == nullptr) plain_received_ += plain;
        moved = moved || !plain.empty();
      }
      if (!moved) return;
    }
  }

  void get(protocol::ClientConnection& h2) { test::submit_get(h2, "https"); }

  FakeRuntime runtime_;
  std::shared_ptr<BodyHandler> handler_ = std::make_shared<BodyHandler>("hello over tls");
  std::shared_ptr<serve::Router> router_;
  ServerContext context_;
  std::shared_ptr<serve::ConnectionDriver> driver_;
  const char* version_ = nullptr;
  Client client_handler_;
  std::vector<size_t> record_lengths_;  // every TLS record the server sent
  std::string plain_received_;          // what the client decrypted, without an HTTP/2 client
};

TEST_F(TlsTest, AlpnH2ServesHttp2InsideTls) {
  auto server = make();
  EXPECT_EQ(server->state(), State::kSniffing);  // handshaking
  TlsClient client(kAlpnH2, sizeof kAlpnH2 - 1);
  protocol::ClientConnection h2(&client_handler_, {}, runtime_.clock);
  get(h2);
  shuttle(*server, client, &h2);
  EXPECT_EQ(server->alpn(), "h2");
  EXPECT_STREQ(version_, "TLSv1.3");
  EXPECT_EQ(server->state(), State::kHttp2);
  EXPECT_EQ(client_handler_.status, 200);
  EXPECT_EQ(client_handler_.body, "hello over tls");
  EXPECT_EQ(server->queued_blocks(), 0u);  // nothing kept once written
}

TEST_F(TlsTest, ALargeResponseArrivesWholeThroughFullRecords) {
  handler_->body.assign(1 << 20, 'x');
  for (size_t i = 0; i < handler_->body.size(); i += 4099) handler_->body[i] = char('a' + i % 26);
  auto server = make();
  TlsClient client(kAlpnH2, sizeof kAlpnH2 - 1);
  protocol::ClientConnection h2(&client_handler_, {}, runtime_.clock);
  get(h2);
  shuttle(*server, client, &h2);
  EXPECT_EQ(client_handler_.status, 200);
  EXPECT_EQ(client_handler_.body, handler_->body);
  EXPECT_EQ(server->queued_blocks(), 0u);
  // Full 16 KiB records (16,401 bytes with TLS 1.3's type and tag): HTTP/2 frames do not line
  // up with records, so partial ones are held back while more output follows.
  const size_t full = std::count(record_lengths_.begin(), record_lengths_.end(), 16401u);
  EXPECT_GE(full, 64u);
  EXPECT_LE(record_lengths_.size(), full + 12) << "records: " << record_lengths_.size();
}

TEST_F(TlsTest, AlpnHttp1IsServedByTheHttp1EngineInsideTheDriver) {
  auto server = make({}, /*http1=*/true);
  TlsClient client(kAlpnHttp1, sizeof kAlpnHttp1 - 1);
  shuttle(*server, client);
  EXPECT_EQ(server->alpn(), "http/1.1");
  client.write("GET /x HTTP/1.1\r\nHost: localhost\r\n\r\n");
  shuttle(*server, client);
  EXPECT_EQ(plain_received_.substr(0, 17), "HTTP/1.1 200 OK\r\n");
  EXPECT_EQ(plain_received_.substr(plain_received_.size() - handler_->body.size()), handler_->body);
  EXPECT_EQ(server->state(), State::kHttp1);  // keep-alive
}

TEST_F(TlsTest, WithoutAnHttp1EngineAlpnHttp1IsHandedOff) {
  auto server = make();
  TlsClient client(kAlpnHttp1, sizeof kAlpnHttp1 - 1);
  shuttle(*server, client);
  EXPECT_EQ(server->alpn(), "http/1.1");
  EXPECT_EQ(server->state(), State::kHandOff);
  EXPECT_FALSE(server->wants_read());
}

TEST_F(TlsTest, AnH2OnlyListenerRefusesHttp1WithAnAlertThenCloses) {
  auto server = make(serve::Protocols{true, false});
  TlsClient client(kAlpnHttp1, sizeof kAlpnHttp1 - 1);
  client.handshake();
  server->on_bytes(client.take_ciphertext(), runtime_.clock);
  // RFC 7301 §3.2: no_application_protocol; the alert is written before the close.
  EXPECT_EQ(server->state(), State::kLingering);
  std::vector<std::string_view> views;
  const size_t alert = server->pending_output(views, SIZE_MAX);
  ASSERT_GT(alert, 0u);
  std::string bytes;
  for (auto v : views) bytes.append(v);
  server->on_written(alert, runtime_.clock);
  EXPECT_EQ(server->state(), State::kClosed);
  client.give_ciphertext(bytes);
  EXPECT_FALSE(client.handshake());
  EXPECT_TRUE(client.failed);  // the client read the alert
}

TEST_F(TlsTest, NotTlsAtAllCloses) {
  auto server = make();
  server->on_bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n", runtime_.clock);
  std::vector<std::string_view> views;
  server->on_written(server->pending_output(views, SIZE_MAX), runtime_.clock);
  EXPECT_EQ(server->state(), State::kClosed);
}

TEST_F(TlsTest, ASilentClientClosesAtTheHandshakeDeadline) {
  auto server = make();
  EXPECT_EQ(server->next_wakeup_ms(), runtime_.clock + 500);
  server->on_time(runtime_.clock + 499);
  EXPECT_EQ(server->state(), State::kSniffing);
  server->on_time(runtime_.clock + 500);
  EXPECT_EQ(server->state(), State::kClosed);
}

TEST_F(TlsTest, DrainingEndsWithGoawayThenCloseNotify) {
  auto server = make();
  TlsClient client(kAlpnH2, sizeof kAlpnH2 - 1);
  protocol::ClientConnection h2(&client_handler_, {}, runtime_.clock);
  get(h2);
  shuttle(*server, client, &h2);
  server->drain(runtime_.clock);
  for (int i = 0; i < 40 && server->state() == State::kHttp2; ++i) {
    runtime_.clock = std::max(runtime_.clock + 1, server->next_wakeup_ms().value_or(0));
    server->on_time(runtime_.clock);
    shuttle(*server, client, &h2);
  }
  EXPECT_TRUE(client_handler_.goaway);
  EXPECT_TRUE(client.close_notify);  // RFC 8446 §6.1, before our FIN
  EXPECT_EQ(server->state(), State::kLingering);
  server->on_peer_eof(runtime_.clock, false);
  EXPECT_EQ(server->state(), State::kClosed);
}

}  // namespace
}  // namespace h2::tls
