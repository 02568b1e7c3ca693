// Shared helpers of the HPACK tests: a collecting sink, the hpack-test-case story loader and a
// parser of the RFC 7541 Appendix C examples read from the RFC text itself (so the expected
// bytes are the RFC's, not a copy typed into the tests).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "hpack/decoder.h"
#include "tests/support/fixtures.h"

namespace h2::hpack::test {

using Fields = std::vector<std::pair<std::string, std::string>>;

class CollectingSink : public HeaderSink {
 public:
  void on_header(std::string_view name, std::string_view value) override {
    fields.emplace_back(std::string(name), std::string(value));
  }
  Fields fields;
};

// ---- hpack-test-case ------------------------------------------------------------------------

struct StoryCase {
  std::optional<uint32_t> header_table_size;  // SETTINGS_HEADER_TABLE_SIZE ACKed before it
  std::string wire;                           // empty for raw-data
  Fields headers;
};

struct Story {
  std::string folder;
  std::string file;
  std::vector<StoryCase> cases;
};

inline std::filesystem::path hpack_test_case_dir() {
  return h2::test::fixtures_dir() / "hpack-test-case";
}

inline Story load_story(const std::filesystem::path& path) {
  Story story;
  story.folder = path.parent_path().filename().string();
  story.file = path.filename().string();
  const auto json = nlohmann::json::parse(h2::test::read_file(path));
  for (const auto& c : json.at("cases")) {
    StoryCase sc;
    if (c.contains("header_table_size") && c["header_table_size"].is_number()) {
      sc.header_table_size = c["header_table_size"].get<uint32_t>();
    }
    if (c.contains("wire")) sc.wire = h2::test::from_hex(c["wire"].get<std::string>());
    for (const auto& h : c.at("headers")) {
      for (const auto& [k, v] : h.items()) sc.headers.emplace_back(k, v.get<std::string>());
    }
    story.cases.push_back(std::move(sc));
  }
  return story;
}

// Stories of one folder, sorted by file name.
inline std::vector<Story> load_folder(const std::string& folder) {
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(hpack_test_case_dir() / folder)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  std::vector<Story> stories;
  for (const auto& f : files) stories.push_back(load_story(f));
  return stories;
}

// Every implementation folder (all but raw-data), sorted.
inline std::vector<std::string> implementation_folders() {
  std::vector<std::string> folders;
  for (const auto& e : std::filesystem::directory_iterator(hpack_test_case_dir())) {
    if (e.is_directory() && e.path().filename() != "raw-data") {
      folders.push_back(e.path().filename().string());
    }
  }
  std::sort(folders.begin(), folders.end());
  return folders;
}

// ---- RFC 7541 Appendix C ----------------------------------------------------------------------

struct RfcTableEntry {
  size_t size;
  std::string name;
  std::string value;
};

struct RfcExample {
  std::string section;  // "C.3.1"
  Fields headers;
  std::string wire;
  std::vector<RfcTableEntry> table;  // newest first
  size_t table_size = 0;
};

inline std::string trim(std::string_view s) {
  const size_t b = s.find_first_not_of(' ');
  if (b == std::string_view::npos) return {};
  const size_t e = s.find_last_not_of(' ');
  return std::string(s.substr(b, e - b + 1));
}

inline std::pair<std::string, std::string> split_field(std::string_view line) {
  const size_t colon = line.find(": ", 1);  // pseudo-header names start with ':'
  if (colon == std::string_view::npos) return {std::string(line), {}};
  return {std::string(line.substr(0, colon)), std::string(line.substr(colon + 2))};
}

// Parses section `section` (e.g. "C.5.2") of the RFC text.
inline RfcExample parse_rfc_example(const std::string& rfc, const std::string& section) {
  RfcExample ex;
  ex.section = section;
  std::istringstream in(rfc.substr(rfc.find("\n" + section + ". ") + 1));
  std::string line;
  std::getline(in, line);  // the heading
  enum { kNone, kHeaders, kHex, kTable } mode = kNone;
  bool content_seen = false;
  while (std::getline(in, line)) {
    if (line.rfind("C.", 0) == 0 || line.rfind("Appendix", 0) == 0) break;  // next section
    if (line.find("Header list to encode:") != std::string::npos) {
      mode = kHeaders;
      content_seen = false;
      continue;
    }
    if (line.find("Hex dump of encoded data:") != std::string::npos) {
      mode = kHex;
      content_seen = false;
      continue;
    }
    if (line.find("ynamic") != std::string::npos &&
        line.find("(after decoding)") != std::string::npos) {
      mode = kTable;
      content_seen = false;
      continue;
    }
    if (line.find("Decoded header list:") != std::string::npos) {
      mode = kNone;
      continue;
    }
    if (trim(line).empty()) {
      if (content_seen && mode != kTable) mode = kNone;
      continue;
    }
    content_seen = true;
    switch (mode) {
      case kHeaders:
        ex.headers.push_back(split_field(line));
        break;
      case kHex: {
        for (char c : line.substr(0, line.find('|'))) {
          if (c != ' ') ex.wire.push_back(c);
        }
        break;
      }
      case kTable: {
        const std::string t = trim(line);
        if (t.rfind("Table size:", 0) == 0) {
          ex.table_size = std::stoul(t.substr(11));
          mode = kNone;
        } else if (t[0] == '[') {
          const size_t s = t.find("(s =");
          const size_t close = t.find(')', s);
          auto [name, value] = split_field(trim(t.substr(close + 1)));
          ex.table.push_back({std::stoul(t.substr(s + 4, close - s - 4)), name, value});
        } else {  // a wrapped value continues on the next line
          ex.table.back().value += " " + t;
        }
        break;
      }
      case kNone:
        break;
    }
  }
  ex.wire = h2::test::from_hex(ex.wire);
  return ex;
}

inline std::string rfc7541_text() {
  return h2::test::read_file(std::filesystem::path(H2_SPEC_DIR_DEFAULT) / "rfc7541-hpack.txt");
}

}  // namespace h2::hpack::test
