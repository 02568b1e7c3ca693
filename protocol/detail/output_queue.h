// The bytes waiting to be written, as an ordered list of views for a gather write.
//
// Control frames and header blocks are serialized into reusable blocks (std::string with fixed
// capacity: appends never reallocate, so earlier views stay valid), taken from a per-thread
// pool while bytes are queued and given back once everything was written, so an idle
// connection holds no output buffer (as h2o does); DATA bodies are referenced
// where they live. Every owner of referenced bytes (a full block, a response string, a shared
// buffer, a borrowed write's release callback) is "retired" with the output position at which it
// becomes free: when consume() passes that position, the owner is released. Flush callbacks ride
// the same mechanism.
#pragma once

#include <cstddef>
#include <cstdint>
#include "protocol/detail/ring_queue.h"
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace h2::protocol::detail {

// Something that keeps body bytes alive, released once they are written.
struct Holder {
  std::string owned;                   // moved-in response string / coalesced copies
  std::shared_ptr<const void> shared;  // shared immutable buffer
  std::function<void()> release;       // borrowed write
  std::function<void(bool)> on_done;   // flush completion (true: written)
  // Runs the callbacks; returns how many of them threw (contained here: callbacks should not
  // throw, request_handler.h "Exceptions").
  size_t finish(bool written) noexcept {
    size_t thrown = 0;
    if (release) {
      try {
        std::exchange(release, nullptr)();
      } catch (...) {
        ++thrown;
      }
    }
    if (on_done) {
      try {
        std::exchange(on_done, nullptr)(written);
      } catch (...) {
        ++thrown;
      }
    }
    shared.reset();
    return thrown;
  }
};

class OutputQueue {
 public:
  static constexpr size_t kBlockSize = 16 * 1024;
  // A lone control frame on an empty queue when the pool has no block (a GOAWAY or PING to
  // thousands of idle connections at once, at a reload) gets a block this small instead of
  // 16 KiB each (heaptrack: 16 MB at the shutdown of 1,000 idle connections). Not pooled.
  static constexpr size_t kSmallBlockSize = 256;
  OutputQueue();
  ~OutputQueue();

  // Appends control bytes: `write(std::string&)` must append at most `max_size` bytes.
  template <typename Write>
  void append_control(size_t max_size, Write&& write) {
    std::string& block = block_for(max_size);
    size_t before = block.size();
    write(block);
    add_view(std::string_view(block).substr(before), true);
  }
  // Appends a view of body bytes (kept alive by a Holder retired later).
  void append_view(std::string_view bytes) { add_view(bytes, false); }
  // Releases `holder` once every byte queued so far has been written.
  void retire(Holder holder);

  // Views of up to `max_bytes` unwritten bytes, appended to `out`; returns their total size.
  size_t gather(std::vector<std::string_view>& out, size_t max_bytes) const;
  // `n` bytes were written. Holders that became free are moved to `released` (the caller runs
  // their callbacks after its own bookkeeping, so callbacks may re-enter the connection).
  void consume(size_t n, std::vector<Holder>& released);
  // Drops every unwritten byte; all holders go to `released` (to be finished with false).
  void clear(std::vector<Holder>& released);

  size_t size() const { return queued_total_ - written_total_; }
  bool empty() const { return size() == 0; }
  uint64_t queued_total() const { return queued_total_; }
  uint64_t written_total() const { return written_total_; }

 private:
  struct Retired {
    uint64_t release_at;
    Holder holder;
    bool is_block;
  };
  std::string& block_for(size_t max_size);
  void add_view(std::string_view bytes, bool control);

  RingQueue<std::string_view> views_;
  size_t front_offset_ = 0;  // bytes of views_.front() already written
  bool last_is_block_ = false;
  void release_block();

  std::string block_;  // the block control bytes go to now (none while nothing is queued)
  RingQueue<Retired> retired_;
  uint64_t queued_total_ = 0;
  uint64_t written_total_ = 0;
};

}  // namespace h2::protocol::detail
