#include "lwip_runtime/tap_device.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace h2::lwip_runtime {

TapDevice::~TapDevice() {
  close();
}

TapDevice::OpenResult TapDevice::open(const std::string& name, std::string* error) {
  close();
  if (name.empty() || name.size() >= IFNAMSIZ) {
    *error = "tap device name \"" + name + "\" must have 1 to " + std::to_string(IFNAMSIZ - 1) +
             " bytes";
    return OpenResult::kFailed;
  }
  // TUNSETIFF would create a missing device (as root): a mistyped name would then serve on a
  // wire nobody is connected to. The operator creates the device and its kernel side.
  if (::if_nametoindex(name.c_str()) == 0) {
    *error = "cannot attach to tap device \"" + name +
             "\": no such device (create it first: ip tuntap add " + name + " mode tap)";
    return OpenResult::kFailed;
  }
  const int fd = ::open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) {
    *error = std::string("cannot open /dev/net/tun for tap device \"") + name +
             "\": " + std::strerror(errno);
    return OpenResult::kFailed;
  }
  ifreq request{};
  request.ifr_flags = IFF_TAP | IFF_NO_PI;
  std::memcpy(request.ifr_name, name.data(), name.size());
  if (::ioctl(fd, TUNSETIFF, &request) != 0) {
    const int code = errno;
    ::close(fd);
    if (code == EBUSY) {
      *error = "tap device \"" + name + "\" is held by another process";
      return OpenResult::kBusy;
    }
    *error = "cannot attach to tap device \"" + name + "\": " + std::strerror(code) +
             (code == EPERM ? " (needs CAP_NET_ADMIN, or a device created for this user)" : "");
    return OpenResult::kFailed;
  }
  fd_ = fd;
  gone_ = false;
  return OpenResult::kOpen;
}

void TapDevice::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

size_t TapDevice::read_frame(char* buffer, size_t capacity) {
  if (fd_ < 0) return 0;
  for (;;) {
    const ssize_t n = ::read(fd_, buffer, capacity);
    if (n > 0) return static_cast<size_t>(n);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno != EAGAIN) gone_ = true;  // EBADFD, EIO: the interface was deleted
    return 0;
  }
}

void TapDevice::write_frame(const void* frame, size_t length) {
  if (fd_ < 0) return;
  for (;;) {
    const ssize_t n = ::write(fd_, frame, length);
    if (n >= 0) return;
    if (errno == EINTR) continue;
    return;
  }
}

}  // namespace h2::lwip_runtime
