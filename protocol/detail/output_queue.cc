#include "protocol/detail/output_queue.h"

#include <algorithm>

namespace h2::protocol::detail {

OutputQueue::OutputQueue() {
  block_.reserve(kBlockSize);
}

OutputQueue::~OutputQueue() {
  std::vector<Holder> released;
  clear(released);
  for (Holder& h : released) h.finish(false);
}

std::string& OutputQueue::block_for(size_t max_size) {
  if (block_.capacity() - block_.size() >= max_size) return block_;
  if (!block_.empty()) {
    // Views may still point into the full block: it is freed once they are written.
    Retired r{queued_total_, Holder{}, true};
    r.holder.owned = std::move(block_);
    retired_.push_back(std::move(r));
  }
  block_ = std::string();
  if (!spare_.empty()) {
    block_ = std::move(spare_.back());
    spare_.pop_back();
  }
  block_.clear();
  block_.reserve(std::max(kBlockSize, max_size));
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
      if (spare_.size() < 4) spare_.push_back(std::move(r.holder.owned));
    } else {
      released.push_back(std::move(r.holder));
    }
    retired_.pop_front();
  }
  if (views_.empty() && !block_.empty()) block_.clear();  // everything written: reuse in place
}

void OutputQueue::clear(std::vector<Holder>& released) {
  views_.clear();
  front_offset_ = 0;
  written_total_ = queued_total_;
  for (Retired& r : retired_) {
    if (!r.is_block) released.push_back(std::move(r.holder));
  }
  retired_.clear();
  block_.clear();
  last_is_block_ = false;
}

}  // namespace h2::protocol::detail
