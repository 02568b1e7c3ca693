// connections.max_per_address: open connections per client address, counted over every worker
// process. The counts live in one shared anonymous mapping made before the workers are forked
// (nginx keeps limit_conn in a shared memory zone for the same reason): a count-min sketch, two
// rows of counters indexed by two independent hashes of the address. A connection is admitted
// while the smaller of its two counts is below the limit; a hash collision can only make two
// addresses share a count (refusing early, rarely: both rows must collide), never let an address
// exceed the limit; the hashes are keyed with a random seed, so a client cannot aim at another
// address's counters. IPv4 addresses count one by one, IPv6 per /64 (what one host is usually
// given), IPv4-mapped IPv6 as IPv4. Unix-socket peers are not counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>

namespace h2::host {

// Holds one admitted connection's place in the counts; releasing it (the last copy of the
// shared_ptr, when the connection's last owner goes) gives the place back.
class AddressSlot {
 public:
  AddressSlot(uint32_t first, uint32_t second, uint32_t worker)
      : first_(first), second_(second), worker_(worker) {}
  ~AddressSlot();
  AddressSlot(const AddressSlot&) = delete;
  AddressSlot& operator=(const AddressSlot&) = delete;

 private:
  uint32_t first_;
  uint32_t second_;
  uint32_t worker_;
};

// Maps the shared counts now (idempotent). The master calls it before forking its first worker
// so that every generation shares one table; otherwise the first admit() does.
void prepare_address_counts();

// In a worker process, before it serves: its connections count in row `worker` of the shared
// table (the master's index for that live worker), which release_address_counts(worker) gives
// back when the worker has exited, however it died.
void use_address_rows(size_t worker);
void release_address_counts(size_t worker);

enum class Admission { kAdmitted, kRefused, kNotCounted };

// Decides for a connection accepted on `fd` under `max_per_address` (0: no limit). kAdmitted
// fills `slot`, which the connection must keep while it lives; kNotCounted (no limit, a Unix
// socket, or an address that cannot be read) admits without a slot.
Admission admit_connection(int fd, uint64_t max_per_address, std::shared_ptr<AddressSlot>* slot);

}  // namespace h2::host
