#include "protocol/server_connection.h"

#include <utility>

#include "protocol/detail/core.h"

namespace h2::protocol {
namespace {

// One driving call: refused when made from inside a callback (request_handler.h); delivers the
// stream-closed notifications queued during the call when it ends.
class Driving {
 public:
  explicit Driving(detail::Core* core) : core_(core), entered_(core->enter_driving()) {}
  ~Driving() {
    if (entered_) core_->leave_driving();
  }
  Driving(const Driving&) = delete;
  Driving& operator=(const Driving&) = delete;
  explicit operator bool() const { return entered_; }

 private:
  detail::Core* core_;
  bool entered_;
};

}  // namespace

ServerConnection::ServerConnection(RequestHandler* handler, const ConnectionOptions& options,
                                   uint64_t now_ms)
    : ServerConnection(handler, SharedOptions(std::make_shared<const ConnectionOptions>(options)),
                       now_ms) {}

ServerConnection::ServerConnection(RequestHandler* handler, const ConnectionOptions& options,
                                   uint64_t now_ms, std::string_view http2_settings,
                                   UpgradeRequest request)
    : ServerConnection(handler, SharedOptions(std::make_shared<const ConnectionOptions>(options)),
                       now_ms, http2_settings, std::move(request)) {}

ServerConnection::ServerConnection(RequestHandler* handler, SharedOptions options, uint64_t now_ms)
    : core_(new detail::Core(handler, std::move(options.options), now_ms)) {}

ServerConnection::ServerConnection(RequestHandler* handler, SharedOptions options, uint64_t now_ms,
                                   std::string_view http2_settings, UpgradeRequest request)
    : ServerConnection(handler, std::move(options), now_ms) {
  Driving driving(core_);
  core_->start_upgrade(http2_settings, std::move(request));
}

ServerConnection::ServerConnection(ServerConnection&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)) {}

ServerConnection& ServerConnection::operator=(ServerConnection&& other) noexcept {
  if (this != &other) {
    if (core_) {
      core_->detach();
      core_->release();
    }
    core_ = std::exchange(other.core_, nullptr);
  }
  return *this;
}

ServerConnection::~ServerConnection() {
  if (core_) {
    core_->detach();
    core_->release();
  }
}

size_t ServerConnection::process_bytes(std::string_view bytes, uint64_t now_ms) {
  Driving driving(core_);
  if (!driving) return 0;
  // The bytes arrived now: activity is stamped with this time (idle, reset-budget clocks).
  core_->on_time(now_ms);
  const size_t consumed = core_->process_bytes(bytes);
  core_->mark_time_stale();
  return consumed;
}
void ServerConnection::on_peer_eof() {
  if (Driving driving(core_); driving) core_->on_peer_eof();
}
size_t ServerConnection::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  Driving driving(core_);
  return driving ? core_->pending_output(out, max_bytes) : 0;
}
void ServerConnection::consume_output(size_t written) {
  if (Driving driving(core_); driving) core_->consume_output(written);
}
bool ServerConnection::wants_read() const {
  return core_->wants_read();
}
bool ServerConnection::wants_write() const {
  return core_->wants_write();
}
bool ServerConnection::is_closed() const {
  return core_->is_closed();
}
void ServerConnection::on_time(uint64_t now_ms) {
  if (Driving driving(core_); driving) {
    core_->on_time(now_ms);
    core_->mark_time_stale();
  }
}
std::optional<uint64_t> ServerConnection::next_wakeup_ms() const {
  return core_->next_wakeup_ms();
}
void ServerConnection::start_graceful_shutdown(uint64_t now_ms) {
  Driving driving(core_);
  if (!driving) return;
  core_->on_time(now_ms);
  core_->start_graceful_shutdown();
  core_->mark_time_stale();
}
size_t ServerConnection::callback_exceptions() const {
  return core_->callback_exceptions();
}
size_t ServerConnection::refused_reentrant_calls() const {
  return core_->refused_reentrant_calls();
}
size_t ServerConnection::open_stream_count() const {
  return core_->open_stream_count();
}
uint32_t ServerConnection::last_peer_stream_id() const {
  return core_->last_peer_stream_id();
}
ErrorCode ServerConnection::goaway_code() const {
  return core_->goaway_code();
}

}  // namespace h2::protocol
