// Dynamic table (RFC 7541 §2.3.2, §4): sizes, eviction order, §4.4 corner cases and the ring
// arena checked against a plain std::deque model under random operations.
#include "hpack/dynamic_table.h"

#include <gtest/gtest.h>

#include <deque>
#include <random>
#include <string>
#include <utility>

namespace h2::hpack {
namespace {

TEST(DynamicTable, SizeAndEvictionOrder) {
  DynamicTable t(100);
  EXPECT_TRUE(t.insert("a", "1"));  // 34
  EXPECT_TRUE(t.insert("b", "2"));  // 68
  EXPECT_EQ(t.size(), 68u);
  EXPECT_TRUE(t.insert("c", "3"));  // 102 > 100: "a" evicted (RFC 7541 §4.4)
  EXPECT_EQ(t.count(), 2u);
  EXPECT_EQ(t.name(0), "c");
  EXPECT_EQ(t.name(1), "b");
  EXPECT_EQ(t.size(), 68u);
}

TEST(DynamicTable, EntryLargerThanCapacityEmptiesTable) {
  DynamicTable t(64);
  ASSERT_TRUE(t.insert("a", "1"));
  EXPECT_FALSE(t.insert("name", std::string(40, 'x')));  // 76 > 64 (RFC 7541 §4.4)
  EXPECT_EQ(t.count(), 0u);
  EXPECT_EQ(t.size(), 0u);
}

TEST(DynamicTable, InsertNameReferringToEvictedEntry) {
  DynamicTable t(70);
  ASSERT_TRUE(t.insert("custom-name", "v"));  // 44
  // The new entry evicts the one its name points to (RFC 7541 §4.4 allows this).
  ASSERT_TRUE(t.insert(t.name(0), "value-that-evicts"));
  EXPECT_EQ(t.count(), 1u);
  EXPECT_EQ(t.name(0), "custom-name");
  EXPECT_EQ(t.value(0), "value-that-evicts");
}

TEST(DynamicTable, CapacityAndLimitChanges) {
  DynamicTable t(4096);
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(t.insert("k" + std::to_string(i), "v"));
  t.set_capacity(100);  // RFC 7541 §4.3
  EXPECT_EQ(t.count(), 2u);
  EXPECT_EQ(t.name(0), "k9");
  t.set_limit(65536);  // grows the arena, keeps the entries
  EXPECT_EQ(t.count(), 2u);
  EXPECT_EQ(t.name(1), "k8");
  t.set_capacity(65536);
  ASSERT_TRUE(t.insert("big", std::string(60000, 'b')));
  EXPECT_EQ(t.value(0).size(), 60000u);
  t.set_limit(0);
  EXPECT_EQ(t.count(), 0u);
  EXPECT_EQ(t.capacity(), 0u);
}

TEST(DynamicTable, RingMatchesModelUnderRandomOperations) {
  std::mt19937 rng(42);
  DynamicTable t(4096);
  std::deque<std::pair<std::string, std::string>> model;  // front = newest
  size_t model_size = 0, capacity = 4096;
  for (int step = 0; step < 200000; ++step) {
    const int op = std::uniform_int_distribution<int>(0, 99)(rng);
    if (op < 2) {
      capacity = std::uniform_int_distribution<size_t>(0, 4096)(rng);
      t.set_capacity(static_cast<uint32_t>(capacity));
    } else {
      const size_t nlen = std::uniform_int_distribution<size_t>(0, 40)(rng);
      const size_t vlen = std::uniform_int_distribution<size_t>(0, op < 5 ? 3000 : 200)(rng);
      std::string name(nlen, static_cast<char>('a' + step % 26));
      std::string value(vlen, static_cast<char>('A' + step % 26));
      if (!model.empty() && op < 20) name = model.front().first;  // name by reference
      t.insert(op < 20 && !model.empty() ? t.name(0) : std::string_view(name), value);
      const size_t entry = name.size() + value.size() + 32;
      if (entry > capacity) {
        model.clear();
        model_size = 0;
      } else {
        model.emplace_front(name, value);
        model_size += entry;
      }
    }
    while (model_size > capacity) {
      model_size -= model.back().first.size() + model.back().second.size() + 32;
      model.pop_back();
    }
    ASSERT_EQ(t.count(), model.size()) << step;
    ASSERT_EQ(t.size(), model_size) << step;
    if (step % 97 == 0 || op < 5) {
      for (size_t i = 0; i < model.size(); ++i) {
        ASSERT_EQ(t.name(i), model[i].first) << step << " entry " << i;
        ASSERT_EQ(t.value(i), model[i].second) << step << " entry " << i;
      }
    }
  }
}

}  // namespace
}  // namespace h2::hpack
