// The completion condition of the runtime's gather writes (host/asio_connection.h and the
// client's host/client/client_session.h).
#pragma once

#include <boost/system/error_code.hpp>
#include <cstddef>

namespace h2::host {

// async_write's completion condition for a gather write of `views`: one write_some (sendmsg)
// may carry up to `bound` bytes. Asio's default (transfer_all) caps each write_some at 64 KiB
// (default_max_transfer_size), so 256 KiB of ready output took four sendmsg calls and woke the
// reader four times (strace of 200 x 1 MiB GETs, h2load -c 10 -m 4: 3,200 sendmsg of exactly
// 65,536 bytes).
struct TransferAllInWritesOf {
  size_t bound;
  size_t operator()(const boost::system::error_code& ec, size_t /*transferred*/) const {
    return ec ? 0 : bound;
  }
};

}  // namespace h2::host
