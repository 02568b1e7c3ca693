// spec: ocaml-h2's spec handlers, one per respond mode, as one module named "spec".
// The route config's `handler` picks one; without it the request path's last segment does.
//   string       reads the body to its end, then respond_with_string "non-empty data."
//   bigstring    same with a shared immutable buffer (respond_shared: no copy per request)
//   streaming    a streaming response written in 10 pieces, 100 ms apart (~1 s), then closed
//   immediately  answers before reading the body
//   push         pushes /pushed (text/plain "pushed data."), then answers "non-empty data."
//                (on HTTP/1.1 the push is unsupported and only the answer goes out)
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>

#include "h2/module.hpp"

namespace {

constexpr std::string_view kText = "non-empty data.";
constexpr int kPieces = 10;
constexpr std::uint64_t kPieceDelayMs = 100;

// Reads and drops the request body chunk by chunk (one read at a time: backpressure), then
// calls `done`.
class Drain : public std::enable_shared_from_this<Drain> {
 public:
  Drain(h2::Exchange ex, std::function<void(h2::Exchange&)> done)
      : ex_(std::move(ex)), done_(std::move(done)) {}
  void next() {
    auto self = shared_from_this();
    ex_.read([self](std::string_view) { self->next(); }, [self] { self->done_(self->ex_); });
  }

 private:
  h2::Exchange ex_;
  std::function<void(h2::Exchange&)> done_;
};

void drain(h2::Exchange ex, std::function<void(h2::Exchange&)> done) {
  std::make_shared<Drain>(std::move(ex), std::move(done))->next();
}

class Streamer : public std::enable_shared_from_this<Streamer> {
 public:
  explicit Streamer(h2::Exchange ex) : ex_(std::move(ex)) {}
  void start() {
    if (ex_.respond_streaming(200, {{"content-type", "text/plain"}}) != h2::Result::kOk) return;
    piece();
  }

 private:
  void piece() {
    ++sent_;
    std::string text = "piece " + std::to_string(sent_) + " of " + std::to_string(kPieces) + ": " +
                       std::string(kText) + "\n";
    if (ex_.write(text) != h2::Result::kOk) return;
    auto self = shared_from_this();
    ex_.flush([self](bool written) {
      if (!written) return;
      if (self->sent_ == kPieces) {
        self->ex_.close();
      } else {
        self->ex_.after(kPieceDelayMs, [self] { self->piece(); });
      }
    });
  }

  h2::Exchange ex_;
  int sent_ = 0;
};

enum class Mode { kString, kBigstring, kStreaming, kImmediately, kPush, kByPath };

Mode parse_mode(std::string_view name) {
  if (name == "string") return Mode::kString;
  if (name == "bigstring") return Mode::kBigstring;
  if (name == "streaming") return Mode::kStreaming;
  if (name == "immediately") return Mode::kImmediately;
  if (name == "push") return Mode::kPush;
  return Mode::kByPath;
}

class SpecHandler final : public h2::Handler {
 public:
  explicit SpecHandler(Mode mode) : mode_(mode) {}

  void handle(h2::Exchange ex) override {
    Mode mode = mode_;
    if (mode == Mode::kByPath) {
      std::string_view path = ex.path().substr(0, ex.path().find('?'));
      mode = parse_mode(path.substr(path.rfind('/') + 1));
      if (mode == Mode::kByPath) {
        ex.respond(404, {{"content-type", "text/plain"}}, "no such spec handler\n");
        return;
      }
    }
    switch (mode) {
      case Mode::kString:
        drain(ex, [](h2::Exchange& e) { e.respond(200, {}, std::string(kText)); });
        break;
      case Mode::kBigstring:
        drain(ex,
              [buffer = buffer_](h2::Exchange& e) { e.respond_shared(200, {}, *buffer, buffer); });
        break;
      case Mode::kStreaming:
        std::make_shared<Streamer>(std::move(ex))->start();
        break;
      case Mode::kImmediately:
        ex.respond(200, {}, std::string(kText));
        break;
      case Mode::kPush: {
        auto [result, pushed] = ex.push("/pushed");
        if (pushed) pushed.respond(200, {{"content-type", "text/plain"}}, "pushed data.");
        ex.respond(200, {}, std::string(kText));
        break;
      }
      case Mode::kByPath:
        break;
    }
  }

 private:
  const Mode mode_;
  const std::shared_ptr<const std::string> buffer_ = std::make_shared<const std::string>(kText);
};

class SpecModule final : public h2::Module {
 public:
  static constexpr h2_config_key kRouteConfigKeys[] = {
      {"handler", H2_KEY_STRING, "(by path)",
       "string, bigstring, streaming, immediately or push"}};
  static constexpr auto kModuleConfigKeys = h2::kNoConfigKeys;

  std::unique_ptr<h2::Handler> create_handler(const h2::Config& route) override {
    std::string_view name = route["handler"].as_string();
    Mode mode = parse_mode(name);
    if (!name.empty() && mode == Mode::kByPath) {
      throw std::invalid_argument(route["handler"].where() + ": unknown spec handler '" +
                                  std::string(name) +
                                  "' (string, bigstring, streaming, immediately, push)");
    }
    return std::make_unique<SpecHandler>(mode);
  }
};

}  // namespace

H2_MODULE(SpecModule, "spec", "1.0.0")
