// Locates ../shared/fixtures for tests. One setting decides: the environment variable
// H2_FIXTURES_DIR, else the CMake cache variable of the same name. A missing directory is a
// hard failure, never a skip: a test that cannot see its fixtures has not passed.
#pragma once

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <gtest/gtest.h>

namespace h2::test {

inline std::filesystem::path fixtures_dir() {
  const char* env = std::getenv("H2_FIXTURES_DIR");
  std::filesystem::path dir = env && *env ? env : H2_FIXTURES_DIR_DEFAULT;
  if (!std::filesystem::is_directory(dir)) {
    ADD_FAILURE() << "fixture directory missing: " << dir
                  << " (set H2_FIXTURES_DIR or -DH2_FIXTURES_DIR)";
    std::abort();
  }
  return dir;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    ADD_FAILURE() << "cannot read " << path;
    std::abort();
  }
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::string from_hex(std::string_view hex) {
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve(hex.size() / 2);
  for (size_t i = 0; i + 1 < hex.size(); i += 2) {
    out.push_back(static_cast<char>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

}  // namespace h2::test
