// FileCache: what a request path resolved to, remembered for a short time.
//
// Resolving a path safely costs a dozen system calls (a stat per component, a readlink per
// component for the symlink check, then open/read/close). nginx's open_file_cache and h2o's file
// cache avoid them for hot files; so do we: an entry keeps the canonical path, the stat result,
// the validators (ETag, Last-Modified) and, for files up to `max_body_size`, the bytes themselves
// as an immutable shared buffer that responses reference without copying.
//
// Staleness is bounded by `valid_ms`: a file changed on disk is seen at most that long after
// (nginx's open_file_cache_valid defaults to 60 s; we default to 1 s). valid_ms = 0 disables the
// cache. Memory is bounded by max_entries * max_body_size (defaults: 1024 * 16 KiB = 16 MiB);
// when full, the whole table is dropped (cheap, and a hot set refills in one round).
//
// Thread safety: one cache per route handler, shared by the host's worker threads, guarded by a
// mutex held only for the map lookup (entries are immutable and shared).
#pragma once

#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace h2::modules {

// An open descriptor of a served file, shared by the cache entry and the responses reading it
// (pread: one descriptor serves many streams at once). Closed with its last user.
struct OpenFile {
  explicit OpenFile(int descriptor) : fd(descriptor) {}
  ~OpenFile() {
    if (fd >= 0) ::close(fd);
  }
  OpenFile(const OpenFile&) = delete;
  OpenFile& operator=(const OpenFile&) = delete;
  const int fd;
};

struct CachedFile {
  std::filesystem::path canonical;
  struct stat st {};
  std::string etag;
  std::string last_modified;
  std::string_view content_type;  // static text (mime_types.h)
  std::string length_text;        // st_size in decimal: the content-length of a whole answer
  std::shared_ptr<const std::string> body;  // null when the file is larger than max_body_size
  // Larger files, while cached: the file opened once at load (nginx's open_file_cache), so a
  // response costs no open/fstat/close; revalidated with the entry (valid_ms). A file replaced
  // meanwhile is served whole from the old inode, matching the cached etag and length.
  std::shared_ptr<const OpenFile> open;
  std::int64_t loaded_ms = 0;
};

struct FileCacheOptions {
  std::int64_t valid_ms = 1000;
  std::size_t max_entries = 1024;
  std::size_t max_body_size = 16 * 1024;
  bool open_files = true;  // keep larger files open while their entry is valid
};

class FileCache {
 public:
  explicit FileCache(const FileCacheOptions& options) : options_(options) {}

  // The coarse monotonic clock (the kernel's tick, 1-4 ms; no clock-source read): the precise
  // one was 2% of the server's CPU on small GETs (perf, a VM whose clock source is slow to read)
  // for a staleness bound of valid_ms (a second by default), which it widens by one tick.
  static std::int64_t now_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    return static_cast<std::int64_t>(ts.tv_sec) * 1000 + ts.tv_nsec / 1'000'000;
  }

  bool enabled() const { return options_.valid_ms > 0; }
  std::size_t max_body_size() const { return options_.max_body_size; }
  bool open_files() const { return enabled() && options_.open_files; }

  // The entry for `key` if it was loaded less than valid_ms before `now`, else null.
  std::shared_ptr<const CachedFile> find(const std::string& key, std::int64_t now) {
    if (!enabled()) return nullptr;
    std::lock_guard lock(mutex_);
    auto it = entries_.find(key);
    if (it == entries_.end()) return nullptr;
    if (now - it->second->loaded_ms >= options_.valid_ms) {
      entries_.erase(it);
      return nullptr;
    }
    return it->second;
  }

  void insert(const std::string& key, std::shared_ptr<const CachedFile> file) {
    if (!enabled()) return;
    std::lock_guard lock(mutex_);
    if (entries_.size() >= options_.max_entries) entries_.clear();
    entries_[key] = std::move(file);
  }

 private:
  const FileCacheOptions options_;
  std::mutex mutex_;
  std::unordered_map<std::string, std::shared_ptr<const CachedFile>> entries_;
};

}  // namespace h2::modules
