// HPACK: ours against libnghttp2's HPACK API (nghttp2_hd_inflate_* / nghttp2_hd_deflate_*),
// same inputs, same binary. Inputs are the 32 hpack-test-case raw-data stories (3384 header
// lists). Each iteration handles every story with a fresh codec, as a new connection would.
//  - Encode: bytes processed = the raw name + value bytes of the header lists.
//  - Decode: bytes processed = the encoded bytes; two inputs, the blocks produced by nghttp2's
//    deflater and the blocks produced by our encoder (both at table size 4096).
// After the runs, main() prints the ours/nghttp2 throughput ratios and total encoded sizes.
//
//   build-release/tests/bench/h2_bench --benchmark_filter=Hpack
#include <benchmark/benchmark.h>
#include <nghttp2/nghttp2.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hpack/decoder.h"
#include "hpack/encoder.h"

namespace {

using h2::hpack::Decoder;
using h2::hpack::Encoder;
using h2::hpack::Error;
using h2::hpack::HeaderField;

struct Case {
  std::vector<std::pair<std::string, std::string>> headers;
  std::vector<HeaderField> fields;  // views into headers
  std::vector<nghttp2_nv> nva;      // views into headers
};
using Story = std::vector<Case>;

struct Corpus {
  std::vector<Story> stories;
  size_t header_bytes = 0;
  std::vector<std::vector<std::string>> nghttp2_blocks;  // [story][case]
  std::vector<std::vector<std::string>> h2_blocks;
  size_t nghttp2_encoded = 0;
  size_t h2_encoded = 0;
};

std::filesystem::path raw_data_dir() {
  const char* env = std::getenv("H2_FIXTURES_DIR");
  std::filesystem::path root = env && *env ? env : H2_FIXTURES_DIR_DEFAULT;
  return root / "hpack-test-case" / "raw-data";
}

std::string deflate_nghttp2(nghttp2_hd_deflater* deflater, std::vector<nghttp2_nv>& nva) {
  std::string out(nghttp2_hd_deflate_bound(deflater, nva.data(), nva.size()), '\0');
  const auto n = nghttp2_hd_deflate_hd(deflater, reinterpret_cast<uint8_t*>(out.data()), out.size(),
                                       nva.data(), nva.size());
  if (n < 0) std::abort();
  out.resize(static_cast<size_t>(n));
  return out;
}

Corpus load_corpus() {
  Corpus corpus;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(raw_data_dir())) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  if (files.size() != 32) {
    std::fprintf(stderr, "expected 32 raw-data stories in %s\n", raw_data_dir().c_str());
    std::abort();
  }
  for (const auto& file : files) {
    std::ifstream in(file);
    const auto json = nlohmann::json::parse(in);
    Story story;
    for (const auto& c : json.at("cases")) {
      Case kase;
      for (const auto& h : c.at("headers")) {
        for (const auto& [k, v] : h.items()) kase.headers.emplace_back(k, v.get<std::string>());
      }
      story.push_back(std::move(kase));
    }
    for (Case& kase : story) {  // views only once the vectors stopped moving
      for (auto& [n, v] : kase.headers) {
        kase.fields.push_back({n, v});
        kase.nva.push_back({reinterpret_cast<uint8_t*>(n.data()),
                            reinterpret_cast<uint8_t*>(v.data()), n.size(), v.size(),
                            NGHTTP2_NV_FLAG_NONE});
        corpus.header_bytes += n.size() + v.size();
      }
    }
    corpus.stories.push_back(std::move(story));
  }
  for (Story& story : corpus.stories) {
    nghttp2_hd_deflater* deflater = nullptr;
    nghttp2_hd_deflate_new(&deflater, 4096);
    Encoder encoder;
    auto& ng = corpus.nghttp2_blocks.emplace_back();
    auto& ours = corpus.h2_blocks.emplace_back();
    for (Case& kase : story) {
      ng.push_back(deflate_nghttp2(deflater, kase.nva));
      corpus.nghttp2_encoded += ng.back().size();
      encoder.encode(kase.fields, ours.emplace_back());
      corpus.h2_encoded += ours.back().size();
    }
    nghttp2_hd_deflate_del(deflater);
  }
  return corpus;
}

const Corpus& corpus() {
  static const Corpus c = load_corpus();
  return c;
}

// The same minimal consumer for both decoders: count bytes, touch the first one.
struct Consumer : h2::hpack::HeaderSink {
  void on_header(std::string_view name, std::string_view value) override {
    bytes += name.size() + value.size() + static_cast<unsigned char>(name[0]);
  }
  size_t bytes = 0;
};

size_t encoded_size(const std::vector<std::vector<std::string>>& blocks) {
  size_t n = 0;
  for (const auto& story : blocks) {
    for (const auto& b : story) n += b.size();
  }
  return n;
}

void decode_ours(benchmark::State& state, const std::vector<std::vector<std::string>>& blocks) {
  Consumer consumer;
  for (auto _ : state) {
    for (const auto& story : blocks) {
      Decoder decoder;
      for (const std::string& block : story) {
        decoder.begin_block(&consumer);
        if (decoder.process_bytes(block) != Error::kOk || decoder.end_block() != Error::kOk) {
          state.SkipWithError("decode failed");
          return;
        }
      }
    }
  }
  benchmark::DoNotOptimize(consumer.bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * encoded_size(blocks)));
}

void decode_nghttp2(benchmark::State& state, const std::vector<std::vector<std::string>>& blocks) {
  size_t bytes = 0;
  for (auto _ : state) {
    for (const auto& story : blocks) {
      nghttp2_hd_inflater* inflater = nullptr;
      nghttp2_hd_inflate_new(&inflater);
      for (const std::string& block : story) {
        const auto* in = reinterpret_cast<const uint8_t*>(block.data());
        size_t left = block.size();
        for (;;) {
          nghttp2_nv nv;
          int flags = 0;
          const auto rv = nghttp2_hd_inflate_hd2(inflater, &nv, &flags, in, left, 1);
          if (rv < 0) {
            state.SkipWithError("nghttp2 decode failed");
            return;
          }
          in += rv;
          left -= static_cast<size_t>(rv);
          if (flags & NGHTTP2_HD_INFLATE_EMIT) bytes += nv.namelen + nv.valuelen + nv.name[0];
          if (flags & NGHTTP2_HD_INFLATE_FINAL) {
            nghttp2_hd_inflate_end_headers(inflater);
            break;
          }
          if ((flags & NGHTTP2_HD_INFLATE_EMIT) == 0 && left == 0) break;
        }
      }
      nghttp2_hd_inflate_del(inflater);
    }
  }
  benchmark::DoNotOptimize(bytes);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * encoded_size(blocks)));
}

void BM_HpackDecode_Ours_NgInput(benchmark::State& s) {
  decode_ours(s, corpus().nghttp2_blocks);
}
void BM_HpackDecode_Nghttp2_NgInput(benchmark::State& s) {
  decode_nghttp2(s, corpus().nghttp2_blocks);
}
void BM_HpackDecode_Ours_H2Input(benchmark::State& s) {
  decode_ours(s, corpus().h2_blocks);
}
void BM_HpackDecode_Nghttp2_H2Input(benchmark::State& s) {
  decode_nghttp2(s, corpus().h2_blocks);
}

void BM_HpackEncode_Ours(benchmark::State& state) {
  std::string out;
  size_t total = 0;
  for (auto _ : state) {
    total = 0;
    for (const Story& story : corpus().stories) {
      Encoder encoder;
      for (const Case& kase : story) {
        out.clear();
        encoder.encode(kase.fields, out);
        total += out.size();
      }
    }
  }
  state.counters["encoded_bytes"] = static_cast<double>(total);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().header_bytes));
}

void BM_HpackEncode_Nghttp2(benchmark::State& state) {
  std::vector<uint8_t> out(1 << 20);
  size_t total = 0;
  for (auto _ : state) {
    total = 0;
    for (const Story& story : corpus().stories) {
      nghttp2_hd_deflater* deflater = nullptr;
      nghttp2_hd_deflate_new(&deflater, 4096);
      for (const Case& kase : story) {
        const auto n =
            nghttp2_hd_deflate_hd(deflater, out.data(), out.size(),
                                  const_cast<nghttp2_nv*>(kase.nva.data()), kase.nva.size());
        if (n < 0) {
          state.SkipWithError("nghttp2 encode failed");
          return;
        }
        total += static_cast<size_t>(n);
      }
      nghttp2_hd_deflate_del(deflater);
    }
  }
  state.counters["encoded_bytes"] = static_cast<double>(total);
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * corpus().header_bytes));
}

BENCHMARK(BM_HpackDecode_Ours_NgInput);
BENCHMARK(BM_HpackDecode_Nghttp2_NgInput);
BENCHMARK(BM_HpackDecode_Ours_H2Input);
BENCHMARK(BM_HpackDecode_Nghttp2_H2Input);
BENCHMARK(BM_HpackEncode_Ours);
BENCHMARK(BM_HpackEncode_Nghttp2);

// Console output as usual, plus the bytes/s of every run kept for the summary: the median
// aggregate when --benchmark_repetitions is used, else the median of the runs seen.
class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const Run& run : runs) {
      const auto it = run.counters.find("bytes_per_second");
      if (it == run.counters.end()) continue;
      const std::string& name = run.run_name.function_name;
      if (run.run_type == Run::RT_Iteration) {
        samples_[name].push_back(it->second.value);
      } else if (run.aggregate_name == "median") {
        medians_[name] = it->second.value;
      }
    }
  }
  // bytes/s of benchmark `name`, or 0 when it did not run.
  double rate(const std::string& name) const {
    if (const auto m = medians_.find(name); m != medians_.end()) return m->second;
    const auto s = samples_.find(name);
    if (s == samples_.end() || s->second.empty()) return 0;
    std::vector<double> v = s->second;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  }

 private:
  std::map<std::string, std::vector<double>> samples_;
  std::map<std::string, double> medians_;
};

void print_ratio(const SummaryReporter& r, const char* label, const std::string& ours,
                 const std::string& theirs, double target) {
  const double a = r.rate(ours), b = r.rate(theirs);
  if (a == 0 || b == 0) return;
  const double ratio = a / b;
  std::printf("  %-28s ours %8.1f MB/s  nghttp2 %8.1f MB/s  ratio %.2fx (target >= %.1fx: %s)\n",
              label, a / 1e6, b / 1e6, ratio, target, ratio >= target ? "met" : "MISSED");
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  if (reporter.rate("BM_HpackEncode_Ours") > 0 ||
      reporter.rate("BM_HpackDecode_Ours_NgInput") > 0) {
    const Corpus& c = corpus();
    std::printf(
        "\nHPACK summary (32 raw-data stories, %zu header bytes, table size 4096,"
        " MB = 10^6 bytes, CPU time)\n",
        c.header_bytes);
    print_ratio(reporter, "decode (nghttp2's blocks)", "BM_HpackDecode_Ours_NgInput",
                "BM_HpackDecode_Nghttp2_NgInput", 1.5);
    print_ratio(reporter, "decode (our blocks)", "BM_HpackDecode_Ours_H2Input",
                "BM_HpackDecode_Nghttp2_H2Input", 1.5);
    print_ratio(reporter, "encode", "BM_HpackEncode_Ours", "BM_HpackEncode_Nghttp2", 1.0);
    const double size_ratio =
        static_cast<double>(c.h2_encoded) / static_cast<double>(c.nghttp2_encoded);
    std::printf(
        "  encoded size: ours %zu bytes, nghttp2 %zu bytes, ratio %.4f (target <= 1.02: %s)\n",
        c.h2_encoded, c.nghttp2_encoded, size_ratio, size_ratio <= 1.02 ? "met" : "MISSED");
  }
  benchmark::Shutdown();
  return 0;
}
