#include "protocol/detail/priority.h"

namespace h2::protocol::detail {
namespace {

bool is_key_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
         c == '*';
}

void skip_spaces(std::string_view s, size_t& i) {
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
}

}  // namespace

Priority parse_priority_field(std::string_view s, Priority base) {
  Priority result = base;
  size_t i = 0;
  skip_spaces(s, i);
  while (i < s.size()) {
    // key (RFC 8941 §3.1.2: lcalpha or "*" first)
    size_t key_start = i;
    if (!((s[i] >= 'a' && s[i] <= 'z') || s[i] == '*')) return base;
    while (i < s.size() && is_key_char(s[i])) ++i;
    std::string_view key = s.substr(key_start, i - key_start);
    // value: "=" bare-item, or boolean true when absent
    bool is_bool = true, bool_value = true;
    bool is_int = false;
    int64_t int_value = 0;
    bool other = false;
    if (i < s.size() && s[i] == '=') {
      ++i;
      is_bool = false;
      if (i < s.size() && s[i] == '?') {
        if (i + 1 >= s.size() || (s[i + 1] != '0' && s[i + 1] != '1')) return base;
        is_bool = true;
        bool_value = s[i + 1] == '1';
        i += 2;
      } else if (i < s.size() && (s[i] == '-' || (s[i] >= '0' && s[i] <= '9'))) {
        bool negative = s[i] == '-';
        if (negative) ++i;
        size_t digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9' && digits < 16) {
          int_value = int_value * 10 + (s[i] - '0');
          ++i;
          ++digits;
        }
        if (digits == 0) return base;
        if (i < s.size() && s[i] == '.') {  // decimal: a valid item, not an integer
          ++i;
          while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
          other = true;
        } else {
          is_int = true;
          if (negative) int_value = -int_value;
        }
      } else {
        // token, string or byte sequence: skip it as "some other type"
        other = true;
        if (i < s.size() && s[i] == '"') {
          ++i;
          while (i < s.size() && s[i] != '"') i += (s[i] == '\\') ? 2 : 1;
          if (i >= s.size()) return base;
          ++i;
        } else {
          while (i < s.size() && s[i] != ',' && s[i] != ';' && s[i] != ' ') ++i;
        }
      }
    }
    // parameters (";k=v") are allowed and ignored
    while (i < s.size() && s[i] == ';') {
      ++i;
      while (i < s.size() && s[i] != ',' && s[i] != ';') ++i;
    }
    (void)other;
    if (key == "u" && is_int && int_value >= 0 && int_value <= 7) {
      result.urgency = static_cast<uint8_t>(int_value);
    } else if (key == "i" && is_bool) {
      result.incremental = bool_value;
    }
    skip_spaces(s, i);
    if (i >= s.size()) break;
    if (s[i] != ',') return base;
    ++i;
    skip_spaces(s, i);
    if (i >= s.size()) return base;  // trailing comma
  }
  return result;
}

PriorityScheduler::List& PriorityScheduler::list_of(uint8_t urgency, bool incremental) {
  Bucket& bucket = buckets_[urgency & 7];
  return incremental ? bucket.incremental : bucket.sequential;
}

void PriorityScheduler::insert_before(List& list, SchedNode* pos, SchedNode* node) {
  node->next = pos;
  node->prev = pos ? pos->prev : list.tail;
  if (node->prev)
    node->prev->next = node;
  else
    list.head = node;
  if (pos)
    pos->prev = node;
  else
    list.tail = node;
}

void PriorityScheduler::remove(List& list, SchedNode* node) {
  if (node->prev)
    node->prev->next = node->next;
  else
    list.head = node->next;
  if (node->next)
    node->next->prev = node->prev;
  else
    list.tail = node->prev;
  node->prev = node->next = nullptr;
}

void PriorityScheduler::link(SchedNode* node) {
  if (node->linked) return;
  node->linked = true;
  node->linked_urgency = node->priority.urgency;
  node->linked_incremental = node->priority.incremental;
  List& list = list_of(node->linked_urgency, node->linked_incremental);
  SchedNode* pos = nullptr;
  if (!node->linked_incremental) {
    // Keep id order; new streams have the highest ids, so this walk is usually one step.
    SchedNode* after = list.tail;
    while (after != nullptr && after->sched_id > node->sched_id) {
      pos = after;
      after = after->prev;
    }
  }
  insert_before(list, pos, node);
  ++size_;
}

void PriorityScheduler::unlink(SchedNode* node) {
  if (!node->linked) return;
  remove(list_of(node->linked_urgency, node->linked_incremental), node);
  node->linked = false;
  --size_;
}

void PriorityScheduler::rotate(SchedNode* node) {
  if (!node->linked || !node->linked_incremental) return;
  List& list = list_of(node->linked_urgency, true);
  if (list.tail == node) return;
  remove(list, node);
  insert_before(list, nullptr, node);
}

void PriorityScheduler::reprioritize(SchedNode* node, Priority priority) {
  bool was_linked = node->linked;
  unlink(node);
  node->priority = priority;
  if (was_linked) link(node);
}

}  // namespace h2::protocol::detail
