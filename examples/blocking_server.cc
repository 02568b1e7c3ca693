// The smallest runtime for the sans-I/O core: one connection at a time, blocking read/writev.
// It shows that protocol::ServerConnection needs nothing from its embedder but bytes, a clock
// and a socket; the core's timers are honoured by bounding each blocking read with SO_RCVTIMEO.
// Usage: blocking_server PORT   (0 = ephemeral; prints "listening on 127.0.0.1:PORT")
// Not for production: one slow client blocks every other one (see poll_server.cc for that).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/server_connection.h"

namespace {

using namespace h2::protocol;  // Reqd, Writer, Field, ServerConnection, ...

volatile std::sig_atomic_t g_stop_requested = 0;
void request_stop(int) {
  g_stop_requested = 1;
}

// The core never reads a clock: every call gets this monotonic time.
uint64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// No blocking call waits longer than this, so a SIGTERM that lands just before one (and so does
// not interrupt it) is still seen soon.
constexpr uint64_t kMaxBlockMs = 250;

void set_receive_timeout(int fd, uint64_t ms) {
  timeval tv{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
  if (ms == 0) tv.tv_usec = 1000;  // 0 would mean "block forever"
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
}

constexpr Field kTextPlain[] = {{"content-type", "text/plain"}};

// POST /echo: each chunk is written back, and the next one is read only once the previous one
// left through the socket (flush). The core reopens the client's flow-control window only for
// bytes we read, so a client sending faster than it reads the echo is slowed down, and this
// process never buffers more than one chunk per stream.
void echo_next_chunk(Reqd reqd, Writer writer) {
  reqd.schedule_read(
      [reqd, writer](std::string_view chunk) mutable {
        writer.write(chunk);
        writer.flush([reqd, writer](bool written) {
          if (written) echo_next_chunk(reqd, writer);  // false: the stream ended, stop
        });
      },
      [writer]() mutable { writer.close(); });  // also after a reset: close() then does nothing
}

class ExampleHandler : public RequestHandler {
 public:
  void on_request(Reqd& reqd) override {
    const RequestHead& request = reqd.request();
    if (request.method == "GET" && request.path == "/") {
      reqd.respond_with_string({200, kTextPlain}, "hello from h2\n");
    } else if (request.method == "POST" && request.path == "/echo") {
      echo_next_chunk(reqd, reqd.respond_with_streaming({200}));
    } else {
      reqd.respond_with_string({404, kTextPlain}, "not found\n");
    }
  }
  // on_stream_closed / on_output_ready: every response here is given from inside a driving call
  // and nothing is kept per stream, so the defaults (do nothing) are enough.
};

// Writes everything the core has queued; false if the peer is gone.
bool write_all_output(int fd, ServerConnection& conn) {
  std::vector<std::string_view> views;
  std::vector<iovec> iov;
  while (conn.wants_write()) {
    views.clear();
    conn.pending_output(views, 256 * 1024);
    iov.clear();
    for (std::string_view v : views) iov.push_back({const_cast<char*>(v.data()), v.size()});
    const ssize_t written = writev(fd, iov.data(), std::min<int>(iov.size(), IOV_MAX));
    if (written < 0 && errno == EINTR) continue;
    if (written < 0) return false;
    conn.consume_output(static_cast<size_t>(written));  // a short write is fine: the rest stays
  }
  return true;
}

void serve_connection(int fd) {
  ExampleHandler handler;
  ServerConnection conn(&handler, ConnectionOptions{}, now_ms());
  bool shutdown_started = false;
  char buffer[16 * 1024];
  while (!conn.is_closed()) {
    if (g_stop_requested && !shutdown_started) {  // GOAWAY now; the open streams still finish
      conn.start_graceful_shutdown(now_ms());
      shutdown_started = true;
    }
    if (!write_all_output(fd, conn)) return;  // destroying conn ends the open streams
    if (conn.is_closed()) break;
    const uint64_t now = now_ms();
    const std::optional<uint64_t> wakeup = conn.next_wakeup_ms();
    if (!conn.wants_read() && !wakeup) return;  // nothing (no input, no timer) can move it on
    const uint64_t until_wakeup = !wakeup ? kMaxBlockMs : *wakeup > now ? *wakeup - now : 0;
    const uint64_t wait_ms = std::min(until_wakeup, kMaxBlockMs);
    if (conn.wants_read()) {
      set_receive_timeout(fd, wait_ms);
      const ssize_t n = read(fd, buffer, sizeof buffer);
      if (n > 0) {
        conn.process_bytes({buffer, static_cast<size_t>(n)}, now_ms());
      } else if (n == 0) {
        conn.on_peer_eof();
      } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        return;  // connection reset: nothing more can be written either
      }
    } else {
      usleep(static_cast<useconds_t>(wait_ms * 1000));  // only the timer can move the core on
    }
    if (wakeup && now_ms() >= *wakeup) conn.on_time(now_ms());
  }
  // Lingering close: stop sending, then read until the peer closes (at most ~1 s). Closing
  // with unread input would make the kernel send RST, which can destroy our final GOAWAY in
  // the peer's receive buffer before it was read.
  shutdown(fd, SHUT_WR);
  set_receive_timeout(fd, 1000);
  while (read(fd, buffer, sizeof buffer) > 0) {
  }
}

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  const long port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
  if (argc != 2 || *end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s PORT   (0 picks a free port)\n", argv[0]);
    return 2;
  }
  // No SA_RESTART: a signal interrupts the blocking accept/read, so the loop sees the flag.
  struct sigaction stop_action = {};
  stop_action.sa_handler = request_stop;
  sigaction(SIGTERM, &stop_action, nullptr);
  sigaction(SIGINT, &stop_action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is a writev error, not a process kill

  const int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listen_fd < 0 || bind(listen_fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(listen_fd, 16) != 0 ||
      getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
  std::fflush(stdout);  // a test reads the port from this line

  set_receive_timeout(listen_fd, kMaxBlockMs);  // Linux: SO_RCVTIMEO bounds accept() too
  while (!g_stop_requested) {
    const int fd = accept(listen_fd, nullptr, nullptr);
    if (fd < 0) continue;  // EINTR (signal), EAGAIN (timeout) or a failed handshake
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // we write whole batches
    serve_connection(fd);
    close(fd);
  }
  close(listen_fd);
  return 0;
}
