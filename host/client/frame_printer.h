// `h2get -v`: the frames of one connection in both directions, printed the way `nghttp -v`
// does (one line per frame, then its fields: decoded header lists, settings, window
// increments, error codes). It decodes a copy of the bytes with its own frame decoder and HPACK
// decoders (one per direction, so the dynamic tables follow the connection's).
#pragma once

#include <cstdio>
#include <memory>
#include <string_view>

namespace h2::host::client {

class FramePrinter {
 public:
  explicit FramePrinter(std::FILE* out);
  ~FramePrinter();
  FramePrinter(const FramePrinter&) = delete;
  FramePrinter& operator=(const FramePrinter&) = delete;

  // Bytes as they were written (outgoing, starting with the client preface) or read.
  // `elapsed_ms` is printed in front of each frame line.
  void feed(std::string_view bytes, bool outgoing, double elapsed_ms);

 private:
  class Direction;
  std::unique_ptr<Direction> sent_;
  std::unique_ptr<Direction> received_;
};

}  // namespace h2::host::client
