// A poll(2) event loop serving many connections from one thread with non-blocking sockets: the
// driving loop documented at the top of protocol/server_connection.h, as code. GET /slow shows
// a response given from outside any driving call (a timer of this loop), which the core reports
// through on_output_ready(). SIGTERM/SIGINT: graceful shutdown of every connection, at most 5 s.
// Usage: poll_server PORT   (0 = ephemeral; prints "listening on 127.0.0.1:PORT")
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "protocol/server_connection.h"

namespace {

using h2::protocol::ErrorCode;
using h2::protocol::Field;
using h2::protocol::Reqd;
using h2::protocol::ServerConnection;
using h2::protocol::StreamEnd;
using h2::protocol::Writer;

constexpr uint64_t kSlowDelayMs = 50;
constexpr uint64_t kShutdownLimitMs = 5000;
constexpr uint64_t kLingerMs = 1000;

// Self-pipe: the signal handler only sets a flag and writes a byte, which wakes poll() even if
// the signal landed just before it was called.
volatile std::sig_atomic_t g_stop_requested = 0;
int g_wake_pipe[2] = {-1, -1};
void request_stop(int) {
  g_stop_requested = 1;
  const char byte = 0;
  (void)!write(g_wake_pipe[1], &byte, 1);
}

// The core never reads a clock: every call gets this monotonic time.
uint64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

bool set_non_blocking(int fd) {
  return fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) == 0;
}

constexpr Field kTextPlain[] = {{"content-type", "text/plain"}};
constexpr Field kOctetStream[] = {{"content-type", "application/octet-stream"}};

// POST /echo: the next chunk is read only once the previous one left through the socket, so a
// client that does not read its echo stops getting flow-control window (backpressure).
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

struct SlowReply {
  uint64_t due_ms;
  Reqd reqd;
};

// One per socket. It is that connection's RequestHandler because on_output_ready() does not
// say which connection it is about. The handler must outlive its ServerConnection: the
// destructor ends the core first.
struct Client final : h2::protocol::RequestHandler {
  explicit Client(int socket_fd) : fd(socket_fd) {
    conn.emplace(this, h2::protocol::ConnectionOptions{}, now_ms());
  }
  ~Client() override {
    conn.reset();  // ends open streams: on_stream_closed() still finds this object whole
    if (fd >= 0) close(fd);
  }

  void on_request(Reqd& reqd) override {
    const auto& request = reqd.request();
    if (request.method == "GET" && request.path == "/") {
      reqd.respond_with_string({200, kTextPlain}, "hello from h2\n");
    } else if (request.method == "GET" && request.path == "/slow") {
      slow_replies.push_back({now_ms() + kSlowDelayMs, reqd});  // answered by the loop's timer
    } else if (request.method == "POST" && request.path == "/echo") {
      echo_next_chunk(reqd, reqd.respond_with_streaming({200, kOctetStream}));
    } else {
      reqd.respond_with_string({404, kTextPlain}, "not found\n");
    }
  }
  // Every stream ends here exactly once (reset, connection gone, ...): forget its timer.
  void on_stream_closed(Reqd& reqd, StreamEnd, ErrorCode) override {
    std::erase_if(slow_replies,
                  [&](const SlowReply& r) { return r.reqd.stream_id() == reqd.stream_id(); });
  }
  // Comes from inside a Reqd call made by the loop's timer, where driving calls are refused:
  // only note it; the loop pulls the output right after its timers.
  void on_output_ready() override { output_ready = true; }

  int fd;
  std::optional<ServerConnection> conn;  // empty once the core is done (lingering close)
  std::vector<SlowReply> slow_replies;
  uint64_t linger_until_ms = 0;
  bool output_ready = false;
};

void close_socket(Client& c) {
  if (c.fd >= 0) close(c.fd);
  c.fd = -1;
}

// The socket is unusable: destroying the core ends its streams with their callbacks.
void drop(Client& c) {
  c.conn.reset();
  close_socket(c);
}

// Writes until the core has nothing more or the socket is full (POLLOUT will say when to go
// on). It pulls once even when wants_write() is false, as on_output_ready() asks for.
void write_output(Client& c) {
  std::vector<std::string_view> views;
  std::vector<iovec> iov;
  do {
    views.clear();
    if (c.conn->pending_output(views, 256 * 1024) == 0) return;
    iov.clear();
    for (std::string_view v : views) iov.push_back({const_cast<char*>(v.data()), v.size()});
    const ssize_t written =
        writev(c.fd, iov.data(), static_cast<int>(std::min<size_t>(iov.size(), IOV_MAX)));
    if (written < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) drop(c);
      return;
    }
    c.conn->consume_output(static_cast<size_t>(written));  // a short write is fine
  } while (c.conn->wants_write());
}

// After every driving call: write what it queued, and close once the core is done.
void after_driving(Client& c) {
  write_output(c);
  if (!c.conn || !c.conn->is_closed()) return;
  // Lingering close: closing with unread input would send RST, which can destroy our final
  // GOAWAY in the peer's receive buffer before it was read. Stop sending, read until EOF.
  c.conn.reset();
  shutdown(c.fd, SHUT_WR);
  c.linger_until_ms = now_ms() + kLingerMs;
}

// Due timers: this loop's (GET /slow answers, linger end) and the core's (on_time).
void run_timers(Client& c, uint64_t now) {
  if (!c.conn) {
    if (now >= c.linger_until_ms) close_socket(c);
    return;
  }
  std::vector<SlowReply> due;
  for (const SlowReply& r : c.slow_replies) {
    if (r.due_ms <= now) due.push_back(r);
  }
  std::erase_if(c.slow_replies, [&](const SlowReply& r) { return r.due_ms <= now; });
  // A Reqd call outside any driving call: the core answers with on_output_ready().
  for (SlowReply& r : due) r.reqd.respond_with_string({200, kTextPlain}, "slow hello from h2\n");
  bool drove = false;
  if (auto wakeup = c.conn->next_wakeup_ms(); wakeup && now >= *wakeup) {
    c.conn->on_time(now);
    drove = true;
  }
  if (std::exchange(c.output_ready, false) || drove) after_driving(c);
}

// poll() reported `revents` for this client's socket.
void on_socket_event(Client& c, short revents) {
  char buffer[16 * 1024];
  if (!c.conn) {  // lingering: discard input until the peer closes
    if (!(revents & POLLIN) || read(c.fd, buffer, sizeof buffer) <= 0) close_socket(c);
    return;
  }
  ServerConnection& conn = *c.conn;
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && conn.wants_read()) {
    const ssize_t n = read(c.fd, buffer, sizeof buffer);
    if (n > 0) conn.process_bytes({buffer, static_cast<size_t>(n)}, now_ms());
    if (n == 0) conn.on_peer_eof();
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return drop(c);
  } else if (revents & (POLLERR | POLLHUP | POLLNVAL)) {
    return drop(c);  // nothing to read any more and the socket is broken
  }
  after_driving(c);
}

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  const long port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
  if (argc != 2 || *end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s PORT   (0 picks a free port)\n", argv[0]);
    return 2;
  }
  if (pipe(g_wake_pipe) != 0 || !set_non_blocking(g_wake_pipe[0]) ||
      !set_non_blocking(g_wake_pipe[1]))
    return 1;
  struct sigaction stop_action = {};
  stop_action.sa_handler = request_stop;
  sigaction(SIGTERM, &stop_action, nullptr);
  sigaction(SIGINT, &stop_action, nullptr);
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is a writev error, not a process kill

  int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(static_cast<uint16_t>(port));
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t length = sizeof address;
  if (listen_fd < 0 || bind(listen_fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(listen_fd, 128) != 0 || !set_non_blocking(listen_fd) ||
      getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
  std::fflush(stdout);  // a test reads the port from this line

  std::vector<std::unique_ptr<Client>> clients;
  std::optional<uint64_t> shutdown_deadline_ms;
  std::vector<pollfd> fds;
  while (true) {
    if (g_stop_requested && !shutdown_deadline_ms) {  // GOAWAY everywhere; streams still finish
      shutdown_deadline_ms = now_ms() + kShutdownLimitMs;
      close(listen_fd);
      listen_fd = -1;
      for (auto& c : clients) {
        if (!c->conn) continue;
        c->conn->start_graceful_shutdown();
        after_driving(*c);
      }
    }
    const uint64_t now = now_ms();
    for (auto& c : clients) run_timers(*c, now);
    std::erase_if(clients, [](const auto& c) { return c->fd < 0; });
    if (shutdown_deadline_ms && (clients.empty() || now >= *shutdown_deadline_ms)) break;

    // Wait for what each core wants, bounded by the earliest timer.
    std::optional<uint64_t> wakeup = shutdown_deadline_ms;
    auto consider = [&](std::optional<uint64_t> t) {
      if (t && (!wakeup || *t < *wakeup)) wakeup = t;
    };
    fds.assign({{g_wake_pipe[0], POLLIN, 0}, {listen_fd, POLLIN, 0}});
    for (auto& c : clients) {
      const bool reading = !c->conn || c->conn->wants_read();
      const bool writing = c->conn && c->conn->wants_write();
      fds.push_back(
          {c->fd, static_cast<short>((reading ? POLLIN : 0) | (writing ? POLLOUT : 0)), 0});
      consider(c->conn ? c->conn->next_wakeup_ms() : c->linger_until_ms);
      for (const SlowReply& r : c->slow_replies) consider(r.due_ms);
    }
    const int timeout =
        !wakeup ? -1
                : static_cast<int>(std::min<uint64_t>(*wakeup > now ? *wakeup - now : 0, INT_MAX));
    if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return 1;

    char drained[64];
    while (read(g_wake_pipe[0], drained, sizeof drained) > 0) {
    }
    const size_t polled = clients.size();  // accepted clients below were not in this poll
    for (int fd; (fds[1].revents & POLLIN) && (fd = accept(listen_fd, nullptr, nullptr)) >= 0;) {
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // writev sends whole batches
      set_non_blocking(fd);
      clients.push_back(std::make_unique<Client>(fd));
    }
    for (size_t i = 0; i < polled; ++i) {
      if (fds[i + 2].revents != 0) on_socket_event(*clients[i], fds[i + 2].revents);
    }
  }
  clients.clear();  // past the deadline: destroying each core ends its streams
  return 0;
}
