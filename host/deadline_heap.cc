#include "host/deadline_heap.h"

namespace h2::host {

void DeadlineHeap::schedule(Entry& e, uint64_t due_ms) {
  if (!e.queued()) {
    e.due_ = due_ms;
    heap_.push_back(&e);
    e.index_ = static_cast<uint32_t>(heap_.size() - 1);
    sift_up(e.index_);
    return;
  }
  const bool earlier = due_ms < e.due_;
  e.due_ = due_ms;
  if (earlier) {
    sift_up(e.index_);
  } else {
    sift_down(e.index_);
  }
}

void DeadlineHeap::cancel(Entry& e) {
  if (e.queued()) remove_at(e.index_);
}

DeadlineHeap::Entry* DeadlineHeap::pop_due(uint64_t now_ms) {
  if (heap_.empty() || heap_.front()->due_ > now_ms) return nullptr;
  Entry* e = heap_.front();
  remove_at(0);
  return e;
}

void DeadlineHeap::remove_at(size_t i) {
  Entry* gone = heap_[i];
  Entry* last = heap_.back();
  heap_.pop_back();
  gone->index_ = Entry::kNotQueued;
  if (gone == last) return;
  place(last, i);
  // The moved entry may belong above or below its new place.
  sift_up(i);
  sift_down(last->index_);
}

void DeadlineHeap::sift_up(size_t i) {
  Entry* e = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (heap_[parent]->due_ <= e->due_) break;
    place(heap_[parent], i);
    i = parent;
  }
  place(e, i);
}

void DeadlineHeap::sift_down(size_t i) {
  Entry* e = heap_[i];
  const size_t n = heap_.size();
  while (true) {
    size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->due_ < heap_[child]->due_) ++child;
    if (heap_[child]->due_ >= e->due_) break;
    place(heap_[child], i);
    i = child;
  }
  place(e, i);
}

}  // namespace h2::host
