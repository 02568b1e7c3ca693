// HPACK (RFC 7541) fuzz target, two modes chosen by bit 0 of byte 0:
//  * decode: a sequence of header blocks decoded by one stateful Decoder (the dynamic table
//    carries across blocks, as on a connection), each block fed whole to one decoder and cut
//    into fragments for a second one kept in lockstep. Checks: both deliver the same fields and
//    the same errors; a block that ends kOk respects every DecoderOptions limit; the dynamic
//    table never exceeds the size in force (§4.2); a connection error is sticky.
//  * round trip: the input is read as header lists; each is encoded by the Encoder (options and
//    table-size changes from the input) and decoded by a Decoder, which must reproduce every
//    field byte for byte, in order.
// Input (decode): [mode][limits] then blocks of [control][len hi][len lo][len bytes].
// Input (round trip): [mode][options] then lists of [count] x ([name len][name][value len][value]).
#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hpack/decoder.h"
#include "hpack/encoder.h"
#include "tests/fuzz/fuzz_target.h"

namespace {

using namespace h2::hpack;

void check(bool ok, const char* what) {
  if (!ok) h2::fuzz::fail("hpack", what);
}

struct Reader {
  const uint8_t* p;
  const uint8_t* end;
  bool empty() const { return p == end; }
  uint8_t byte() { return p == end ? 0 : *p++; }
  std::string_view take(size_t n) {
    n = std::min<size_t>(n, end - p);
    std::string_view s(reinterpret_cast<const char*>(p), n);
    p += n;
    return s;
  }
};

struct Collect final : HeaderSink {
  std::vector<std::pair<std::string, std::string>> fields;
  size_t list_size = 0;
  size_t longest = 0;
  void on_header(std::string_view name, std::string_view value) override {
    fields.emplace_back(name, value);
    list_size += name.size() + value.size() + 32;
    longest = std::max({longest, name.size(), value.size()});
  }
};

void decode_mode(Reader in) {
  const uint8_t limits = in.byte();
  DecoderOptions options;
  constexpr uint32_t kTableSizes[] = {0, 64, 256, 4096};
  constexpr size_t kListSizes[] = {128, 1024, 16384, 65536};
  options.max_table_size = kTableSizes[limits & 3];
  options.max_header_list_size = kListSizes[(limits >> 2) & 3];
  options.max_field_count = (limits & 16) ? 4 : 512;
  options.max_string_length = (limits & 32) ? 40 : 65536;
  Decoder whole(options);
  Decoder split(options);
  uint32_t table_limit = options.max_table_size;
  Error sticky = Error::kOk;
  while (!in.empty()) {
    const uint8_t control = in.byte();
    const size_t length = (size_t{in.byte()} << 8) | in.byte();
    const std::string_view block = in.take(length);
    if (control & 1) {
      // Our SETTINGS_HEADER_TABLE_SIZE changed and was acknowledged, between blocks.
      table_limit = std::min<uint32_t>(options.max_table_size, (control >> 1) * 64u);
      whole.set_max_table_size(table_limit);
      split.set_max_table_size(table_limit);
    }
    Collect a, b;
    whole.begin_block(&a);
    split.begin_block(&b);
    Error ea = whole.process_bytes(block);
    Error eb = Error::kOk;
    const size_t step = 1 + (control >> 4);
    for (size_t at = 0; at < block.size() && eb == Error::kOk; at += step) {
      eb = split.process_bytes(block.substr(at, step));
    }
    if (ea == Error::kOk) ea = whole.end_block();
    if (eb == Error::kOk) eb = split.end_block();
    check(ea == eb, "whole and fragmented decodes end differently");
    check(a.fields == b.fields, "whole and fragmented decodes deliver different fields");
    if (ea == Error::kOk) {
      check(a.list_size <= options.max_header_list_size, "header list above the limit");
      check(a.fields.size() <= options.max_field_count, "more fields than the limit");
      check(a.longest <= options.max_string_length, "a string above the limit");
    }
    check(whole.dynamic_table_size() <= table_limit, "dynamic table above the size in force");
    if (sticky != Error::kOk) check(ea == sticky, "a connection error did not stick");
    if (ea != Error::kOk && is_connection_error(ea)) sticky = ea;
  }
}

void round_trip_mode(Reader in) {
  const uint8_t knobs = in.byte();
  EncoderOptions encoder_options;
  encoder_options.use_huffman = (knobs & 1) != 0;
  encoder_options.index_all_fields = (knobs & 2) != 0;
  encoder_options.huffman_always = (knobs & 4) != 0;
  encoder_options.max_table_size = (knobs & 8) ? 256 : 4096;
  Encoder encoder(encoder_options);
  DecoderOptions decoder_options;
  decoder_options.max_header_list_size = size_t{1} << 30;
  decoder_options.max_field_count = size_t{1} << 20;
  decoder_options.max_string_length = size_t{1} << 20;
  Decoder decoder(decoder_options);
  std::string block;
  while (!in.empty()) {
    const uint8_t count = in.byte();
    if (count & 0x80) {
      // The peer's SETTINGS_HEADER_TABLE_SIZE (ours for the decoder), as a connection applies it.
      const uint32_t size = (count & 0x3f) * 64u;  // within DecoderOptions::max_table_size
      encoder.set_peer_max_table_size(size);
      decoder.set_max_table_size(size);
      continue;
    }
    std::vector<std::string> storage;
    storage.reserve(2 * count);
    for (uint8_t i = 0; i < count; ++i) {
      // Encoder precondition (encoder.h): names are lowercase, as HTTP/2 requires (RFC 9113
      // §8.2.1); any other byte, and any value, must come back unchanged.
      std::string name(in.take(in.byte()));
      for (char& c : name) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
      }
      storage.push_back(std::move(name));
      storage.emplace_back(in.take(in.byte()));
    }
    std::vector<HeaderField> fields;
    for (size_t i = 0; i + 1 < storage.size(); i += 2) {
      fields.push_back({storage[i], storage[i + 1], (storage[i].size() & 1) != 0 && (knobs & 16)});
    }
    block.clear();
    encoder.encode(fields, block);
    Collect got;
    decoder.begin_block(&got);
    Error e = decoder.process_bytes(block);
    if (e == Error::kOk) e = decoder.end_block();
    check(e == Error::kOk, "our own block did not decode");
    check(got.fields.size() == fields.size(), "round trip changed the field count");
    for (size_t i = 0; i < fields.size() && i < got.fields.size(); ++i) {
      check(got.fields[i].first == fields[i].name && got.fields[i].second == fields[i].value,
            "round trip changed a field");
    }
    check(decoder.dynamic_table_size() == encoder.dynamic_table_size(),
          "encoder and decoder tables differ in size");
  }
}

}  // namespace

H2_FUZZ_TARGET(hpack) {
  Reader in{data, data + size};
  if (in.empty()) return;
  if (in.byte() & 1) {
    round_trip_mode(in);
  } else {
    decode_mode(in);
  }
}
