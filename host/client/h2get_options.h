// h2get's command line (h2get --help lists it); parsed apart from main so that tests can feed it.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "host/client/connect.h"

namespace h2::host::client {

struct BodySource {
  enum class Kind { kNone, kText, kFile };
  Kind kind = Kind::kNone;
  std::string text;  // the body (kText; stdin is read whole into it) or the file's path (kFile)
};

struct H2getOptions {
  std::vector<Url> urls;
  std::string method;  // GET, or POST with a body, unless -X
  BodySource body;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string output;  // empty: stdout
  bool include = false;
  bool verbose = false;
  int multiply = 1;
  bool insecure = false;
  std::string ca_file;
  std::string unix_socket;
  uint64_t connect_timeout_ms = 10'000;
  uint64_t response_timeout_ms = 30'000;
};

enum class ParseOutcome { kRun, kHelp, kVersion, kError };
ParseOutcome parse_h2get_options(int argc, char** argv, H2getOptions* options, std::string* error);
const char* h2get_usage();

}  // namespace h2::host::client
