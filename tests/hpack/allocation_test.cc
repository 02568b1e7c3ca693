// "No allocation per field on the hot path": counts every operator new while a warmed-up
// encoder and decoder handle all raw-data stories. Tables are allocated at their first insert
// and buffers grow a few times (amortized) during the first pass; then encoding and decoding
// allocate nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "hpack/decoder.h"
#include "hpack/encoder.h"
#include "tests/hpack/hpack_test_util.h"

namespace {
std::atomic<size_t> g_allocations{0};
}  // namespace

// GCC pairs the inlined malloc below with the library's operator new and warns at every
// delete; the replacement pair is consistent (malloc/free), so silence that check here only.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"

void* operator new(size_t size) {
  g_allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}

namespace h2::hpack {
namespace {

class NullSink : public HeaderSink {
 public:
  void on_header(std::string_view name, std::string_view value) override {
    bytes += name.size() + value.size();
  }
  size_t bytes = 0;
};

TEST(Allocation, NoneOnTheHotPathAfterWarmUp) {
  const auto stories = test::load_folder("raw-data");
  // Field arrays prepared up front: the encoder takes views.
  std::vector<std::vector<std::vector<HeaderField>>> fields(stories.size());
  size_t field_count = 0, block_count = 0;
  for (size_t s = 0; s < stories.size(); ++s) {
    for (const auto& c : stories[s].cases) {
      auto& f = fields[s].emplace_back();
      for (const auto& [n, v] : c.headers) f.push_back({n, v});
      field_count += f.size();
      ++block_count;
    }
  }
  Encoder encoder;
  Decoder decoder;
  NullSink sink;
  std::string block;
  block.reserve(1 << 16);
  size_t warm_up_allocations = 0;
  for (int pass = 0; pass < 2; ++pass) {  // pass 0 warms up the buffers
    const size_t before = g_allocations.load();
    for (const auto& story : fields) {
      for (const auto& list : story) {
        block.clear();
        encoder.encode(list, block);
        decoder.begin_block(&sink);
        ASSERT_EQ(decoder.process_bytes(block), Error::kOk);
        ASSERT_EQ(decoder.end_block(), Error::kOk);
      }
    }
    const size_t allocations = g_allocations.load() - before;
    if (pass == 0) {
      warm_up_allocations = allocations;
    } else {
      EXPECT_EQ(allocations, 0u) << "after warm-up, for " << block_count << " blocks and "
                                 << field_count << " fields";
    }
  }
  std::printf(
      "[ hpack    ] allocations: %zu while warming up, then 0 for %zu blocks / %zu fields\n",
      warm_up_allocations, block_count, field_count);
  EXPECT_LT(warm_up_allocations, 64u) << "for " << field_count << " fields";
  EXPECT_GT(sink.bytes, 0u);
}

}  // namespace
}  // namespace h2::hpack
