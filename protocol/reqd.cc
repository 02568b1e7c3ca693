// Reqd and Writer: counted handles forwarding to the connection core.
#include "protocol/reqd.h"

#include <utility>

#include "protocol/detail/core.h"

namespace h2::protocol {

std::string_view result_name(Result r) {
  switch (r) {
    case Result::kOk:
      return "ok";
    case Result::kStreamClosed:
      return "stream closed";
    case Result::kConnectionClosed:
      return "connection closed";
    case Result::kAlreadyResponded:
      return "already responded";
    case Result::kNotResponding:
      return "not responding";
    case Result::kInvalidArgument:
      return "invalid argument";
    case Result::kPushDisabled:
      return "push disabled";
    case Result::kPushLimitReached:
      return "push limit reached";
    case Result::kReadPending:
      return "read pending";
  }
  return "unknown";
}

// ---- Reqd ------------------------------------------------------------------------------------

Reqd::Reqd(detail::Core* core, detail::Stream* stream) : core_(core), stream_(stream) {
  core_->acquire(stream_);
}
Reqd::Reqd(const Reqd& other) : core_(other.core_), stream_(other.stream_) {
  if (stream_) core_->acquire(stream_);
}
Reqd::Reqd(Reqd&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)), stream_(std::exchange(other.stream_, nullptr)) {}
Reqd& Reqd::operator=(Reqd other) noexcept {
  std::swap(core_, other.core_);
  std::swap(stream_, other.stream_);
  return *this;
}
Reqd::~Reqd() {
  if (stream_) core_->drop(stream_);
}

const RequestHead& Reqd::request() const {
  static const RequestHead kEmpty{};
  return stream_ ? stream_->head : kEmpty;
}
std::span<const Field> Reqd::request_trailers() const {
  return stream_ && stream_->has_trailers ? stream_->trailer_fields.fields()
                                          : std::span<const Field>();
}
uint32_t Reqd::stream_id() const {
  return stream_ ? stream_->id : 0;
}
bool Reqd::is_closed() const {
  return !stream_ || core_->detached() || stream_->state == detail::StreamState::kClosed;
}
bool Reqd::body_complete() const {
  return stream_ && stream_->remote_ended &&
         stream_->body_read_offset == stream_->body_buffer.size();
}

uint64_t Reqd::body_bytes_received() const {
  return stream_ ? stream_->body_received : 0;
}

Result Reqd::schedule_read(std::function<void(std::string_view)> on_chunk,
                           std::function<void()> on_eof) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->schedule_read(stream_, std::move(on_chunk), std::move(on_eof));
}

Result Reqd::respond_informational(const Response& response) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->respond_head(stream_, response, true, false);
}

Result Reqd::respond_with_string(const Response& response, std::string body) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  detail::Holder holder;
  holder.owned = std::move(body);
  std::string_view view = holder.owned;
  return core_->respond_body(stream_, response, std::move(holder), view);
}

Result Reqd::respond_with_shared(const Response& response, std::shared_ptr<const void> owner,
                                 std::string_view body) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  detail::Holder holder;
  holder.shared = std::move(owner);
  return core_->respond_body(stream_, response, std::move(holder), body);
}

Writer Reqd::respond_with_streaming(const Response& response, Result* result) {
  if (!stream_) {
    if (result) *result = Result::kConnectionClosed;
    return Writer();
  }
  detail::ApiCall api(core_);
  Result r = core_->respond_head(stream_, response, false, false);
  if (result) *result = r;
  return r == Result::kOk ? Writer(core_, stream_) : Writer();
}

PushResult Reqd::push(std::string_view method, std::string_view path,
                      std::span<const Field> headers) {
  if (!stream_) return {Result::kConnectionClosed, {}};
  detail::ApiCall api(core_);
  return core_->push(stream_, method, path, headers);
}

Result Reqd::reset(ErrorCode code) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->reset_by_handler(stream_, code);
}

Result Reqd::report_error() {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->report_error(stream_);
}

void Reqd::set_user_data(void* data) {
  if (stream_) stream_->user_data = data;
}
void* Reqd::user_data() const {
  return stream_ ? stream_->user_data : nullptr;
}

// ---- Writer ----------------------------------------------------------------------------------

Writer::Writer(detail::Core* core, detail::Stream* stream) : core_(core), stream_(stream) {
  core_->acquire(stream_);
}
Writer::Writer(const Writer& other) : core_(other.core_), stream_(other.stream_) {
  if (stream_) core_->acquire(stream_);
}
Writer::Writer(Writer&& other) noexcept
    : core_(std::exchange(other.core_, nullptr)), stream_(std::exchange(other.stream_, nullptr)) {}
Writer& Writer::operator=(Writer other) noexcept {
  std::swap(core_, other.core_);
  std::swap(stream_, other.stream_);
  return *this;
}
Writer::~Writer() {
  if (stream_) core_->drop(stream_);
}

Result Writer::write(std::string_view data) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->write_body(stream_, data, nullptr);
}

Result Writer::write_borrowed(std::string_view data, std::function<void()> release) {
  detail::Holder holder;
  holder.release = std::move(release);
  if (!stream_) {
    holder.finish(false);
    return Result::kConnectionClosed;
  }
  detail::ApiCall api(core_);
  return core_->write_body(stream_, data, &holder);
}

Result Writer::write_shared(std::shared_ptr<const void> owner, std::string_view data) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  detail::Holder holder;
  holder.shared = std::move(owner);
  return core_->write_body(stream_, data, &holder);
}

Result Writer::flush(std::function<void(bool)> on_done) {
  if (!stream_) {
    if (on_done) on_done(false);
    return Result::kConnectionClosed;
  }
  detail::ApiCall api(core_);
  return core_->flush(stream_, std::move(on_done));
}

Result Writer::close() {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->close_body(stream_, {}, false);
}

Result Writer::close_with_trailers(std::span<const Field> trailers) {
  if (!stream_) return Result::kConnectionClosed;
  detail::ApiCall api(core_);
  return core_->close_body(stream_, trailers, true);
}

bool Writer::is_closed() const {
  return !stream_ || core_->detached() || stream_->response != detail::ResponseState::kStreaming;
}

size_t Writer::buffered_bytes() const {
  return stream_ ? stream_->body_bytes : 0;
}

}  // namespace h2::protocol
