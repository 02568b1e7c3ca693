// Closing a connection after its last response without losing that response ("lingering
// close", as nginx's lingering_close): when a socket is closed while received bytes are still
// unread in the kernel (a client's WINDOW_UPDATE or PING, the rest of a request body), the
// kernel answers with a TCP RST instead of a FIN, and an RST makes the client's kernel drop
// whatever it has received but its application has not read yet - typically the end of the
// last response. So the graceful path
//   1. cancels the owner's pending read (if any) and waits for its completion,
//   2. TLS: sends close_notify (async_shutdown; it may also wait for the peer's),
//   3. half-closes the socket (FIN after every byte already written),
//   4. reads and drops what the peer still sends until it closes (EOF) or errs,
// all bounded by kLingerMs, then closes the socket. Generic over the stream type: a stream
// without these operations (a test stream) is simply closed.
#pragma once

#include <array>
#include <boost/asio/buffer.hpp>
#include <boost/asio/socket_base.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <chrono>
#include <cstdint>
#include <memory>

#include "host/stream_close.h"

namespace h2::host {

template <class Stream>
class LingeringClose {
 public:
  // Upper bound of steps 1-4: a peer that neither closes nor sends is closed on anyway.
  static constexpr uint64_t kLingerMs = 2000;

  explicit LingeringClose(Stream& stream) : stream_(stream), timer_(stream.get_executor()) {}

  // Starts the close. `owner` (the session owning `stream`) is kept alive by the operations.
  // With `read_pending`, the owner's read in flight is cancelled and the owner must call
  // read_finished() from that read's completion handler.
  void start(std::shared_ptr<void> owner, bool read_pending) {
    if (state_ != State::kIdle) return;
    state_ = State::kWaitingForRead;
    timer_.expires_after(std::chrono::milliseconds(kLingerMs));
    timer_.async_wait([this, owner](boost::system::error_code ec) {
      if (!ec) abort();
    });
    if (!read_pending) return read_finished(std::move(owner));
    auto& layer = boost::beast::get_lowest_layer(stream_);
    boost::system::error_code ignored;
    if constexpr (requires { layer.cancel(ignored); }) {
      layer.cancel(ignored);
    } else {
      abort();  // cannot cancel the read: close, which completes it
    }
  }

  // The owner's read completed (cancelled or not): go on with the close.
  void read_finished(std::shared_ptr<void> owner) {
    if (state_ != State::kWaitingForRead) return;
    state_ = State::kShuttingDown;
    if constexpr (requires { stream_.async_shutdown([](boost::system::error_code) {}); }) {
      // TLS close_notify. Whatever it ends with (the peer's close_notify, data, EOF), the
      // socket is drained next.
      stream_.async_shutdown([this, owner](boost::system::error_code) { drain(owner); });
    } else {
      drain(std::move(owner));
    }
  }

  // Closes now (hard): the linger bound passed, or the owner is closing for another reason.
  void abort() {
    if (state_ == State::kClosed) return;
    state_ = State::kClosed;
    timer_.cancel();
    close_stream(stream_);
  }

  bool started() const { return state_ != State::kIdle; }

 private:
  enum class State { kIdle, kWaitingForRead, kShuttingDown, kDraining, kClosed };

  void drain(std::shared_ptr<void> owner) {
    if (state_ == State::kClosed) return;
    auto& layer = boost::beast::get_lowest_layer(stream_);
    boost::system::error_code ignored;
    if constexpr (requires {
                    layer.shutdown(boost::asio::socket_base::shutdown_send, ignored);
                    layer.async_read_some(boost::asio::buffer(*buffer_),
                                          [](boost::system::error_code, size_t) {});
                  }) {
      if (state_ != State::kDraining) {
        state_ = State::kDraining;
        layer.shutdown(boost::asio::socket_base::shutdown_send, ignored);
        // Only a closing connection pays for the drain buffer.
        if (!buffer_) buffer_ = std::make_unique<std::array<char, 4096>>();
      }
      layer.async_read_some(boost::asio::buffer(*buffer_),
                            [this, owner](boost::system::error_code ec, size_t) {
                              if (ec) return abort();  // EOF: the peer is done too
                              drain(owner);
                            });
    } else {
      abort();
    }
  }

  Stream& stream_;
  boost::asio::steady_timer timer_;
  std::unique_ptr<std::array<char, 4096>> buffer_;
  State state_ = State::kIdle;
};

}  // namespace h2::host
