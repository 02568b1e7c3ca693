#include "protocol/server_connection.h"

#include <utility>

#include "protocol/detail/core.h"

namespace h2::protocol {

ServerConnection::ServerConnection(RequestHandler* handler, const ConnectionOptions& options,
                                   uint64_t now_ms)
    : core_(new detail::Core(handler, options, now_ms)) {}

ServerConnection::ServerConnection(RequestHandler* handler, const ConnectionOptions& options,
                                   uint64_t now_ms, std::string_view http2_settings,
                                   UpgradeRequest request)
    : ServerConnection(handler, options, now_ms) {
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

size_t ServerConnection::process_bytes(std::string_view bytes) {
  return core_->process_bytes(bytes);
}
void ServerConnection::on_peer_eof() {
  core_->on_peer_eof();
}
size_t ServerConnection::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  return core_->pending_output(out, max_bytes);
}
void ServerConnection::consume_output(size_t written) {
  core_->consume_output(written);
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
  core_->on_time(now_ms);
}
std::optional<uint64_t> ServerConnection::next_wakeup_ms() const {
  return core_->next_wakeup_ms();
}
void ServerConnection::start_graceful_shutdown() {
  core_->start_graceful_shutdown();
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
