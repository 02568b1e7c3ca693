#include "host/listen_socket.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "host/address_text.h"

namespace h2::host {
namespace {

std::string where(const ListenerConfig& config) {
  return config.where.file + ':' + std::to_string(config.where.line) + ':' +
         std::to_string(config.where.column) + ": ";
}

}  // namespace

void ListenSocket::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (owns_path_ && !path_.empty()) ::unlink(path_.c_str());
  owns_path_ = false;
}

uint16_t bound_port(const ListenSocket& socket) {
  sockaddr_storage local{};
  socklen_t len = sizeof local;
  if (socket.fd() < 0 || ::getsockname(socket.fd(), reinterpret_cast<sockaddr*>(&local), &len) != 0) {
    return 0;
  }
  if (local.ss_family == AF_INET) return ntohs(reinterpret_cast<const sockaddr_in&>(local).sin_port);
  if (local.ss_family == AF_INET6) {
    return ntohs(reinterpret_cast<const sockaddr_in6&>(local).sin6_port);
  }
  return 0;
}

std::string listener_key(const ListenerConfig& config) {
  if (config.kind == ListenerConfig::Kind::kUnix) return "unix:" + config.path.string();
  if (config.kind == ListenerConfig::Kind::kTap) return tap_bound(config);
  return std::string(config.reuseport ? "tcp-reuseport:" : "tcp:") + config.address + ":" +
         std::to_string(config.port);
}

std::string tap_bound(const ListenerConfig& config) {
  return "tap:" + config.tap.device + "/" + config.address + ":" + std::to_string(config.port);
}

std::shared_ptr<ListenSocket> bind_listener(const ListenerConfig& config, std::string* error,
                                            std::optional<uint16_t> port_override) {
  if (config.kind == ListenerConfig::Kind::kTap) {
    // Nothing to bind in the kernel: the lwIP runtime attaches to the device in the worker.
    return std::make_shared<ListenSocket>(-1, tap_bound(config), false, std::filesystem::path());
  }
  const uint16_t port = port_override.value_or(config.port);
  sockaddr_storage addr{};
  socklen_t len = 0;
  std::string name;
  if (config.kind == ListenerConfig::Kind::kTcp) {
    name = config.address + ":" + std::to_string(port);
    auto& in6 = reinterpret_cast<sockaddr_in6&>(addr);
    auto& in4 = reinterpret_cast<sockaddr_in&>(addr);
    if (::inet_pton(AF_INET, config.address.c_str(), &in4.sin_addr) == 1) {
      in4.sin_family = AF_INET;
      in4.sin_port = htons(port);
      len = sizeof in4;
    } else if (::inet_pton(AF_INET6, config.address.c_str(), &in6.sin6_addr) == 1) {
      in6.sin6_family = AF_INET6;
      in6.sin6_port = htons(port);
      len = sizeof in6;
    } else {
      *error = where(config) + "bad address \"" + config.address + "\"";
      return nullptr;
    }
  } else {
    name = "unix:" + config.path.string();
    auto& un = reinterpret_cast<sockaddr_un&>(addr);
    if (config.path.string().size() >= sizeof un.sun_path) {
      *error = where(config) + "cannot listen on " + name + ": the path is too long";
      return nullptr;
    }
    un.sun_family = AF_UNIX;
    std::memcpy(un.sun_path, config.path.c_str(), config.path.string().size());
    len = sizeof un;
    struct stat info {};
    if (::stat(config.path.c_str(), &info) == 0 && S_ISSOCK(info.st_mode)) {
      ::unlink(config.path.c_str());  // a stale socket from an earlier run
    }
  }
  const bool reuseport = addr.ss_family != AF_UNIX && config.reuseport;
  if (reuseport && port != 0 && !port_override) {
    // A reuseport group joins any other SO_REUSEPORT socket of the same user on the port: a
    // second h2host started by mistake would silently take half the connections. A plain bind
    // first keeps "Address already in use" for a port somebody else holds.
    const int probe = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (probe >= 0) {
      const int on = 1;
      ::setsockopt(probe, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
      if (addr.ss_family == AF_INET6) {
        ::setsockopt(probe, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
      }
      const bool taken =
          ::bind(probe, reinterpret_cast<const sockaddr*>(&addr), len) != 0 && errno == EADDRINUSE;
      ::close(probe);
      if (taken) {
        *error = where(config) + "cannot listen on " + name + ": " + std::strerror(EADDRINUSE);
        return nullptr;
      }
    }
  }
  const int fd = ::socket(addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  const auto fail = [&](int saved) {
    *error = where(config) + "cannot listen on " + name + ": " + std::strerror(saved);
    if (fd >= 0) ::close(fd);
    return nullptr;
  };
  if (fd < 0) return fail(errno);
  const int on = 1;
  if (addr.ss_family != AF_UNIX &&
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on) != 0) {
    return fail(errno);
  }
  if (reuseport && ::setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on) != 0) {
    return fail(errno);
  }
  if (addr.ss_family == AF_INET6) ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&addr), len) != 0) return fail(errno);
  if (::listen(fd, SOMAXCONN) != 0) return fail(errno);
  std::string bound = name;
  if (addr.ss_family != AF_UNIX) {
    sockaddr_storage local{};
    socklen_t local_len = sizeof local;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len);
    bound = address_text(reinterpret_cast<const sockaddr*>(&local));
  }
  const bool unix_socket = config.kind == ListenerConfig::Kind::kUnix;
  return std::make_shared<ListenSocket>(fd, std::move(bound), unix_socket,
                                        unix_socket ? config.path : std::filesystem::path());
}

}  // namespace h2::host
