// hello: the default module for "/". Answers every request with one line of text, showing the
// protocol the client used. Route config: `message` (string, optional).
#include <memory>
#include <string>

#include "h2/module.hpp"

namespace {

class HelloHandler final : public h2::Handler {
 public:
  explicit HelloHandler(std::string message) : message_(std::move(message)) {}
  void handle(h2::Exchange ex) override {
    const char* proto = ex.version() == h2::HttpVersion::kHttp2 ? "HTTP/2" : "HTTP/1.1";
    ex.respond(200, {{"content-type", "text/plain; charset=utf-8"}},
               message_ + " (" + proto + ")\n");
  }

 private:
  const std::string message_;
};

class HelloModule final : public h2::Module {
 public:
  // ABI 1.2: the route config keys, checked by the host (`h2host -t` refuses `mesage: hi`).
  static constexpr h2_config_key kRouteConfigKeys[] = {
      {"message", H2_KEY_STRING, "hello from h2host", "the text answered"}};
  static constexpr auto kModuleConfigKeys = h2::kNoConfigKeys;

  explicit HelloModule(const h2::Config&) {}
  std::unique_ptr<h2::Handler> create_handler(const h2::Config& route) override {
    std::string message(route["message"].as_string());
    return std::make_unique<HelloHandler>(message.empty() ? "hello from h2host" : message);
  }
};

}  // namespace

H2_MODULE(HelloModule, "hello", "1.0.0")
