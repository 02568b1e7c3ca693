// A FIFO over one power-of-two ring of slots: push at the back, pop at the front, iterate in
// order. Unlike std::deque (libstdc++ allocates a 512-byte node and a map on construction), an
// empty RingQueue owns no memory, which matters for the queues every idle connection and every
// pooled stream carries. Capacity doubles when full and is kept by clear().
#pragma once

#include <cstddef>
#include <new>
#include <memory>
#include <utility>

namespace h2::protocol::detail {

template <typename T>
class RingQueue {
 public:
  RingQueue() = default;
  RingQueue(RingQueue&& other) noexcept
      : slots_(std::move(other.slots_)),
        capacity_(std::exchange(other.capacity_, 0)),
        head_(std::exchange(other.head_, 0)),
        size_(std::exchange(other.size_, 0)) {}
  RingQueue& operator=(RingQueue&& other) noexcept {
    if (this != &other) {
      clear();
      slots_ = std::move(other.slots_);
      capacity_ = std::exchange(other.capacity_, 0);
      head_ = std::exchange(other.head_, 0);
      size_ = std::exchange(other.size_, 0);
    }
    return *this;
  }
  RingQueue(const RingQueue&) = delete;
  RingQueue& operator=(const RingQueue&) = delete;
  ~RingQueue() { clear(); }

  bool empty() const { return size_ == 0; }
  size_t size() const { return size_; }
  T& front() { return at(0); }
  const T& front() const { return at(0); }
  T& back() { return at(size_ - 1); }
  T& operator[](size_t i) { return at(i); }
  const T& operator[](size_t i) const { return at(i); }

  void push_back(T value) {
    if (size_ == capacity_) grow();
    new (&slots_[(head_ + size_) & (capacity_ - 1)]) T(std::move(value));
    ++size_;
  }
  void pop_front() {
    std::destroy_at(&at(0));
    head_ = (head_ + 1) & (capacity_ - 1);
    --size_;
  }
  void clear() {
    while (size_ > 0) pop_front();
    head_ = 0;
  }

  template <typename Q, typename V>
  class Iter {
   public:
    Iter(Q* q, size_t i) : q_(q), i_(i) {}
    V& operator*() const { return (*q_)[i_]; }
    V* operator->() const { return &(*q_)[i_]; }
    Iter& operator++() {
      ++i_;
      return *this;
    }
    bool operator==(const Iter& o) const { return i_ == o.i_; }
    bool operator!=(const Iter& o) const { return i_ != o.i_; }

   private:
    Q* q_;
    size_t i_;
  };
  using iterator = Iter<RingQueue, T>;
  using const_iterator = Iter<const RingQueue, const T>;
  iterator begin() { return {this, 0}; }
  iterator end() { return {this, size_}; }
  const_iterator begin() const { return {this, 0}; }
  const_iterator end() const { return {this, size_}; }

 private:
  // Raw storage: slots hold live T only between head_ and head_ + size_.
  struct Slot {
    alignas(T) unsigned char bytes[sizeof(T)];
  };
  T& at(size_t i) {
    return *std::launder(reinterpret_cast<T*>(&slots_[(head_ + i) & (capacity_ - 1)]));
  }
  const T& at(size_t i) const {
    return *std::launder(reinterpret_cast<const T*>(&slots_[(head_ + i) & (capacity_ - 1)]));
  }
  void grow() {
    const size_t capacity = capacity_ == 0 ? 4 : 2 * capacity_;
    std::unique_ptr<Slot[]> slots(new Slot[capacity]);
    for (size_t i = 0; i < size_; ++i) {
      new (&slots[i]) T(std::move(at(i)));
      std::destroy_at(&at(i));
    }
    slots_ = std::move(slots);
    capacity_ = capacity;
    head_ = 0;
  }

  std::unique_ptr<Slot[]> slots_;
  size_t capacity_ = 0;
  size_t head_ = 0;
  size_t size_ = 0;
};

}  // namespace h2::protocol::detail
