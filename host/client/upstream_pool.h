// The Asio runtime's serve::UpstreamClient: requests modules send upstream (ABI 1.3), over a
// small pool of HTTP/2 client sessions per origin on one worker's event loop.
//
// Pooling: an origin is (scheme, host, port, unix socket, verification, CA file). A request
// goes to the first connection of its origin that is connecting or ready, has not received a
// GOAWAY and has a free stream slot (the server's MAX_CONCURRENT_STREAMS); otherwise a new
// connection is opened, up to max_connections_per_origin, beyond which the least loaded one
// queues it (ClientConnection queues in order). Idle connections close after idle_timeout_ms.
//
// Retries: a request without a body that the server never processed (REFUSED_STREAM, above a
// GOAWAY's last stream id: RFC 9113 §8.7) is sent again once, on another connection.
//
// Backpressure: response DATA is credited back to the server only as the module consumes it
// (ClientStream::pause_credit), so a slow downstream client stops a fast upstream at the
// stream window; request body writes report through flush when the stream's buffer drained.
//
// Threading: one pool per worker loop, used on that loop's thread only.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "host/client/client_session.h"
#include "serve/upstream.h"

namespace h2::host::client {

struct UpstreamPoolOptions {
  size_t max_connections_per_origin = 4;
  uint64_t idle_timeout_ms = 60'000;
  // Silence on a connection with open requests for this long fails it (nginx's
  // proxy_read_timeout).
  uint64_t read_timeout_ms = 60'000;
  protocol::ClientOptions h2;
};

class UpstreamConnection;
struct UpstreamCallState;

class UpstreamPool final : public serve::UpstreamClient {
 public:
  UpstreamPool(boost::asio::any_io_executor executor, UpstreamPoolOptions options = {});
  // Closes every connection; requests still open fail with kCancelled.
  ~UpstreamPool() override;

  std::unique_ptr<serve::UpstreamCall> open(const serve::UpstreamRequest& request,
                                            serve::UpstreamCall::Events events,
                                            serve::ExchangeResult* result,
                                            std::string* why) override;

  // For tests and the status line: live connections across origins.
  size_t connection_count() const;
  size_t connections_opened() const { return connections_opened_; }

  // Internal (UpstreamConnection / calls): sends `call` on a connection of its origin.
  void dispatch(const std::shared_ptr<UpstreamCallState>& call);
  void forget(UpstreamConnection* connection);
  const boost::asio::any_io_executor& executor() const { return executor_; }
  const UpstreamPoolOptions& options() const { return options_; }

 private:
  boost::asio::any_io_executor executor_;
  UpstreamPoolOptions options_;
  std::map<std::string, std::vector<std::shared_ptr<UpstreamConnection>>> origins_;
  size_t connections_opened_ = 0;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace h2::host::client
