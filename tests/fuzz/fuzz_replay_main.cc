// Replays a fuzz target without libFuzzer (g++ builds, CI): every file of the corpus
// directories given, then N inputs derived from a fixed seed (random bytes, and corpus entries
// mutated by flips, insertions, truncations and splices). Any invariant violation aborts.
//   h2_fuzz_replay <target> <corpus-dir>... [--runs N] [--seed S]
// The targets are every H2_FUZZ_TARGET linked in (tests/fuzz/fuzz_target.h).
#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "tests/fuzz/fuzz_target.h"

namespace {

h2::fuzz::TargetFunction target = nullptr;

std::string read_all(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void feed(const std::string& input) {
  target(reinterpret_cast<const uint8_t*>(input.data()), input.size());
}

std::string mutate(std::string s, const std::vector<std::string>& corpus, std::mt19937& rng) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n)(rng); };
  for (size_t rounds = 1 + pick(4); rounds > 0; --rounds) {
    switch (pick(5)) {
      case 0:
        if (!s.empty()) s[pick(s.size() - 1)] ^= static_cast<char>(1 << pick(7));
        break;
      case 1:
        if (!s.empty()) s[pick(s.size() - 1)] = static_cast<char>(pick(255));
        break;
      case 2:
        s.insert(pick(s.size()), 1 + pick(8), static_cast<char>(pick(255)));
        break;
      case 3:
        if (!s.empty()) s.resize(pick(s.size()));
        break;
      case 4:
        s += corpus[pick(corpus.size() - 1)].substr(2);
        break;
      default:
        s.insert(0, 1, static_cast<char>(pick(255)));
        break;
    }
  }
  return s;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> corpus;
  size_t runs = 20000;
  uint32_t seed = 20261125;
  const std::string_view name = argc > 1 ? argv[1] : "";
  for (const h2::fuzz::Target& t : h2::fuzz::registry()) {
    if (t.name == name) target = t.run;
  }
  if (target == nullptr) {
    std::fprintf(stderr, "usage: h2_fuzz_replay <target> <corpus-dir>... [--runs N] [--seed S]\n"
                         "unknown target \"%.*s\"; targets:", static_cast<int>(name.size()),
                 name.data());
    for (const h2::fuzz::Target& t : h2::fuzz::registry()) {
      std::fprintf(stderr, " %.*s", static_cast<int>(t.name.size()), t.name.data());
    }
    std::fprintf(stderr, "\n");
    return 2;
  }
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--runs" && i + 1 < argc) {
      runs = std::strtoul(argv[++i], nullptr, 10);
    } else if (arg == "--seed" && i + 1 < argc) {
      seed = static_cast<uint32_t>(std::strtoul(argv[++i], nullptr, 10));
    } else {
      if (!std::filesystem::is_directory(arg)) {
        std::fprintf(stderr, "corpus directory missing: %s\n", arg.c_str());
        return 2;
      }
      std::vector<std::filesystem::path> files;
      for (const auto& entry : std::filesystem::directory_iterator(arg)) {
        if (entry.is_regular_file()) files.push_back(entry.path());
      }
      std::sort(files.begin(), files.end());
      for (const auto& file : files) corpus.push_back(read_all(file));
    }
  }
  if (corpus.empty()) {
    std::fprintf(stderr, "empty corpus\n");
    return 2;
  }
  for (const std::string& input : corpus) feed(input);
  std::mt19937 rng(seed);
  size_t bytes = 0;
  for (size_t i = 0; i < runs; ++i) {
    std::string input;
    if (i % 4 == 0) {
      input.resize(std::uniform_int_distribution<size_t>(0, 256)(rng));
      for (char& c : input) c = static_cast<char>(rng());
    } else {
      input = mutate(corpus[rng() % corpus.size()], corpus, rng);
    }
    bytes += input.size();
    feed(input);
  }
  std::printf("%.*s: replayed %zu corpus files and %zu generated inputs (%zu bytes), seed %u: ok\n",
              static_cast<int>(name.size()), name.data(), corpus.size(), runs, bytes, seed);
  return 0;
}
