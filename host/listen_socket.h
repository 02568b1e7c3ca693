// Listening sockets as plain descriptors: bound by the master process (or by a single-process
// Server) and inherited by forked workers, which adopt them into their event loop. Kept apart
// from any runtime so the master needs no Asio at all.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "host/config.h"

namespace h2::host {

// One bound, listening socket. Closing it (the destructor) also removes a Unix socket's path when
// `owns_path` (only its binder does that, never a worker holding an inherited copy).
class ListenSocket {
 public:
  ListenSocket(int fd, std::string bound, bool owns_path, std::filesystem::path path)
      : fd_(fd), bound_(std::move(bound)), owns_path_(owns_path), path_(std::move(path)) {}
  ~ListenSocket() { close(); }
  ListenSocket(const ListenSocket&) = delete;
  ListenSocket& operator=(const ListenSocket&) = delete;

  int fd() const { return fd_; }
  // "127.0.0.1:8080", "[::1]:443" (an ephemeral port resolved) or "unix:/path".
  const std::string& bound() const { return bound_; }
  // After fork, in a worker: the path belongs to the master.
  void disown_path() { owns_path_ = false; }
  // Closes this process's descriptor now (and removes an owned Unix socket's path): the master
  // stops holding a listener open once no worker of its will accept from it again, so a client
  // is refused at once instead of waiting in a backlog nobody reads. fd() is -1 after it.
  void close();

 private:
  int fd_;
  std::string bound_;
  bool owns_path_;
  std::filesystem::path path_;
};

// Binds and listens (SO_REUSEADDR; a stale Unix socket file from an earlier run is replaced;
// SO_REUSEPORT when config.reuseport, so that several sockets, one per worker, share the port and
// the kernel spreads new connections over them). `port`, when given, replaces config.port: the
// port an ephemeral listener's first socket was given, for the others of its group.
// Returns nullptr and sets *error to "FILE:LINE:COL: cannot listen on ADDRESS: REASON".
std::shared_ptr<ListenSocket> bind_listener(const ListenerConfig& config, std::string* error,
                                            std::optional<uint16_t> port = std::nullopt);

// A tap listener (ListenerConfig::Kind::kTap) has no kernel socket: bind_listener returns a
// placeholder (fd -1) named "tap:DEVICE/ADDRESS:PORT", the lwIP runtime's to serve, and only the
// worker in slot 0 is given it (lwIP is one stack per process, the device one wire).
std::string tap_bound(const ListenerConfig& config);

// The port a TCP listening socket is bound to (0 for a Unix socket).
uint16_t bound_port(const ListenSocket& socket);

// What identifies a listener's socket across a reload: a listener whose key is unchanged keeps
// its socket(s) open (no connection refused while the new workers start). TLS and runtime
// settings are not part of it - they belong to the workers, which rebuild them. `reuseport` is:
// a shared socket and a reuseport group cannot hold one port together.
std::string listener_key(const ListenerConfig& config);

}  // namespace h2::host
