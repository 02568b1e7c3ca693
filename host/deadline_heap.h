// The deadlines of a worker's connections in one min-heap, so that the worker needs one system
// timer rather than one per connection. An Asio steady_timer per connection held 120 bytes, a
// pending wait operation (about 100 more) and a timer-queue entry for every idle connection;
// here a connection embeds a 24-byte Entry and the heap holds one pointer to it.
//
// Intrusive and indexed: an Entry knows its place in the heap, so moving or removing it is
// O(log n) and needs no search; nothing is allocated per schedule. Not thread-safe: one heap per
// worker thread, used from that thread only.
//
//   heap.schedule(conn, 1'500);   // conn is an Entry (a base class of the connection)
//   heap.schedule(other, 900);
//   heap.earliest();              // 900: what the worker's one timer waits for
//   heap.pop_due(1'000);          // &other (removed from the heap); then nullptr
//   heap.cancel(conn);            // a connection that closes leaves the heap
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

namespace h2::host {

class DeadlineHeap {
 public:
  class Entry {
   public:
    // Called by the owner of the heap when this entry's time has come (it is out of the heap
    // then, and may be scheduled again from inside the call).
    virtual void on_due(uint64_t now_ms) = 0;
    bool queued() const { return index_ != kNotQueued; }
    uint64_t due() const { return due_; }  // meaningful while queued()

   protected:
    Entry() = default;
    Entry(const Entry&) = delete;
    Entry& operator=(const Entry&) = delete;
    ~Entry() = default;  // owners cancel() before destroying an entry

   private:
    friend class DeadlineHeap;
    static constexpr uint32_t kNotQueued = UINT32_MAX;
    uint64_t due_ = 0;
    uint32_t index_ = kNotQueued;
  };

  // Queues `e` at `due_ms`, or moves it there (earlier or later) if it is queued already.
  void schedule(Entry& e, uint64_t due_ms);
  // Takes `e` out of the heap; nothing if it is not queued.
  void cancel(Entry& e);
  // The earliest due time; nothing when the heap is empty.
  std::optional<uint64_t> earliest() const {
    if (heap_.empty()) return std::nullopt;
    return heap_.front()->due_;
  }
  // The earliest entry if it is due at `now_ms` (due <= now), taken out of the heap; else null.
  Entry* pop_due(uint64_t now_ms);
  size_t size() const { return heap_.size(); }

 private:
  void place(Entry* e, size_t i) {
    heap_[i] = e;
    e->index_ = static_cast<uint32_t>(i);
  }
  void sift_up(size_t i);
  void sift_down(size_t i);
  void remove_at(size_t i);

  std::vector<Entry*> heap_;
};

}  // namespace h2::host
