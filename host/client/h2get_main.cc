// h2get: the command-line HTTP/2 client on protocol::ClientConnection and the Asio runtime
// (host/client/). One connection per origin; every request of an origin is a stream on it.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/client/connect.h"
#include "host/client/frame_printer.h"
#include "host/client/h2get_options.h"

namespace h2::host::client {
namespace {

using protocol::ClientStream;
using protocol::Field;

// One request and what became of it.
struct Exchange {
  Url url;
  ClientStream stream;
  Session* session = nullptr;      // its connection (alive as long as the run)
  std::FILE* body_file = nullptr;  // streamed request body (-d @FILE)
  int status = 0;
  std::string failure;
  bool done = false;
};

class Run final : public protocol::ClientHandler {
 public:
  explicit Run(const H2getOptions& o) : o_(o), out_(stdout), start_(clock::now()) {}
  ~Run() override {
    for (auto& e : exchanges_) {
      if (e->body_file) std::fclose(e->body_file);
    }
    if (out_ && out_ != stdout) std::fclose(out_);
  }

  int run() {
    if (!o_.output.empty() && !(out_ = std::fopen(o_.output.c_str(), "wb"))) {
      std::fprintf(stderr, "h2get: cannot write %s: %s\n", o_.output.c_str(), std::strerror(errno));
      return 1;
    }
    if (o_.verbose) printer_ = std::make_unique<FramePrinter>(stderr);
    std::map<std::string, std::vector<Exchange*>> by_origin;
    for (const Url& url : o_.urls) {
      for (int i = 0; i < o_.multiply; ++i) {
        exchanges_.push_back(std::make_unique<Exchange>());
        exchanges_.back()->url = url;
        by_origin[url.origin()].push_back(exchanges_.back().get());
      }
    }
    for (auto& [origin, list] : by_origin) connect(list);
    io_.run();
    return exit_status();
  }

  // ---- ClientHandler ----
  void on_informational(ClientStream& s, uint16_t status,
                        std::span<const Field> fields) override {
    if (o_.include) print_head(s, status, fields);
  }
  void on_response(ClientStream& s, uint16_t status, std::span<const Field> fields) override {
    exchange(s).status = status;
    if (o_.include) print_head(s, status, fields);
  }
  void on_data(ClientStream&, std::string_view data) override {
    std::fwrite(data.data(), 1, data.size(), out_);
  }
  void on_trailers(ClientStream&, std::span<const Field> fields) override {
    if (!o_.include) return;
    for (const Field& f : fields) {
      std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(f.name.size()), f.name.data(),
                   static_cast<int>(f.value.size()), f.value.data());
    }
  }
  void on_writable(ClientStream& s) override { send_body(exchange(s)); }
  void on_stream_closed(ClientStream& s, protocol::ClientStreamEnd end, protocol::ErrorCode code,
                        bool retryable) override {
    Exchange& e = exchange(s);
    e.done = true;
    if (end == protocol::ClientStreamEnd::kConnectionEnded && !e.session->failure().empty()) {
      e.failure = "connection failed: " + e.session->failure();
    } else if (end != protocol::ClientStreamEnd::kCompleted) {
      e.failure = std::string(protocol::client_stream_end_name(end)) + " (" +
                  std::string(protocol::error_code_name(code)) + ")" +
                  (retryable ? ", retryable" : "");
    }
    if (++finished_ == exchanges_.size()) {
      for (auto& [origin, session] : sessions_) session->shutdown();
    }
  }
  void on_connection_closed(protocol::ErrorCode code, std::string_view reason) override {
    if (code != protocol::ErrorCode::kNoError && o_.verbose) {
      std::fprintf(stderr, "h2get: connection closed: %s: %.*s\n",
                   std::string(protocol::error_code_name(code)).c_str(),
                   static_cast<int>(reason.size()), reason.data());
    }
  }

 private:
  using clock = std::chrono::steady_clock;

  void connect(std::vector<Exchange*> list) {
    ConnectOptions co;
    co.verify_peer = !o_.insecure;
    co.ca_file = o_.ca_file;
    co.unix_socket = o_.unix_socket;
    co.connect_timeout_ms = o_.connect_timeout_ms;
    co.tls_timeout_ms = o_.connect_timeout_ms;
    SessionOptions so;
    so.response_timeout_ms = o_.response_timeout_ms;
    if (printer_) {
      so.tap = [this](std::string_view bytes, bool outgoing) {
        const auto ms = std::chrono::duration<double, std::milli>(clock::now() - start_);
        printer_->feed(bytes, outgoing, ms.count());
      };
    }
    const Url url = list.front()->url;
    async_connect(io_.get_executor(), url, co, this, so,
                  [this, list, url](std::shared_ptr<Session> session, std::string error) {
                    if (!session) {
                      std::fprintf(stderr, "h2get: %s\n", error.c_str());
                      for (Exchange* e : list) e->failure = error;
                      return;
                    }
                    sessions_[url.origin()] = session;
                    for (Exchange* e : list) submit(*session, *e);
                  });
  }

  void submit(Session& session, Exchange& e) {
    std::vector<Field> headers;
    for (const auto& [n, v] : o_.headers) headers.push_back({n, v});
    const std::string authority = e.url.authority();
    const bool has_body = o_.body.kind != BodySource::Kind::kNone;
    protocol::ClientResult result;
    e.stream = session.connection().submit(
        {o_.method, e.url.tls ? "https" : "http", authority, e.url.path, headers}, !has_body,
        &result);
    if (result != protocol::ClientResult::kOk) {
      e.failure = "request refused by the client: invalid method, path or header";
      e.done = true;
      ++finished_;
      return;
    }
    e.stream.set_user_data(&e);
    e.session = &session;
    if (o_.body.kind == BodySource::Kind::kFile) {
      e.body_file = std::fopen(o_.body.text.c_str(), "rb");
      if (!e.body_file) {
        std::fprintf(stderr, "h2get: cannot read %s: %s\n", o_.body.text.c_str(),
                     std::strerror(errno));
        e.stream.reset();
        return;
      }
    }
    if (has_body) send_body(e);
  }

  // Writes body pieces while the stream takes them (backpressure: on_writable resumes).
  void send_body(Exchange& e) {
    if (e.stream.ended()) return;
    if (o_.body.kind != BodySource::Kind::kFile) {
      e.stream.write(o_.body.text);
      e.stream.end();
      return;
    }
    while (e.body_file && e.stream.writable()) {
      std::string piece(64 * 1024, '\0');
      const size_t n = std::fread(piece.data(), 1, piece.size(), e.body_file);
      piece.resize(n);
      if (n > 0) e.stream.write(std::move(piece));
      if (n < 64 * 1024) {
        std::fclose(e.body_file);
        e.body_file = nullptr;
        e.stream.end();
      }
    }
  }

  void print_head(ClientStream&, uint16_t status, std::span<const Field> fields) {
    std::fprintf(stderr, ":status: %u\n", status);
    for (const Field& f : fields) {
      std::fprintf(stderr, "%.*s: %.*s\n", static_cast<int>(f.name.size()), f.name.data(),
                   static_cast<int>(f.value.size()), f.value.data());
    }
  }

  static Exchange& exchange(ClientStream& s) { return *static_cast<Exchange*>(s.user_data()); }

  // 0: every response 2xx; 3, 4, 5: the highest status class seen otherwise; 1: a request got
  // no complete response (connection or stream failure).
  int exit_status() const {
    int worst = 0;
    for (const auto& e : exchanges_) {
      if (!e->failure.empty() || !e->done) {
        std::fprintf(stderr, "h2get: %s%s: %s\n", e->url.origin().c_str(), e->url.path.c_str(),
                     e->failure.empty() ? "no response" : e->failure.c_str());
        return 1;
      }
      const int status_class = e->status / 100;
      if (status_class >= 3) worst = std::max(worst, status_class);
    }
    return worst;
  }

  const H2getOptions& o_;
  std::FILE* out_;
  clock::time_point start_;
  boost::asio::io_context io_;
  std::unique_ptr<FramePrinter> printer_;
  std::vector<std::unique_ptr<Exchange>> exchanges_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;
  size_t finished_ = 0;
};

}  // namespace
}  // namespace h2::host::client

int main(int argc, char** argv) {
  using namespace h2::host::client;
  H2getOptions options;
  std::string error;
  switch (parse_h2get_options(argc, argv, &options, &error)) {
    case ParseOutcome::kRun: break;
    case ParseOutcome::kHelp: std::fputs(h2get_usage(), stdout); return 0;
    case ParseOutcome::kVersion: std::puts("h2get " H2_VERSION); return 0;
    case ParseOutcome::kError:
      std::fprintf(stderr, "h2get: %s\n%s", error.c_str(), "Try 'h2get --help'.\n");
      return 2;
  }
  Run run(options);
  return run.run();
}
