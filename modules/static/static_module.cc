// static: serves files below a root directory.
//   - GET and HEAD (else 405 with allow); content-type by extension;
//   - ETag ("size-mtime_ns" in hex) and Last-Modified; If-None-Match (weak comparison, "*")
//     then If-Modified-Since -> 304 (RFC 9110 §13.1.2, §13.1.3 precedence);
//   - Range (one range; RFC 9110 §14) -> 206 with content-range, unsatisfiable -> 416;
//     If-Range with an ETag or date that no longer matches -> the whole file;
//   - files up to chunk_size answered with one string; larger ones streamed chunk by chunk
//     from the file (write_borrowed: no copy into the host), the next chunk read only after
//     the previous flush completed, so memory stays at one chunk per stream;
//   - no path traversal: "..", encoded NUL/backslash refused (403), symlinks out of the root
//     refused (403).
// Route config: root (string, required: a directory; a relative root is resolved against the
// directory of the configuration file it is written in, like every relative path of
// config.yaml - not against the working directory), prefix (string, stripped from the
// path, default ""), index (default "index.html"), chunk_size (1024..16 MiB, default 64 KiB),
// max_age (seconds for cache-control; default -1 = no cache-control field), cache_valid_ms
// (default 1000; 0 disables the open-file cache, see file_cache.h), cache_max_entries (1024),
// cache_max_file_size (bytes kept in memory per file, 16 KiB), cache_open_files (true: a larger
// file stays open while its entry is valid, read with pread by every response; at most
// cache_max_entries descriptors).
#include <array>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "h2/module.hpp"
#include "modules/static/byte_range.h"
#include "modules/static/file_cache.h"
#include "modules/static/http_date.h"
#include "modules/static/mime_types.h"
#include "modules/static/safe_path.h"

namespace fs = std::filesystem;

namespace h2::modules {
namespace {

struct StaticSettings {
  fs::path root;  // canonical
  std::string prefix;
  std::string index;
  std::size_t chunk_size;
  std::int64_t max_age;
  std::string cache_control;  // "max-age=N" when max_age >= 0, else empty
  FileCacheOptions cache;
};

std::string hex(std::uint64_t v) {
  char buf[17];
  int n = std::snprintf(buf, sizeof buf, "%llx", static_cast<unsigned long long>(v));
  return std::string(buf, static_cast<std::size_t>(n));
}

// RFC 9110 §13.1.2: weak comparison of each listed tag (or "*") with ours.
bool none_match(std::string_view header, std::string_view etag) {
  std::size_t pos = 0;
  while (pos < header.size()) {
    std::size_t comma = header.find(',', pos);
    if (comma == std::string_view::npos) comma = header.size();
    std::string_view tag = header.substr(pos, comma - pos);
    pos = comma + 1;
    while (!tag.empty() && tag.front() == ' ') tag.remove_prefix(1);
    while (!tag.empty() && tag.back() == ' ') tag.remove_suffix(1);
    if (tag == "*") return true;
    if (tag.substr(0, 2) == "W/") tag.remove_prefix(2);
    if (tag == etag) return true;
  }
  return false;
}

// Streams [offset, offset + remaining) of an open file, one chunk per flush.
class FileStream : public std::enable_shared_from_this<FileStream> {
 public:
  FileStream(h2::Exchange ex, std::shared_ptr<const OpenFile> file, std::uint64_t offset,
             std::uint64_t remaining, std::size_t chunk)
      : ex_(std::move(ex)), file_(std::move(file)), offset_(offset), remaining_(remaining),
        chunk_(chunk) {}

  void next() {
    if (remaining_ == 0) {
      ex_.close();
      return;
    }
    std::size_t want = remaining_ < chunk_ ? static_cast<std::size_t>(remaining_) : chunk_;
    // Not value-initialized: zeroing 64 KiB per chunk cost 4% of a 1 MiB response (perf).
    std::shared_ptr<char[]> buffer = std::make_shared_for_overwrite<char[]>(want);
    std::size_t got = 0;
    while (got < want) {
      const ssize_t n = ::pread(file_->fd, buffer.get() + got, want - got,
                                static_cast<off_t>(offset_ + got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {  // the file shrank under us: the promised length cannot be met
        ex_.fail("short read from file");
        return;
      }
      got += static_cast<std::size_t>(n);
    }
    offset_ += got;
    remaining_ -= got;
    if (ex_.write_borrowed(std::string_view(buffer.get(), got), [buffer] {}) != h2::Result::kOk) {
      return;
    }
    auto self = shared_from_this();
    ex_.flush([self](bool written) {
      if (written) self->next();
    });
  }

 private:
  h2::Exchange ex_;
  std::shared_ptr<const OpenFile> file_;  // shared with the cache entry (or this response's)
  std::uint64_t offset_;
  std::uint64_t remaining_;
  const std::size_t chunk_;
};

class StaticHandler final : public h2::Handler {
 public:
  explicit StaticHandler(StaticSettings s) : s_(std::move(s)), cache_(s_.cache) {}

  void handle(h2::Exchange ex) override {
    std::string_view method = ex.method();
    const bool head_only = method == "HEAD";
    if (method != "GET" && !head_only) {
      ex.respond(405, {{"allow", "GET, HEAD"}, {"content-type", "text/plain"}},
                 "method not allowed\n");
      return;
    }
    auto rel = relative_path(ex.path(), s_.prefix);
    if (!rel) return error(ex, 403, "forbidden\n");
    const std::int64_t now = FileCache::now_ms();
    std::shared_ptr<const CachedFile> file = cache_.find(*rel, now);
    if (!file) {
      int status = 0;
      file = load(*rel, now, status);
      if (!file) return error(ex, status, status == 403 ? "forbidden\n" : "not found\n");
      cache_.insert(*rel, file);
    }
    serve(ex, *file, head_only);
  }

 private:
  // Resolves `rel` below the root (index for directories, symlinks must stay inside) and
  // reads the validators and, for small files, the bytes. Null with `status` 403/404 on error.
  std::shared_ptr<const CachedFile> load(const std::string& rel, std::int64_t now, int& status) {
    status = 404;
    fs::path path = s_.root / rel;
    std::error_code ec;
    if (fs::is_directory(path, ec)) path /= s_.index;
    auto file = std::make_shared<CachedFile>();
    file->canonical = fs::canonical(path, ec);
    if (ec) return nullptr;
    if (!is_inside_root(file->canonical)) {
      status = 403;
      return nullptr;
    }
    if (::stat(file->canonical.c_str(), &file->st) != 0 || !S_ISREG(file->st.st_mode)) {
      return nullptr;
    }
    const auto size = static_cast<std::uint64_t>(file->st.st_size);
    const std::uint64_t mtime_ns =
        static_cast<std::uint64_t>(file->st.st_mtim.tv_sec) * 1000000000ull +
        static_cast<std::uint64_t>(file->st.st_mtim.tv_nsec);
    file->etag = "\"" + hex(size) + "-" + hex(mtime_ns) + "\"";
    file->last_modified = format_http_date(file->st.st_mtim.tv_sec);
    file->content_type = content_type_for(file->canonical.native());
    file->length_text = std::to_string(size);
    file->loaded_ms = now;
    if (cache_.enabled() && size <= cache_.max_body_size()) {
      std::string body(static_cast<std::size_t>(size), '\0');
      std::FILE* f = std::fopen(file->canonical.c_str(), "rb");
      if (f == nullptr) return nullptr;
      const std::size_t got = std::fread(body.data(), 1, body.size(), f);
      std::fclose(f);
      // A file that changed size while read is not cached; the stream path serves it.
      if (got == body.size()) file->body = std::make_shared<const std::string>(std::move(body));
    } else if (cache_.open_files()) {
      const int fd = ::open(file->canonical.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return nullptr;
      file->open = std::make_shared<const OpenFile>(fd);
    }
    return file;
  }

  bool is_inside_root(const fs::path& p) const {
    auto r = s_.root.begin();
    auto q = p.begin();
    for (; r != s_.root.end(); ++r, ++q) {
      if (q == p.end() || *r != *q) return false;
    }
    return true;
  }

  // The at most 7 fields of a response head, inline: serving a file allocates no field list.
  class ResponseFields {
   public:
    void push_back(h2::Header h) { items_[size_++] = h; }
    operator h2::Headers() const {  // NOLINT: implicit on purpose, like h2::Headers itself
      return h2::Headers(std::span<const h2::Header>(items_.data(), size_));
    }

   private:
    std::array<h2::Header, 8> items_{};
    std::size_t size_ = 0;
  };

  static void error(h2::Exchange& ex, int status, std::string body) {
    ex.respond(status, {{"content-type", "text/plain"}}, std::move(body));
  }

  void serve(h2::Exchange& ex, const CachedFile& file, bool head_only) {
    const fs::path& path = file.canonical;
    const auto size = static_cast<std::uint64_t>(file.st.st_size);
    const std::int64_t mtime = file.st.st_mtim.tv_sec;
    const std::string& etag = file.etag;
    const std::string& last_modified = file.last_modified;
    ResponseFields fields;
    fields.push_back({"etag", etag});
    fields.push_back({"last-modified", last_modified});
    if (!s_.cache_control.empty()) fields.push_back({"cache-control", s_.cache_control});

    // RFC 9110 §13.2.2: If-None-Match first; If-Modified-Since only without it.
    if (auto inm = ex.header("if-none-match")) {
      if (none_match(*inm, etag)) return not_modified(ex, fields);
    } else if (auto ims = ex.header("if-modified-since")) {
      auto since = parse_http_date(*ims);
      if (since && mtime <= *since) return not_modified(ex, fields);
    }

    fields.push_back({"content-type", file.content_type});
    fields.push_back({"accept-ranges", "bytes"});
    int status = 200;
    std::uint64_t first = 0;
    std::uint64_t length = size;
    std::string content_range;
    auto range_header = ex.header("range");
    if (range_header && if_range_allows(ex, etag, last_modified)) {
      ByteRange r = parse_range(*range_header, size);
      if (r.kind == ByteRange::Kind::kUnsatisfiable) {
        content_range = "bytes */" + std::to_string(size);
        ex.respond(416, {{"content-range", content_range}, {"content-type", "text/plain"}},
                   "range not satisfiable\n");
        return;
      }
      if (r.kind == ByteRange::Kind::kSatisfiable) {
        status = 206;
        first = r.first;
        length = r.length;
        content_range = "bytes " + std::to_string(first) + "-" +
                        std::to_string(first + length - 1) + "/" + std::to_string(size);
        fields.push_back({"content-range", content_range});
      }
    }
    const std::string length_text = length == size ? file.length_text : std::to_string(length);
    if (head_only) {
      fields.push_back({"content-length", length_text});
      ex.respond_streaming(status, fields);
      ex.close();
      return;
    }
    if (file.body) {  // cached: answered from the shared buffer, no copy, no system call
      std::string_view slice(*file.body);
      ex.respond_shared(
          status, fields,
          slice.substr(static_cast<std::size_t>(first), static_cast<std::size_t>(length)),
          file.body);
      return;
    }
    std::shared_ptr<const OpenFile> open = file.open;
    if (!open) {  // not kept open (the cache is off, or a small file it could not hold)
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0) return error(ex, 404, "not found\n");
      open = std::make_shared<const OpenFile>(fd);
    }
    if (length <= s_.chunk_size) {
      std::string body(static_cast<std::size_t>(length), '\0');
      const ssize_t got = ::pread(open->fd, body.data(), body.size(), static_cast<off_t>(first));
      if (got != static_cast<ssize_t>(body.size())) return error(ex, 500, "short read\n");
      ex.respond(status, fields, std::move(body));
      return;
    }
    fields.push_back({"content-length", length_text});
    if (ex.respond_streaming(status, fields) != h2::Result::kOk) return;
    std::make_shared<FileStream>(ex, std::move(open), first, length, s_.chunk_size)->next();
  }

  // RFC 9110 §13.1.5: a Range applies only if If-Range (when present) still matches.
  static bool if_range_allows(h2::Exchange& ex, const std::string& etag,
                              const std::string& last_modified) {
    auto if_range = ex.header("if-range");
    if (!if_range) return true;
    return *if_range == etag || *if_range == last_modified;
  }

  static void not_modified(h2::Exchange& ex, const ResponseFields& fields) {
    ex.respond(304, fields, std::string());
  }

  const StaticSettings s_;
  FileCache cache_;
};

// A relative `root` is relative to the directory of the file the value was written in: the
// host reports each config node's file (an absolute path) through h2_host_api::config_location,
// so no working-directory dependence and no ABI addition. Nodes without a file (built in code)
// keep the path as written.
fs::path resolve_root(const h2::Config& root) {
  fs::path path(std::string(root.as_string()));
  if (path.is_absolute()) return path;
  h2_str file{nullptr, 0};
  h2::host_api().config_location(root.raw(), &file, nullptr, nullptr);
  if (file.size == 0) return path;
  return fs::path(std::string(file.data, file.size)).parent_path() / path;
}

FileCacheOptions cache_options(const h2::Config& route) {
  FileCacheOptions options;
  options.valid_ms = route["cache_valid_ms"].as_int(options.valid_ms);
  const std::int64_t entries = route["cache_max_entries"].as_int(1024);
  const std::int64_t body = route["cache_max_file_size"].as_int(16 * 1024);
  if (options.valid_ms < 0 || options.valid_ms > 3600 * 1000) {
    throw std::invalid_argument(route["cache_valid_ms"].where() +
                                ": cache_valid_ms must be in 0..3600000 (0 disables the cache)");
  }
  if (entries < 1 || entries > 1 << 20) {
    throw std::invalid_argument(route["cache_max_entries"].where() +
                                ": cache_max_entries must be in 1..1048576");
  }
  if (body < 0 || body > 16 * 1024 * 1024) {
    throw std::invalid_argument(route["cache_max_file_size"].where() +
                                ": cache_max_file_size must be in 0..16777216");
  }
  options.max_entries = static_cast<std::size_t>(entries);
  options.open_files = route["cache_open_files"].as_bool(true);
  options.max_body_size = static_cast<std::size_t>(body);
  return options;
}

class StaticModule final : public h2::Module {
 public:
  static constexpr h2_config_key kRouteConfigKeys[] = {
      {"root", H2_KEY_STRING, nullptr, "the directory served (relative: to the config file)"},
      {"prefix", H2_KEY_STRING, "", "the URL prefix removed before mapping to root"},
      {"index", H2_KEY_STRING, "index.html", "the file served for a directory"},
      {"chunk_size", H2_KEY_INT, "65536", "bytes read per write (1024..16777216)"},
      {"max_age", H2_KEY_INT, "-1", "cache-control max-age in seconds (-1: none)"},
      {"cache_valid_ms", H2_KEY_INT, "1000", "how long a cached stat stays valid (0: off)"},
      {"cache_max_entries", H2_KEY_INT, "1024", "files in the open-file cache"},
      {"cache_max_file_size", H2_KEY_INT, "16384", "largest body kept in memory"},
      {"cache_open_files", H2_KEY_BOOL, "true",
       "keep larger files open while cached (no open/fstat/close per response)"}};
  static constexpr auto kModuleConfigKeys = h2::kNoConfigKeys;

  std::unique_ptr<h2::Handler> create_handler(const h2::Config& route) override {
    h2::Config root = route["root"];
    if (root.as_string().empty()) {
      throw std::invalid_argument(route.where() + ": static needs `root` (a directory)");
    }
    std::error_code ec;
    const std::string written(root.as_string());
    const fs::path resolved = resolve_root(root);
    fs::path canonical = fs::canonical(resolved, ec);
    if (ec || !fs::is_directory(canonical, ec)) {
      const std::string shown = resolved == fs::path(written)
                                    ? "'" + written + "'"
                                    : "'" + written + "' (" + resolved.string() + ")";
      throw std::invalid_argument(root.where() + ": root " + shown + " is not a directory");
    }
    std::int64_t chunk = route["chunk_size"].as_int(64 * 1024);
    if (chunk < 1024 || chunk > 16 * 1024 * 1024) {
      throw std::invalid_argument(route["chunk_size"].where() +
                                  ": chunk_size must be in 1024..16777216");
    }
    std::string index(route["index"].as_string());
    const std::int64_t max_age = route["max_age"].as_int(-1);
    return std::make_unique<StaticHandler>(StaticSettings{
        canonical, std::string(route["prefix"].as_string()), index.empty() ? "index.html" : index,
        static_cast<std::size_t>(chunk), max_age,
        max_age >= 0 ? "max-age=" + std::to_string(max_age) : std::string(),
        cache_options(route)});
  }
};

}  // namespace
}  // namespace h2::modules

H2_MODULE(h2::modules::StaticModule, "static", "1.0.0")
