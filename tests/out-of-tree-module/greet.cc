// An out-of-tree module: only <h2/module.hpp> from the installed SDK.
#include <h2/module.hpp>
#include <memory>
#include <string>

namespace {

struct Greet final : h2::Handler {
  std::string who;
  explicit Greet(std::string w) : who(std::move(w)) {}
  void handle(h2::Exchange ex) override {
    ex.respond(200, {{"content-type", "text/plain"}}, "greetings, " + who + "\n");
  }
};

struct GreetModule final : h2::Module {
  explicit GreetModule(const h2::Config&) {}
  std::unique_ptr<h2::Handler> create_handler(const h2::Config& route) override {
    std::string who(route["who"].as_string());
    return std::make_unique<Greet>(who.empty() ? "world" : who);
  }
};

}  // namespace

H2_MODULE(GreetModule, "greet", "1.0.0")
