// RFC 9218 extensible priorities: parsing the Priority field value and choosing whose DATA goes
// next. Urgency 0 (highest) to 7; within one urgency, non-incremental streams are served one at
// a time in stream-id order (§4.2: "in the order of their stream ID"), then incremental streams
// round-robin, one frame each.
#pragma once

#include <cstdint>
#include <string_view>

namespace h2::protocol::detail {

struct Priority {
  uint8_t urgency = 3;  // RFC 9218 §4.1 default
  bool incremental = false;
};

// Parses a Structured-Fields dictionary such as "u=1, i" (RFC 9218 §4, RFC 8941 §3.2) over the
// `base` priority. Unknown keys and out-of-range or mistyped values are ignored (§4: a value that
// cannot be parsed is ignored as a whole, a bad member is skipped).
Priority parse_priority_field(std::string_view value, Priority base = {});

// Intrusive node embedded in each stream.
struct SchedNode {
  SchedNode* prev = nullptr;
  SchedNode* next = nullptr;
  uint32_t sched_id = 0;
  Priority priority;
  bool linked = false;
  uint8_t linked_urgency = 0;
  bool linked_incremental = false;
};

class PriorityScheduler {
 public:
  // Adds a stream that has something to send (no-op when already linked).
  void link(SchedNode* node);
  void unlink(SchedNode* node);
  // After a frame of an incremental stream was sent: moves it behind its peers (round robin).
  void rotate(SchedNode* node);
  // A priority change of a linked stream takes effect now (relinks it).
  void reprioritize(SchedNode* node, Priority priority);
  // The first node in scheduling order for which `eligible(node)` holds, or nullptr.
  template <typename Pred>
  SchedNode* pick(Pred&& eligible) const {
    for (const Bucket& bucket : buckets_) {
      for (const List* list : {&bucket.sequential, &bucket.incremental}) {
        for (SchedNode* n = list->head; n != nullptr; n = n->next) {
          if (eligible(n)) return n;
        }
      }
    }
    return nullptr;
  }
  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }

 private:
  struct List {
    SchedNode* head = nullptr;
    SchedNode* tail = nullptr;
  };
  struct Bucket {
    List sequential;   // ordered by stream id
    List incremental;  // round-robin order
  };
  List& list_of(uint8_t urgency, bool incremental);
  static void insert_before(List& list, SchedNode* pos, SchedNode* node);
  static void remove(List& list, SchedNode* node);
  Bucket buckets_[8];
  size_t size_ = 0;
};

}  // namespace h2::protocol::detail
