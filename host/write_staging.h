// Write staging for streams that cannot gather: the client's TLS connections
// (host/client/client_session.h; the server's TLS is tls/tls_connection.h). Asio's ssl::stream
// encrypts only the first buffer of a sequence per write_some, so a gather list of [9-byte DATA header, 16 KiB body,
// ...] became a 9-byte TLS record and a 16 KiB one, each its own send(2): 128 records and
// sends per 1 MiB response (strace -c, tests/bench: TLS 1 MiB at 0.59x h2o). Copying the views
// into one contiguous buffer first gives full 16 KiB records, one send each.
//
// The buffers come from a per-thread pool and go back when the write completes, so an idle
// connection holds none (the same rule as the read buffer: memory only while bytes are in
// flight).
#pragma once

#include <boost/asio/buffer.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>
#include <vector>

namespace h2::host {

template <class Stream>
struct WritesOneBufferPerCall : std::false_type {};
template <class Next>
struct WritesOneBufferPerCall<boost::asio::ssl::stream<Next>> : std::true_type {};

class WriteStaging {
 public:
  // Four full TLS records (RFC 8446 §5.1: at most 2^14 bytes of plaintext each).
  static constexpr size_t kBytes = 64 * 1024;

  // Copies `views` (at most kBytes in all) into a pooled buffer, held until release().
  std::string_view stage(const std::vector<std::string_view>& views) {
    if (!buffer_) buffer_ = take();
    size_t at = 0;
    for (std::string_view v : views) {
      std::memcpy(buffer_.get() + at, v.data(), v.size());
      at += v.size();
    }
    return {buffer_.get(), at};
  }
  void release() {
    if (buffer_) give_back(std::move(buffer_));
  }
  ~WriteStaging() { release(); }

 private:
  using Buffer = std::unique_ptr<char[]>;
  static constexpr size_t kPoolSize = 8;
  static std::vector<Buffer>& pool() {
    thread_local std::vector<Buffer> buffers;
    return buffers;
  }
  static Buffer take() {
    auto& p = pool();
    if (p.empty()) return Buffer(new char[kBytes]);
    Buffer b = std::move(p.back());
    p.pop_back();
    return b;
  }
  static void give_back(Buffer b) {
    auto& p = pool();
    if (p.size() < kPoolSize) p.push_back(std::move(b));
  }
  Buffer buffer_;
};

// The buffers of one async_write of `views` on a `Stream`: the views themselves, or for a
// stream that cannot gather one staged copy (held by `staging` until its release()). Callers
// ask pending_output for at most write_limit<Stream>(their own limit) bytes.
template <class Stream>
constexpr size_t write_limit(size_t gather_limit) {
  return WritesOneBufferPerCall<Stream>::value ? WriteStaging::kBytes : gather_limit;
}
template <class Stream>
void prepare_write(const std::vector<std::string_view>& views, WriteStaging& staging,
                   std::vector<boost::asio::const_buffer>& buffers) {
  buffers.clear();
  if constexpr (WritesOneBufferPerCall<Stream>::value) {
    const std::string_view staged = staging.stage(views);
    buffers.emplace_back(staged.data(), staged.size());
  } else {
    for (std::string_view v : views) buffers.emplace_back(v.data(), v.size());
  }
}

}  // namespace h2::host
