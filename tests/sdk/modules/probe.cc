// probe: a test module exercising the SDK's C++ layer end to end (config access, request head,
// failures). Route config `mode` picks the behaviour; see tests/host/module_bridge_test.cc.
//   info              answers a text dump of the request and of the configs
//   throw             throws before any response          -> host answers 500
//   throw-after-head  starts a streaming response, throws  -> RST_STREAM(INTERNAL_ERROR)
//   throw-in-callback throws from the body's on_eof        -> 500
//   push              pushes /pushed.css, then answers; the body names the push result
//   early-hints       103 with a link field, then 200
//   wait              reads, arms a timer and registers on_cancel, logging each outcome
//                     ("chunk N", "eof", "read cancelled", "timer fired", "cancel")
//   borrowed          streams two borrowed pieces, logs "released N" for each release
//   offload           hands the answer to the module's own thread pool, which posts it back
//                     through an h2::Poster ("offloaded PATH fnv=HEX"); a path containing
//                     "hold" waits until a request to an offload-release route; a task that
//                     finds its stream reset logs "offload: stream closed before the answer"
//   offload-release   releases the held offload jobs, answers "released"
// Module config: `fail_init: true` makes init fail. Route config `fail_route: true` makes
// create_handler fail.
#include <unistd.h>

#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "h2/module.hpp"

namespace {

// A null store the compiler cannot drop: the SIGSEGV a module bug causes.
[[noreturn]] void crash() {
  volatile int* null = nullptr;
  *null = 1;
  std::abort();
}

const char* result_name(h2::Result r) {
  switch (r) {
    case h2::Result::kOk:
      return "ok";
    case h2::Result::kUnsupported:
      return "unsupported";
    case h2::Result::kRefused:
      return "refused";
    case h2::Result::kClosed:
      return "closed";
    case h2::Result::kInvalid:
      return "invalid";
  }
  return "?";
}

std::string dump(const h2::Config& c) {
  switch (c.kind()) {
    case h2::Config::Kind::kNull:
      return "null";
    case h2::Config::Kind::kBool:
      return c.as_bool() ? "true" : "false";
    case h2::Config::Kind::kInt:
      return std::to_string(c.as_int());
    case h2::Config::Kind::kString:
      return "'" + std::string(c.as_string()) + "'";
    case h2::Config::Kind::kList: {
      std::string out = "[";
      for (std::size_t i = 0; i < c.size(); ++i) out += (i ? "," : "") + dump(c.at(i));
      return out + "]";
    }
    case h2::Config::Kind::kMap: {
      std::string out = "{";
      for (std::size_t i = 0; i < c.size(); ++i) {
        out += (i ? "," : "") + std::string(c.key_at(i)) + ":" + dump(c.at(i));
      }
      return out + "}";
    }
  }
  return "?";
}

// The module's own threads for blocking work (what a database client would run on). Started on
// first use; the destructor finishes the queued jobs and joins.
class Pool {
 public:
  ~Pool() {
    {
      std::lock_guard lock(mutex_);
      stop_ = true;
      released_ = true;
    }
    cv_.notify_all();
    for (std::thread& t : threads_) t.join();
  }
  void submit(std::function<void()> job) {
    {
      std::lock_guard lock(mutex_);
      if (threads_.empty()) {
        for (int i = 0; i < 4; ++i) threads_.emplace_back([this] { run(); });
      }
      jobs_.push_back(std::move(job));
    }
    cv_.notify_all();
  }
  void wait_released() {
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [this] { return released_; });
  }
  void release() {
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_all();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> job;
      {
        std::unique_lock lock(mutex_);
        cv_.wait(lock, [this] { return stop_ || !jobs_.empty(); });
        if (jobs_.empty()) return;
        job = std::move(jobs_.front());
        jobs_.pop_front();
      }
      job();
    }
  }
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> jobs_;
  std::vector<std::thread> threads_;
  bool stop_ = false;
  bool released_ = false;
};

std::string fnv_hex(std::string_view text) {
  uint64_t h = 1469598103934665603ull;  // FNV-1a 64
  for (unsigned char c : text) h = (h ^ c) * 1099511628211ull;
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

class ProbeHandler final : public h2::Handler {
 public:
  ProbeHandler(std::string mode, std::string module_dump, std::string route_dump,
               std::string route_where, Pool* pool)
      : pool_(pool),
        mode_(std::move(mode)),
        module_dump_(std::move(module_dump)),
        route_dump_(std::move(route_dump)),
        route_where_(std::move(route_where)) {}

  void handle(h2::Exchange ex) override {
    if (mode_ == "crash") crash();  // what a buggy module does: the worker dies on SIGSEGV
    if (mode_ == "crash-in-timer") {  // the same bug in a later callback of the exchange
      ex.after(10, [] { crash(); });
      return;
    }
    if (mode_ == "pid") {  // which worker process served this (crash-isolation tests)
      ex.respond(200, {{"content-type", "text/plain"}}, std::to_string(::getpid()));
      return;
    }
    if (mode_ == "headers") {  // every request field, one "name: value" line each (proxy tests)
      std::string out = ":authority: " + std::string(ex.authority()) + "\n:path: " +
                        std::string(ex.path()) + "\n";
      for (const h2::Header& h : ex.headers()) {
        out.append(h.name).append(": ").append(h.value).append("\n");
      }
      ex.respond(200, {{"content-type", "text/plain"}, {"x-backend", "probe"}}, std::move(out));
      return;
    }
    if (mode_ == "throw") throw std::runtime_error("probe failure before the head");
    if (mode_ == "throw-after-head") {
      ex.respond_streaming(200, {{"content-type", "text/plain"}});
      ex.write("partial");
      throw std::runtime_error("probe failure after the head");
    }
    if (mode_ == "throw-in-callback") {
      ex.read([](std::string_view) { throw std::logic_error("probe failure in on_chunk"); },
              [] { throw std::logic_error("probe failure in on_eof"); });
      return;
    }
    if (mode_ == "push") {
      auto [result, pushed] = ex.push("/pushed.css", {{"accept", "text/css"}});
      if (pushed) pushed.respond(200, {{"content-type", "text/css"}}, "body{}");
      ex.respond(200, {}, std::string("push: ") + result_name(result));
      return;
    }
    if (mode_ == "early-hints") {
      h2::Result r = ex.informational(103, {{"link", "</a.css>; rel=preload"}});
      ex.respond(200, {}, std::string("103: ") + result_name(r));
      return;
    }
    if (mode_ == "wait") {
      ex.read([](std::string_view c) { h2::log(h2::LogLevel::kInfo, "chunk " + std::string(c)); },
              [] { h2::log(h2::LogLevel::kInfo, "eof"); },
              [] { h2::log(h2::LogLevel::kInfo, "read cancelled"); });
      ex.after(1000, [] { h2::log(h2::LogLevel::kInfo, "timer fired"); });
      ex.on_cancel([] { h2::log(h2::LogLevel::kInfo, "cancel"); });
      return;
    }
    if (mode_ == "offload") {
      h2::Poster poster = ex.poster();
      std::string path(ex.path());
      // The job outlives this handler if a reload drops it: capture the module's pool, not this.
      Pool* pool = pool_;
      pool->submit([pool, poster, path] {
        if (path.find("hold") != std::string::npos) pool->wait_released();
        std::string body = "offloaded " + path + " fnv=" + fnv_hex(path);  // the "blocking" work
        poster.post([body](h2::Exchange& back) {
          if (back.closed()) {
            h2::log(h2::LogLevel::kInfo, "offload: stream closed before the answer");
            return;
          }
          back.respond(200, {{"content-type", "text/plain"}}, body);
        });
      });
      return;
    }
    if (mode_ == "offload-release") {
      pool_->release();
      ex.respond(200, {}, "released");
      return;
    }
    if (mode_ == "borrowed") {
      static const std::string kPieces[] = {"one,", "two"};
      ex.respond_streaming(200, {});
      for (int i = 0; i < 2; ++i) {
        ex.write_borrowed(kPieces[i],
                          [i] { h2::log(h2::LogLevel::kInfo, "released " + std::to_string(i)); });
      }
      ex.flush([ex](bool written) mutable {
        h2::log(h2::LogLevel::kInfo, written ? "flushed" : "flush closed");
        ex.close();
      });
      return;
    }
    std::string out;
    out += "method=" + std::string(ex.method()) + "\n";
    out += "path=" + std::string(ex.path()) + "\n";
    out += "authority=" + std::string(ex.authority()) + "\n";
    out += "version=" + std::string(ex.version() == h2::HttpVersion::kHttp2 ? "2" : "1.1") + "\n";
    out += "x-test=" + std::string(ex.header("x-test").value_or("-")) + "\n";
    out += "headers=" + std::to_string(ex.headers().size()) + "\n";
    out += "module=" + module_dump_ + "\n";
    out += "route=" + route_dump_ + "\n";
    out += "route_where=" + route_where_ + "\n";
    h2::log(h2::LogLevel::kInfo, "served " + std::string(ex.path()));
    ex.respond(200, {{"content-type", "text/plain"}, {"x-probe", "1"}}, std::move(out));
  }

 private:
  Pool* pool_;
  const std::string mode_, module_dump_, route_dump_, route_where_;
};

class ProbeModule final : public h2::Module {
 public:
  explicit ProbeModule(const h2::Config& config) : dump_(dump(config)) {
    if (config["crash_init"].as_bool()) crash();
    if (config["fail_init"].as_bool()) {
      throw std::runtime_error("fail_init requested at " + config["fail_init"].where());
    }
  }
  std::unique_ptr<h2::Handler> create_handler(const h2::Config& route) override {
    if (route["fail_route"].as_bool()) throw std::invalid_argument("fail_route requested");
    std::string mode(route["mode"].as_string());
    return std::make_unique<ProbeHandler>(mode.empty() ? "info" : mode, dump_, dump(route),
                                          route.where(), &pool_);
  }

 private:
  const std::string dump_;
  Pool pool_;  // last: joined first, before the handlers' state it may use is gone
};

}  // namespace

H2_MODULE(ProbeModule, "probe", "0.1.0")
