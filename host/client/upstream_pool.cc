#include "host/client/upstream_pool.h"

#include <boost/asio/post.hpp>
#include <unordered_map>
#include <utility>

#include "host/client/upstream_call.h"

namespace h2::host::client {

// One HTTP/2 connection of the pool: the ClientHandler of its session, dispatching events to
// the calls it carries by the stream's user data. Held by the pool and, while connecting, by
// the connect callback (so a pool destroyed meanwhile leaves no dangling handler).
class UpstreamConnection final : public protocol::ClientHandler,
                                 public std::enable_shared_from_this<UpstreamConnection> {
 public:
  UpstreamConnection(UpstreamPool* pool, std::weak_ptr<bool> pool_alive, std::string origin)
      : pool_(pool), pool_alive_(std::move(pool_alive)), executor_(pool->executor()),
        origin_(std::move(origin)) {}

  void start(const UpstreamCallState& first) {
    SessionOptions options;
    options.h2 = pool_->options().h2;
    options.response_timeout_ms = pool_->options().read_timeout_ms;
    options.idle_timeout_ms = pool_->options().idle_timeout_ms;
    async_connect(pool_->executor(), first.url, first.connect, this, options,
                  [self = shared_from_this()](std::shared_ptr<Session> session,
                                              std::string error) {
                    self->on_connected(std::move(session), std::move(error));
                  });
  }

  bool usable() const {
    if (state_ == State::kConnecting) return true;
    return state_ == State::kReady && !session_->closed() &&
           !session_->connection().goaway_received();
  }
  size_t load() const { return active_.size() + waiting_.size(); }
  size_t capacity() const {
    if (state_ != State::kReady || !session_->connection().settings_received()) return 100;
    return session_->connection().peer_max_concurrent_streams();
  }

  void add(const std::shared_ptr<UpstreamCallState>& call) {
    if (state_ == State::kConnecting) {
      waiting_.push_back(call);
    } else {
      submit(call);
    }
  }

  // The pool is going away: every call ends kCancelled, the socket closes.
  void close() {
    closing_ = true;
    for (auto& call : std::exchange(waiting_, {})) {
      call->fail(serve::UpstreamError::kCancelled, "the worker is stopping");
    }
    state_ = State::kClosed;
    if (session_) session_->close();
  }

  // ---- protocol::ClientHandler ----
  void on_informational(protocol::ClientStream& s, uint16_t status,
                        std::span<const protocol::ResponseField> fields) override {
    if (auto call = find(s)) call->on_informational(status, fields);
  }
  void on_response(protocol::ClientStream& s, uint16_t status,
                   std::span<const protocol::ResponseField> fields) override {
    if (auto call = find(s)) call->on_response(status, fields);
  }
  void on_data(protocol::ClientStream& s, std::string_view data) override {
    if (auto call = find(s)) call->on_data(data);
  }
  void on_trailers(protocol::ClientStream& s,
                   std::span<const protocol::ResponseField> fields) override {
    if (auto call = find(s)) call->on_trailers(fields);
  }
  void on_writable(protocol::ClientStream& s) override {
    if (auto call = find(s)) call->on_writable();
  }
  void on_stream_closed(protocol::ClientStream& s, protocol::ClientStreamEnd end,
                        protocol::ErrorCode code, bool retryable) override;
  void on_connection_closed(protocol::ErrorCode, std::string_view reason) override {
    state_ = State::kClosed;
    if (failure_.empty()) failure_ = std::string(reason);
    forget();
  }

 private:
  enum class State { kConnecting, kReady, kClosed };

  void on_connected(std::shared_ptr<Session> session, std::string error) {
    if (state_ == State::kClosed || pool_alive_.expired()) {  // the pool went away meanwhile
      if (session) session->close();
      return;
    }
    if (!session) {
      state_ = State::kClosed;
      const auto why = error.find("timeout") != std::string::npos
                           ? serve::UpstreamError::kTimeout
                           : serve::UpstreamError::kConnect;
      for (auto& call : std::exchange(waiting_, {})) {
        call->fail(why, error);
      }
      forget();
      return;
    }
    session_ = std::move(session);
    state_ = State::kReady;
    for (auto& call : std::exchange(waiting_, {})) submit(call);
  }

  void submit(const std::shared_ptr<UpstreamCallState>& call) {
    if (call->finished) return;  // cancelled while waiting for the connection
    call->peer = session_->peer();
    if (call->submit_on(session_->connection(), shared_from_this())) {
      active_[call.get()] = call;
      return;
    }
    // Posted: this may run inside UpstreamPool::open, whose caller hears of failures later.
    boost::asio::post(executor_, [call, origin = origin_] {
      call->fail(serve::UpstreamError::kProtocol,
                 "the request to " + origin + " was refused by the client (invalid field, or "
                 "the connection is closing)");
    });
  }

  std::shared_ptr<UpstreamCallState> find(protocol::ClientStream& s) {
    auto it = active_.find(static_cast<UpstreamCallState*>(s.user_data()));
    return it == active_.end() ? nullptr : it->second;
  }

  void forget() {
    boost::asio::post(executor_, [pool = pool_, alive = pool_alive_, self = this] {
      if (!alive.expired()) pool->forget(self);
    });
  }

  UpstreamPool* pool_;  // dereferenced only while pool_alive_ holds
  std::weak_ptr<bool> pool_alive_;
  boost::asio::any_io_executor executor_;
  std::string origin_;
  State state_ = State::kConnecting;
  bool closing_ = false;
  std::shared_ptr<Session> session_;
  std::string failure_;
  std::vector<std::shared_ptr<UpstreamCallState>> waiting_;
  std::unordered_map<UpstreamCallState*, std::shared_ptr<UpstreamCallState>> active_;
};

void UpstreamConnection::on_stream_closed(protocol::ClientStream& s,
                                          protocol::ClientStreamEnd end, protocol::ErrorCode code,
                                          bool retryable) {
  auto it = active_.find(static_cast<UpstreamCallState*>(s.user_data()));
  if (it == active_.end()) return;
  std::shared_ptr<UpstreamCallState> call = std::move(it->second);
  active_.erase(it);
  using End = protocol::ClientStreamEnd;
  using Error = serve::UpstreamError;
  if (end == End::kCompleted) return call->on_completed();
  if (closing_) return call->fail(Error::kCancelled, "the worker is stopping");
  if (retryable && call->end_stream && !call->head_done && !call->finished &&
      call->retries_left > 0) {
    // RFC 9113 §8.7: never processed, so it is safe to send again (once).
    --call->retries_left;
    call->stream = {};
    boost::asio::post(executor_, [pool = pool_, alive = pool_alive_, call] {
      if (!alive.expired()) pool->dispatch(call);
    });
    return;
  }
  const std::string code_name(protocol::error_code_name(code));
  switch (end) {
    case End::kResetByPeer:
      return call->fail(Error::kReset, "the upstream reset the stream (" + code_name + ")");
    case End::kProtocolError:
      return call->fail(Error::kProtocol, "the upstream broke HTTP/2 (" + code_name + ")");
    case End::kHeaderListTooLarge:
      return call->fail(Error::kProtocol, "the upstream's header list is too large");
    case End::kRefusedByGoaway:
      return call->fail(Error::kReset, "refused by the upstream's GOAWAY");
    case End::kResetByUs:
      return call->fail(Error::kCancelled, "cancelled");
    case End::kConnectionEnded: {
      const std::string& why = session_ ? session_->failure() : failure_;
      const Error kind = why.find("timeout") != std::string::npos ? Error::kTimeout : Error::kReset;
      return call->fail(kind, "the upstream connection ended" + (why.empty() ? "" : ": " + why));
    }
    case End::kCompleted:
      break;
  }
}

UpstreamPool::UpstreamPool(boost::asio::any_io_executor executor, UpstreamPoolOptions options)
    : executor_(std::move(executor)), options_(std::move(options)) {}

UpstreamPool::~UpstreamPool() {
  alive_.reset();
  auto origins = std::move(origins_);
  for (auto& [key, list] : origins) {
    for (auto& connection : list) connection->close();
  }
}

size_t UpstreamPool::connection_count() const {
  size_t n = 0;
  for (const auto& [key, list] : origins_) n += list.size();
  return n;
}

namespace {

bool connection_specific(const serve::HeaderField& f) {
  // RFC 9113 §8.2.2; "te" only with the value "trailers".
  return f.name == "connection" || f.name == "keep-alive" || f.name == "proxy-connection" ||
         f.name == "transfer-encoding" || f.name == "upgrade" ||
         (f.name == "te" && f.value != "trailers");
}

bool valid_name(std::string_view name) {
  if (name.empty() || name[0] == ':') return false;
  for (char c : name) {
    if (c >= 'A' && c <= 'Z') return false;
  }
  return true;
}

}  // namespace

std::unique_ptr<serve::UpstreamCall> UpstreamPool::open(const serve::UpstreamRequest& request,
                                                        serve::UpstreamCall::Events events,
                                                        serve::ExchangeResult* result,
                                                        std::string* why) {
  auto refuse = [&](std::string text) -> std::unique_ptr<serve::UpstreamCall> {
    if (result) *result = serve::ExchangeResult::kInvalid;
    if (why) *why = std::move(text);
    return nullptr;
  };
  auto call = std::make_shared<UpstreamCallState>();
  std::string error;
  if (!parse_url(request.origin, &call->url, &error)) return refuse(error);
  if (request.method.empty()) return refuse("empty method");
  if (request.path.empty()) return refuse("empty path");
  for (const serve::HeaderField& f : request.headers) {
    if (!valid_name(f.name)) return refuse("bad field name \"" + std::string(f.name) + "\"");
    if (connection_specific(f)) {
      return refuse("connection-specific field \"" + std::string(f.name) + "\" (RFC 9113 §8.2.2)");
    }
  }
  call->connect.verify_peer = request.verify_peer;
  call->connect.ca_file = std::string(request.ca_file);
  call->connect.unix_socket = std::string(request.unix_socket);
  call->connect.connect_timeout_ms = request.connect_timeout_ms ? request.connect_timeout_ms
                                                                : serve::kDefaultConnectTimeoutMs;
  call->connect.tls_timeout_ms = call->connect.connect_timeout_ms;
  call->origin_key = std::string(call->url.tls ? "https://" : "http://") + call->url.origin() +
                     "|" + call->connect.unix_socket + "|" +
                     (request.verify_peer ? "v" : "k") + "|" + call->connect.ca_file;
  if (!call->connect.unix_socket.empty()) {
    call->peer = "unix:" + call->connect.unix_socket;
  } else {
    call->peer = call->url.host_port();
  }
  call->method = std::string(request.method);
  call->authority =
      request.authority.empty() ? call->url.authority() : std::string(request.authority);
  call->path = std::string(request.path);
  call->request_fields.assign(request.headers);
  call->end_stream = request.end_stream;
  call->response_timeout_ms = request.response_timeout_ms ? request.response_timeout_ms
                                                          : serve::kDefaultResponseTimeoutMs;
  call->events = std::move(events);

  call->response_timer.emplace(executor_);
  call->response_timer->expires_after(std::chrono::milliseconds(call->response_timeout_ms));
  call->response_timer->async_wait([weak = std::weak_ptr(call)](boost::system::error_code ec) {
    auto c = weak.lock();
    if (ec || !c || c->head_done) return;
    if (c->stream.valid()) c->stream.reset(protocol::ErrorCode::kCancel);
    c->fail(serve::UpstreamError::kTimeout, "no response head within " +
                                                std::to_string(c->response_timeout_ms) + " ms");
  });

  dispatch(call);
  if (result) *result = serve::ExchangeResult::kOk;
  return std::make_unique<UpstreamCallHandle>(call, executor_,
                                              options_.h2.stream_buffer_high_watermark);
}

void UpstreamPool::dispatch(const std::shared_ptr<UpstreamCallState>& call) {
  if (call->finished) return;
  auto& list = origins_[call->origin_key];
  UpstreamConnection* least = nullptr;
  size_t usable = 0;
  for (auto& connection : list) {
    if (!connection->usable()) continue;
    ++usable;
    if (connection->load() < connection->capacity()) return connection->add(call);
    if (least == nullptr || connection->load() < least->load()) least = connection.get();
  }
  if (usable >= options_.max_connections_per_origin && least != nullptr) return least->add(call);
  auto connection = std::make_shared<UpstreamConnection>(this, alive_, call->url.origin());
  list.push_back(connection);
  ++connections_opened_;
  connection->start(*call);
  connection->add(call);
}

void UpstreamPool::forget(UpstreamConnection* connection) {
  for (auto it = origins_.begin(); it != origins_.end(); ++it) {
    auto& list = it->second;
    std::erase_if(list, [&](const auto& c) { return c.get() == connection; });
    if (list.empty()) {
      origins_.erase(it);
      return;
    }
  }
}

}  // namespace h2::host::client
