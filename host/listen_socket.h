// Listening sockets as plain descriptors: bound by the master process (or by a single-process
// Server) and inherited by forked workers, which adopt them into their event loop. Kept apart
// from any runtime so the master needs no Asio at all.
#pragma once

#include <memory>
#include <string>

#include "host/config.h"

namespace h2::host {

// One bound, listening socket. Closing it (the destructor) also removes a Unix socket's path when
// `owns_path` (only its binder does that, never a worker holding an inherited copy).
class ListenSocket {
 public:
  ListenSocket(int fd, std::string bound, bool owns_path, std::filesystem::path path)
      : fd_(fd), bound_(std::move(bound)), owns_path_(owns_path), path_(std::move(path)) {}
  ~ListenSocket();
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;

  int fd() const { return fd_; }
  // "127.0.0.1:8080", "[::1]:443" (an ephemeral port resolved) or "unix:/path".
  const std::string& bound() const { return bound_; }
  // After fork, in a worker: the path belongs to the master.
  void disown_path() { owns_path_ = false; }

 private:
  int fd_;
  std::string bound_;
  bool owns_path_;
  std::filesystem::path path_;
};

// Binds and listens (SO_REUSEADDR; a stale Unix socket file from an earlier run is replaced).
// Returns nullptr and sets *error to "FILE:LINE:COL: cannot listen on ADDRESS: REASON".
std::shared_ptr<ListenSocket> bind_listener(const ListenerConfig& config, std::string* error);

// What identifies a listener's socket across a reload: a listener whose key is unchanged keeps
// its socket open (no connection refused while the new workers start). TLS and runtime settings
// are not part of it - they belong to the workers, which rebuild them.
std::string listener_key(const ListenerConfig& config);

}  // namespace h2::host
