// Closing "any AsyncStream": the lowest layer of a TCP/TLS/Unix stream is a socket (shutdown +
// close with an error_code); a user's or a test's stream may only offer close(). Never throws.
#pragma once

#include <boost/asio/socket_base.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/system/error_code.hpp>

namespace h2::host {

template <class Stream>
void close_stream(Stream& stream) {
  auto& layer = boost::beast::get_lowest_layer(stream);
  boost::system::error_code ignored;
  if constexpr (requires { layer.shutdown(boost::asio::socket_base::shutdown_both, ignored); }) {
    layer.shutdown(boost::asio::socket_base::shutdown_both, ignored);
  }
  if constexpr (requires { layer.close(ignored); }) {
    layer.close(ignored);
  } else {
    layer.close();
  }
}

}  // namespace h2::host
