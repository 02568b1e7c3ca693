#include "protocol/client_connection.h"

#include <utility>

#include "protocol/detail/client_core.h"

namespace h2::protocol {

using detail::ClientCore;
using detail::ClientStreamState;

std::string_view client_stream_end_name(ClientStreamEnd end) {
  switch (end) {
    case ClientStreamEnd::kCompleted: return "completed";
    case ClientStreamEnd::kResetByPeer: return "reset by peer";
    case ClientStreamEnd::kResetByUs: return "reset by us";
    case ClientStreamEnd::kProtocolError: return "protocol error";
    case ClientStreamEnd::kHeaderListTooLarge: return "header list too large";
    case ClientStreamEnd::kRefusedByGoaway: return "refused by GOAWAY";
    case ClientStreamEnd::kConnectionEnded: return "connection ended";
  }
  return "unknown";
}

// ---- ClientStream ----

ClientStream::ClientStream(ClientStreamState* state) : state_(state) {
  if (state_) ++state_->refs;
}
ClientStream::ClientStream(const ClientStream& other) : ClientStream(other.state_) {}
ClientStream& ClientStream::operator=(const ClientStream& other) {
  if (this != &other) {
    ClientStream copy(other);
    std::swap(state_, copy.state_);
  }
  return *this;
}
ClientStream::ClientStream(ClientStream&& other) noexcept
    : state_(std::exchange(other.state_, nullptr)) {}
ClientStream& ClientStream::operator=(ClientStream&& other) noexcept {
  if (this != &other) {
    ClientStream old(std::move(*this));
    state_ = std::exchange(other.state_, nullptr);
  }
  return *this;
}
ClientStream::~ClientStream() {
  // A tracked state (core set) is owned by the connection too; a closed one by handles only.
  if (state_ && --state_->refs == 0 && !state_->core) delete state_;
}

uint32_t ClientStream::id() const { return state_ ? state_->id : 0; }
bool ClientStream::ended() const {
  return !state_ || state_->phase == ClientStreamState::Phase::kClosed;
}
bool ClientStream::response_ended() const {
  return state_ != nullptr && (state_->remote_ended || (state_->final_head && state_->head_ended));
}
ClientResult ClientStream::write(std::string data) {
  if (!state_ || !state_->core) return ClientResult::kStreamClosed;
  return state_->core->write(state_, std::move(data));
}
bool ClientStream::writable() const {
  return state_ && state_->core && state_->core->writable(state_);
}
size_t ClientStream::buffered_bytes() const { return state_ ? state_->buffered : 0; }
ClientResult ClientStream::end(std::span<const Field> trailers) {
  if (!state_ || !state_->core) return ClientResult::kStreamClosed;
  return state_->core->end(state_, trailers);
}
ClientResult ClientStream::reset(ErrorCode code) {
  if (!state_ || !state_->core) return ClientResult::kStreamClosed;
  return state_->core->reset(state_, code);
}
void ClientStream::pause_credit(bool paused) {
  if (state_) state_->credit_paused = paused;
}
void ClientStream::consume(size_t n) {
  if (state_ && state_->core) state_->core->consume(state_, n);
}
void ClientStream::set_user_data(void* p) {
  if (state_) state_->user_data = p;
}
void* ClientStream::user_data() const { return state_ ? state_->user_data : nullptr; }

// ---- ClientConnection ----

namespace {
// Brackets a driving call; a call from inside a callback is refused (returns false).
class Driving {
 public:
  explicit Driving(ClientCore* core) : core_(core), entered_(core->enter_driving()) {}
  ~Driving() {
    if (entered_) core_->leave_driving();
  }
  explicit operator bool() const { return entered_; }

 private:
  ClientCore* core_;
  bool entered_;
};
}  // namespace

ClientConnection::ClientConnection(ClientHandler* handler, const ClientOptions& options,
                                   uint64_t now_ms)
    : core_(new ClientCore(handler, options, now_ms)) {}
ClientConnection::~ClientConnection() { delete core_; }

ClientStream ClientConnection::submit(const ClientRequest& request, bool end_stream,
                                      ClientResult* result) {
  return core_->submit(request, end_stream, result);
}
void ClientConnection::ping(uint64_t opaque) { core_->ping(opaque); }

size_t ClientConnection::process_bytes(std::string_view bytes, uint64_t now_ms) {
  Driving d(core_);
  return d ? core_->process_bytes(bytes, now_ms) : 0;
}
void ClientConnection::on_peer_eof() {
  if (Driving d(core_); d) core_->on_peer_eof();
}
size_t ClientConnection::pending_output(std::vector<std::string_view>& out, size_t max_bytes) {
  Driving d(core_);
  return d ? core_->pending_output(out, max_bytes) : 0;
}
void ClientConnection::consume_output(size_t written) {
  if (Driving d(core_); d) core_->consume_output(written);
}
void ClientConnection::on_time(uint64_t now_ms) {
  if (Driving d(core_); d) core_->on_time(now_ms);
}
std::optional<uint64_t> ClientConnection::next_wakeup_ms() const { return core_->next_wakeup_ms(); }
void ClientConnection::start_graceful_shutdown(uint64_t now_ms) {
  if (Driving d(core_); d) {
    core_->on_time(now_ms);
    core_->start_graceful_shutdown();
  }
}
bool ClientConnection::wants_read() const { return core_->wants_read(); }
bool ClientConnection::wants_write() const { return core_->wants_write(); }
bool ClientConnection::is_closed() const { return core_->is_closed(); }
size_t ClientConnection::open_stream_count() const { return core_->open_stream_count(); }
size_t ClientConnection::queued_request_count() const { return core_->queued_request_count(); }
bool ClientConnection::settings_received() const { return core_->settings_received(); }
uint32_t ClientConnection::peer_max_concurrent_streams() const {
  return core_->peer_max_concurrent_streams();
}
bool ClientConnection::peer_allows_extended_connect() const {
  return core_->peer_allows_extended_connect();
}
bool ClientConnection::goaway_received() const { return core_->goaway_received(); }
ErrorCode ClientConnection::goaway_code() const { return core_->goaway_code(); }
size_t ClientConnection::callback_exceptions() const { return core_->callback_exceptions(); }

}  // namespace h2::protocol
