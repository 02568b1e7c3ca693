// An in-process serve::Exchange for the loader/bridge unit tests: a deterministic single-thread
// "connection" with a virtual clock. The test queues request body chunks, calls a module's
// handler, then pumps run(): pending reads are served, flushes complete (kWritten), borrowed
// writes are released, timers fire in time order. Everything the module did is recorded.
// It stands in only for the transport; the module, the C ABI and the bridge are the real ones.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "serve/exchange.h"

namespace h2::test {

// A serve::Loop whose "loop thread" is whichever test thread calls run_until(): posts from any
// thread queue up; run_until() runs them there. Waits are bounded and fail, never sleep.
class ManualLoop final : public serve::Loop {
 public:
  void post(Task task) override {
    std::unique_lock lock(mutex_);
    if (stopped_) {
      lock.unlock();
      task(false);
      lock.lock();
      ++inline_runs_;  // wakes run_until: what the task did may be what it waits for
      cv_.notify_all();
      return;
    }
    tasks_.push_back(std::move(task));
    cv_.notify_all();
  }
  // Runs posted tasks on this thread until `done()` holds (true) or `timeout` passes (false).
  bool run_until(const std::function<bool()>& done,
                 std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (done()) return true;
      std::unique_lock lock(mutex_);
      const size_t inline_runs = inline_runs_;
      if (!cv_.wait_until(lock, deadline,
                          [&] { return !tasks_.empty() || inline_runs_ != inline_runs; })) {
        return done();
      }
      if (tasks_.empty()) continue;  // a task ran inline on a stopped loop: check done() again
      Task task = std::move(tasks_.front());
      tasks_.pop_front();
      lock.unlock();
      task(true);
      ++ran;
    }
  }
  // The loop ends: queued tasks and every later post run with run == false.
  void stop() {
    std::deque<Task> left;
    {
      std::lock_guard lock(mutex_);
      stopped_ = true;
      left.swap(tasks_);
    }
    for (Task& t : left) t(false);
  }
  std::size_t ran = 0;

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<Task> tasks_;
  size_t inline_runs_ = 0;
  bool stopped_ = false;
};

class FakeExchange final : public serve::Exchange,
                           public std::enable_shared_from_this<FakeExchange> {
 public:
  using Fields = std::vector<std::pair<std::string, std::string>>;

  FakeExchange(std::string method, std::string path, Fields headers = {},
               serve::HttpVersion version = serve::HttpVersion::kHttp2)
      : version_(version),
        method_(std::move(method)),
        path_(std::move(path)),
        header_store_(std::move(headers)) {
    for (auto& [n, v] : header_store_) header_views_.push_back({n, v});
  }
  ~FakeExchange() override { drop_callbacks(); }

  // ---- test controls ----
  void add_body(std::string chunk) { body_.push_back(std::move(chunk)); }
  void end_body(Fields trailers = {}) {
    body_done_ = true;
    trailer_store_ = std::move(trailers);
    for (auto& [n, v] : trailer_store_) trailer_views_.push_back({n, v});
  }
  // Serves reads, completes flushes and releases, fires due timers; repeats until idle or
  // `max_steps`. Virtual time advances to the next timer when nothing else is pending.
  void run(int max_steps = 100000);
  // The peer resets the stream: pending callbacks are dropped, on_cancel runs.
  void peer_reset();
  // Drops every pending callback without calling it (connection gone).
  void drop_callbacks();
  void set_push_allowed(bool allowed) { push_allowed_ = allowed; }
  void set_loop(std::shared_ptr<serve::Loop> loop) { loop_ = std::move(loop); }

  // ---- what the module did ----
  int status = 0;
  Fields response_headers;
  std::string body;  // response body (string, shared or streamed)
  Fields response_trailers;
  std::vector<int> informational;
  std::vector<std::shared_ptr<FakeExchange>> pushed;
  std::vector<std::string> pushed_paths;
  bool body_closed = false;
  std::uint32_t reset_code = 0;
  bool was_reset = false;
  int flushes = 0;
  int borrowed_writes = 0;
  std::size_t max_unflushed = 0;  // most bytes written before a flush completed
  std::uint64_t now_ms = 0;

  std::string header(const std::string& name) const {
    for (auto& [n, v] : response_headers) {
      if (n == name) return v;
    }
    return "";
  }

  // ---- serve::Exchange ----
  serve::HttpVersion version() const override { return version_; }
  std::string_view method() const override { return method_; }
  std::string_view scheme() const override { return "http"; }
  std::string_view authority() const override { return "example.test"; }
  std::string_view path() const override { return path_; }
  std::string_view protocol() const override { return {}; }
  std::span<const serve::HeaderField> headers() const override { return header_views_; }
  std::string_view peer() const override { return "127.0.0.1:5555"; }
  serve::ExchangeResult read_body(ChunkCallback on_chunk, EofCallback on_eof) override;
  std::span<const serve::HeaderField> request_trailers() const override {
    return eof_delivered_ ? std::span<const serve::HeaderField>(trailer_views_)
                          : std::span<const serve::HeaderField>();
  }
  serve::ExchangeResult respond_with_string(const serve::ResponseHead& head, std::string b) override;
  serve::ExchangeResult respond_with_shared(const serve::ResponseHead& head,
                                           serve::SharedBytes b) override;
  serve::ExchangeResult respond_streaming(const serve::ResponseHead& head) override;
  serve::ExchangeResult write(std::string_view bytes) override;
  serve::ExchangeResult write_borrowed(std::string_view bytes, ReleaseCallback release) override;
  void flush(FlushCallback done) override;
  serve::ExchangeResult close_body(std::span<const serve::HeaderField> trailers) override;
  serve::ExchangeResult send_informational(const serve::ResponseHead& head) override;
  serve::PushResult push(const serve::PushRequest& request) override;
  void reset(std::uint32_t error_code) override;
  bool response_started() const override { return status != 0; }
  bool closed() const override { return closed_; }
  void on_cancel(CancelCallback cb) override { on_cancel_ = std::move(cb); }
  void schedule(std::uint64_t delay_ms, TimerCallback fire) override {
    timers_.emplace(now_ms + delay_ms, std::move(fire));
  }
  std::shared_ptr<serve::Loop> loop() const override { return loop_; }

 private:
  serve::ExchangeResult head(const serve::ResponseHead& h);
  void complete();

  serve::HttpVersion version_;
  std::string method_, path_;
  Fields header_store_, trailer_store_;
  std::vector<serve::HeaderField> header_views_, trailer_views_;
  std::deque<std::string> body_;
  bool body_done_ = false;
  bool eof_delivered_ = false;
  bool streaming_ = false;
  bool closed_ = false;
  bool push_allowed_ = true;
  std::size_t unflushed_ = 0;
  ChunkCallback pending_chunk_;
  EofCallback pending_eof_;
  std::vector<FlushCallback> flushes_;
  std::vector<ReleaseCallback> releases_;
  std::shared_ptr<const void> shared_body_;
  CancelCallback on_cancel_;
  std::multimap<std::uint64_t, TimerCallback> timers_;
  std::shared_ptr<serve::Loop> loop_ = std::make_shared<ManualLoop>();
};

// ---- implementation (inline: one header, shared by the module_*_test.cc files) ----

inline void FakeExchange::run(int max_steps) {
  auto self = shared_from_this();  // callbacks may drop the module's last reference
  for (int step = 0; step < max_steps; ++step) {
    if (pending_chunk_ && !body_.empty()) {
      auto chunk = std::move(pending_chunk_);
      pending_eof_ = nullptr;
      std::string data = std::move(body_.front());
      body_.pop_front();
      chunk(data);
      continue;
    }
    if (pending_eof_ && body_.empty() && body_done_) {
      auto eof = std::move(pending_eof_);
      pending_chunk_ = nullptr;
      eof_delivered_ = true;
      eof();
      continue;
    }
    if (!releases_.empty()) {
      auto list = std::move(releases_);
      releases_.clear();
      for (auto& r : list) r();
      continue;
    }
    if (!flushes_.empty()) {
      auto list = std::move(flushes_);
      flushes_.clear();
      unflushed_ = 0;
      for (auto& f : list) f(closed_ ? serve::FlushResult::kClosed : serve::FlushResult::kWritten);
      continue;
    }
    if (!timers_.empty() && !closed_) {
      auto it = timers_.begin();
      if (it->first > now_ms) now_ms = it->first;
      auto fire = std::move(it->second);
      timers_.erase(it);
      fire();
      continue;
    }
    return;
  }
}

inline void FakeExchange::drop_callbacks() {
  auto chunk = std::move(pending_chunk_);
  auto eof = std::move(pending_eof_);
  auto cancel = std::move(on_cancel_);
  auto timers = std::move(timers_);
  auto releases = std::move(releases_);
  auto flushes = std::move(flushes_);
  auto shared = std::move(shared_body_);
  for (auto& r : releases) r();
  for (auto& f : flushes) f(serve::FlushResult::kClosed);
}

inline void FakeExchange::peer_reset() {
  auto self = shared_from_this();
  closed_ = true;
  auto cancel = std::move(on_cancel_);
  on_cancel_ = nullptr;
  drop_callbacks();
  if (cancel) cancel();
}

inline serve::ExchangeResult FakeExchange::read_body(ChunkCallback on_chunk, EofCallback on_eof) {
  if (closed_) return serve::ExchangeResult::kClosed;
  if (pending_chunk_ || pending_eof_) return serve::ExchangeResult::kInvalid;
  pending_chunk_ = std::move(on_chunk);
  pending_eof_ = std::move(on_eof);
  return serve::ExchangeResult::kOk;
}

inline serve::ExchangeResult FakeExchange::head(const serve::ResponseHead& h) {
  if (closed_) return serve::ExchangeResult::kClosed;
  if (status != 0 || h.status < 200 || h.status > 999) return serve::ExchangeResult::kInvalid;
  status = h.status;
  for (auto& f : h.headers) response_headers.emplace_back(f.name, f.value);
  return serve::ExchangeResult::kOk;
}

inline void FakeExchange::complete() {
  body_closed = true;
  closed_ = true;
  pending_chunk_ = nullptr;  // the exchange is done: callbacks are released
  pending_eof_ = nullptr;
  on_cancel_ = nullptr;
}

inline serve::ExchangeResult FakeExchange::respond_with_string(const serve::ResponseHead& h,
                                                              std::string b) {
  auto r = head(h);
  if (r != serve::ExchangeResult::kOk) return r;
  body = std::move(b);
  complete();
  return r;
}

inline serve::ExchangeResult FakeExchange::respond_with_shared(const serve::ResponseHead& h,
                                                              serve::SharedBytes b) {
  auto r = head(h);
  if (r != serve::ExchangeResult::kOk) return r;
  body.assign(b.bytes);
  shared_body_ = std::move(b.keep_alive);  // released like a host would after the write
  complete();
  return r;
}

inline serve::ExchangeResult FakeExchange::respond_streaming(const serve::ResponseHead& h) {
  auto r = head(h);
  if (r == serve::ExchangeResult::kOk) streaming_ = true;
  return r;
}

inline serve::ExchangeResult FakeExchange::write(std::string_view bytes) {
  if (closed_) return serve::ExchangeResult::kClosed;
  if (!streaming_ || body_closed) return serve::ExchangeResult::kInvalid;
  body.append(bytes);
  unflushed_ += bytes.size();
  if (unflushed_ > max_unflushed) max_unflushed = unflushed_;
  return serve::ExchangeResult::kOk;
}

inline serve::ExchangeResult FakeExchange::write_borrowed(std::string_view bytes,
                                                         ReleaseCallback release) {
  auto r = write(bytes);
  if (r != serve::ExchangeResult::kOk) {
    release();
    return r;
  }
  ++borrowed_writes;
  releases_.push_back(std::move(release));
  return r;
}

inline void FakeExchange::flush(FlushCallback done) {
  ++flushes;
  flushes_.push_back(std::move(done));
}

inline serve::ExchangeResult FakeExchange::close_body(std::span<const serve::HeaderField> trailers) {
  if (closed_) return serve::ExchangeResult::kClosed;
  if (!streaming_ || body_closed) return serve::ExchangeResult::kInvalid;
  if (!trailers.empty() && version_ == serve::HttpVersion::kHttp11) {
    complete();
    return serve::ExchangeResult::kUnsupported;
  }
  for (auto& f : trailers) response_trailers.emplace_back(f.name, f.value);
  complete();
  return serve::ExchangeResult::kOk;
}

inline serve::ExchangeResult FakeExchange::send_informational(const serve::ResponseHead& h) {
  if (closed_) return serve::ExchangeResult::kClosed;
  if (status != 0 || h.status < 100 || h.status > 199) return serve::ExchangeResult::kInvalid;
  informational.push_back(h.status);
  return serve::ExchangeResult::kOk;
}

inline serve::PushResult FakeExchange::push(const serve::PushRequest& request) {
  if (version_ == serve::HttpVersion::kHttp11) return {serve::ExchangeResult::kUnsupported, {}};
  if (!push_allowed_) return {serve::ExchangeResult::kRefused, {}};
  if (status != 0) return {serve::ExchangeResult::kInvalid, {}};
  auto p = std::make_shared<FakeExchange>(std::string(request.method), std::string(request.path));
  pushed.push_back(p);
  pushed_paths.emplace_back(request.path);
  return {serve::ExchangeResult::kOk, p};
}

inline void FakeExchange::reset(std::uint32_t error_code) {
  auto self = shared_from_this();
  was_reset = true;
  reset_code = error_code;
  closed_ = true;
  on_cancel_ = nullptr;
  drop_callbacks();
}

}  // namespace h2::test
