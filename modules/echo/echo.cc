// echo: streams the request body back as the response body, chunk by chunk, with flow control
// end to end: the next request chunk is asked for only after the previous one was flushed to
// the client, so a slow reader slows the sender (the host reopens the request window only as
// chunks are consumed). Request trailers come back as response trailers (where the protocol
// can carry them). The response content-type mirrors the request's.
// Route config: none.
#include <memory>
#include <string>
#include <vector>

#include "h2/module.hpp"

namespace {

class EchoStream : public std::enable_shared_from_this<EchoStream> {
 public:
  explicit EchoStream(h2::Exchange ex) : ex_(std::move(ex)) {}

  void start() {
    std::string type(ex_.header("content-type").value_or("application/octet-stream"));
    if (ex_.respond_streaming(200, {{"content-type", type}}) != h2::Result::kOk) return;
    read_next();
  }

 private:
  void read_next() {
    auto self = shared_from_this();
    ex_.read([self](std::string_view chunk) { self->on_chunk(chunk); }, [self] { self->on_eof(); });
  }
  void on_chunk(std::string_view chunk) {
    if (ex_.write(chunk) != h2::Result::kOk) return;  // stream gone: stop reading
    auto self = shared_from_this();
    ex_.flush([self](bool written) {
      if (written) self->read_next();
    });
  }
  void on_eof() {
    std::vector<h2::Header> trailers = ex_.trailers();
    if (ex_.close(trailers) == h2::Result::kUnsupported) ex_.close();
  }

  h2::Exchange ex_;
};

class EchoHandler final : public h2::Handler {
 public:
  void handle(h2::Exchange ex) override { std::make_shared<EchoStream>(std::move(ex))->start(); }
};

class EchoModule final : public h2::Module {
 public:
  static constexpr auto kRouteConfigKeys = h2::kNoConfigKeys;
  static constexpr auto kModuleConfigKeys = h2::kNoConfigKeys;

  std::unique_ptr<h2::Handler> create_handler(const h2::Config&) override {
    return std::make_unique<EchoHandler>();
  }
};

}  // namespace

H2_MODULE(EchoModule, "echo", "1.0.0")
