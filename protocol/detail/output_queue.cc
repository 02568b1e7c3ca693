#include "protocol/detail/output_queue.h"

#include <algorithm>

namespace h2::protocol::detail {
namespace {

// Written-out blocks of every connection on this thread, for the next one that queues bytes.
// Bounded: a burst of many busy connections frees what the pool cannot keep.
constexpr size_t kPooledBlocks = 64;

std::vector<std::string>& block_pool() {
  thread_local std::vector<std::string> pool;
  return pool;
}

std::string take_block(size_t min_capacity, bool small_will_do) {
  std::vector<std::string>& pool = block_pool();
  if (min_capacity <= OutputQueue::kBlockSize && !pool.empty()) {
    std::string block = std::move(pool.back());
    pool.pop_back();
    return block;
  }
  std::string block;
  if (small_will_do && min_capacity <= OutputQueue::kSmallBlockSize) {
    block.reserve(OutputQueue::kSmallBlockSize);
  } else {
    block.reserve(std::max(OutputQueue::kBlockSize, min_capacity));
  }
  return block;
}

void give_block(std::string block) {
  std::vector<std::string>& pool = block_pool();
  if (block.capacity() < OutputQueue::kBlockSize || pool.size() >= kPooledBlocks) return;
  block.clear();
  pool.push_back(std::move(block));
}

}  // namespace

OutputQueue::OutputQueue() = default;

OutputQueue::~OutputQueue() {
  std::vector<Holder> released;
  clear(released);
  for (Holder& h : released) h.finish(false);
}

void OutputQueue::release_block() {
  if (block_.capacity() > 0) give_block(std::exchange(block_, std::string()));
}

std::string& OutputQueue::block_for(size_t max_size) {
  // Only a heap block counts: an empty std::string's small inline buffer would move with the
  // string object and leave the views written into it dangling.
  if (block_.capacity() >= kSmallBlockSize && block_.capacity() - block_.size() >= max_size) {
    return block_;
  }
  if (!block_.empty()) {
    // Views may still point into the full block: it is freed once they are written.
    Retired r{queued_total_, Holder{}, true};
    r.holder.owned = std::move(block_);
    retired_.push_back(std::move(r));
  }
  // (the old block, if any, was too small to use)
  give_block(std::exchange(block_, take_block(max_size, /*small_will_do=*/empty())));
  last_is_block_ = false;
  return block_;
}

void OutputQueue::add_view(std::string_view bytes, bool control) {
  if (bytes.empty()) return;
  queued_total_ += bytes.size();
  if (!views_.empty() && control && last_is_block_ &&
      views_.back().data() + views_.back().size() == bytes.data()) {
    views_.back() = std::string_view(views_.back().data(), views_.back().size() + bytes.size());
    return;
  }
  views_.push_back(bytes);
  last_is_block_ = control;
}

void OutputQueue::retire(Holder holder) {
  retired_.push_back(Retired{queued_total_, std::move(holder), false});
}

size_t OutputQueue::gather(std::vector<std::string_view>& out, size_t max_bytes) const {
  size_t total = 0;
  size_t skip = front_offset_;
  for (std::string_view v : views_) {
    if (total >= max_bytes) break;
    v.remove_prefix(skip);
    skip = 0;
    size_t take = std::min(v.size(), max_bytes - total);
    out.push_back(v.substr(0, take));
    total += take;
  }
  return total;
}

void OutputQueue::consume(size_t n, std::vector<Holder>& released) {
  n = std::min(n, size());
  written_total_ += n;
  while (n > 0) {
    size_t left = views_.front().size() - front_offset_;
    if (n < left) {
      front_offset_ += n;
      break;
    }
    n -= left;
    views_.pop_front();
    front_offset_ = 0;
  }
  if (views_.empty()) last_is_block_ = false;
  while (!retired_.empty() && retired_.front().release_at <= written_total_) {
    Retired& r = retired_.front();
    if (r.is_block) {
      give_block(std::move(r.holder.owned));
    } else {
      released.push_back(std::move(r.holder));
    }
    retired_.pop_front();
  }
  if (views_.empty()) release_block();  // everything written: the block goes back to the pool
}

void OutputQueue::clear(std::vector<Holder>& released) {
  views_.clear();
  front_offset_ = 0;
  written_total_ = queued_total_;
  for (Retired& r : retired_) {
    if (!r.is_block) released.push_back(std::move(r.holder));
  }
  retired_.clear();
  release_block();
  last_is_block_ = false;
}

}  // namespace h2::protocol::detail
