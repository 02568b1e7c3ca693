#include "host/address_limit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <random>

namespace h2::host {
namespace {

constexpr size_t kRowSize = 8192;  // counters per row; two rows: 64 KiB shared
constexpr size_t kWorkerRows = 1024;  // one per live worker (its crash-marker index, master.cc)

struct Counts {
  uint64_t seed;  // random, chosen before the first fork: the buckets cannot be aimed at
  std::atomic<uint32_t> rows[2][kRowSize];  // every worker's connections
  // Each worker's share of `rows`, so that the master can take back what a worker that died by
  // a signal (its AddressSlot destructors never ran) still held. Pages are touched only as
  // workers count into them.
  std::atomic<uint32_t> by_worker[kWorkerRows][2][kRowSize];
};
static_assert(std::atomic<uint32_t>::is_always_lock_free, "counters are shared between processes");

size_t worker_row = 0;  // this process's row of by_worker (use_address_rows)

Counts* counts() {
  static Counts* table = [] {
    // Zero-filled by the kernel, and left untouched here: the 64 MiB of rows cost only the
    // pages workers write to.
    void* p = ::mmap(nullptr, sizeof(Counts), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                     -1, 0);
    if (p == MAP_FAILED) return static_cast<Counts*>(nullptr);
    auto* c = static_cast<Counts*>(p);
    c->seed = (uint64_t{std::random_device{}()} << 32) ^ std::random_device{}();
    return c;
  }();
  return table;
}

// splitmix64's finalizer: a good 64-bit mix; two seeds give the two rows independent hashes.
uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// The counted part of the peer address as 64 bits and a family tag; false when not counted.
bool address_key(int fd, uint64_t* key) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
  if (addr.ss_family == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(&addr);
    *key = (uint64_t{4} << 32) | ntohl(v4->sin_addr.s_addr);
    return true;
  }
  if (addr.ss_family == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(&addr);
    const unsigned char* b = v6->sin6_addr.s6_addr;
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      uint32_t v4;
      std::memcpy(&v4, b + 12, 4);
      *key = (uint64_t{4} << 32) | ntohl(v4);
      return true;
    }
    uint64_t prefix;  // the /64
    std::memcpy(&prefix, b, 8);
    *key = mix(prefix ^ 0x6666);  // never equal to an IPv4 key's form by more than chance
    return true;
  }
  return false;  // AF_UNIX
}

}  // namespace

AddressSlot::~AddressSlot() {
  if (Counts* c = counts()) {
    c->rows[0][first_].fetch_sub(1, std::memory_order_relaxed);
    c->rows[1][second_].fetch_sub(1, std::memory_order_relaxed);
    c->by_worker[worker_][0][first_].fetch_sub(1, std::memory_order_relaxed);
    c->by_worker[worker_][1][second_].fetch_sub(1, std::memory_order_relaxed);
  }
}

void prepare_address_counts() {
  (void)counts();
}

void use_address_rows(size_t worker) {
  worker_row = worker % kWorkerRows;
}

void release_address_counts(size_t worker) {
  Counts* c = counts();
  if (c == nullptr) return;
  for (size_t r = 0; r < 2; ++r) {
    for (size_t i = 0; i < kRowSize; ++i) {
      if (const uint32_t held = c->by_worker[worker % kWorkerRows][r][i].exchange(0)) {
        c->rows[r][i].fetch_sub(held, std::memory_order_relaxed);
      }
    }
  }
}

Admission admit_connection(int fd, uint64_t max_per_address, std::shared_ptr<AddressSlot>* slot) {
  if (max_per_address == 0) return Admission::kNotCounted;
  Counts* c = counts();
  uint64_t key;
  if (c == nullptr || !address_key(fd, &key)) return Admission::kNotCounted;
  const auto first = static_cast<uint32_t>(mix(key ^ c->seed) % kRowSize);
  const auto second = static_cast<uint32_t>(mix(key ^ ~c->seed) % kRowSize);
  // Count first, then check: two workers admitting at once cannot both slip under the limit.
  const uint32_t a = c->rows[0][first].fetch_add(1, std::memory_order_relaxed);
  const uint32_t b = c->rows[1][second].fetch_add(1, std::memory_order_relaxed);
  c->by_worker[worker_row][0][first].fetch_add(1, std::memory_order_relaxed);
  c->by_worker[worker_row][1][second].fetch_add(1, std::memory_order_relaxed);
  *slot = std::make_shared<AddressSlot>(first, second, static_cast<uint32_t>(worker_row));
  if (std::min(a, b) >= max_per_address) {
    slot->reset();  // gives the place back
    return Admission::kRefused;
  }
  return Admission::kAdmitted;
}

}  // namespace h2::host
