// Many connections, one thread: the driving loop at the top of protocol/server_connection.h as a
// poll(2) loop over non-blocking sockets. GET /slow is answered by a timer of this loop, outside
// any driving call (-> on_output_ready). Usage: poll_server PORT (0: any free port).
// SIGTERM/SIGINT: graceful shutdown of every connection, at most 5 s.
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
#include <utility>
#include <vector>

#include "protocol/server_connection.h"

namespace {
using namespace h2::protocol;  // Reqd, Writer, Field, ServerConnection, ...

constexpr uint64_t kSlowDelayMs = 50;
constexpr uint64_t kShutdownLimitMs = 5000;
constexpr Field kTextPlain[] = {{"content-type", "text/plain"}};

int g_stop_pipe[2] = {-1, -1};  // SIGTERM/SIGINT write a byte here (see main)

// The core never reads a clock: every call gets this monotonic time.
uint64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

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

// One per socket, and that connection's RequestHandler: on_output_ready() does not name its
// connection, so each connection needs a handler of its own to know which socket to write.
struct Client final : RequestHandler {
  explicit Client(int socket_fd) : fd(socket_fd) {}
  ~Client() override {
    conn.reset();  // first: ends the open streams, with on_stream_closed() on this handler
    close(fd);
  }

  void on_request(Reqd& reqd) override {
    const RequestHead& request = reqd.request();
    if (request.method == "GET" && request.path == "/") {
      reqd.respond_with_string({200, kTextPlain}, "hello from h2\n");
    } else if (request.method == "GET" && request.path == "/slow") {
      slow_replies.emplace_back(now_ms() + kSlowDelayMs, reqd);  // answered by the loop's timer
    } else if (request.method == "POST" && request.path == "/echo") {
      echo_next_chunk(reqd, reqd.respond_with_streaming({200}));
    } else {
      reqd.respond_with_string({404, kTextPlain}, "not found\n");
    }
  }
  // Exactly once per stream, however it ended (reset, connection gone): forget its timer.
  void on_stream_closed(Reqd& reqd, StreamEnd, ErrorCode) override {
    std::erase_if(slow_replies, [&](auto& r) { return r.second.stream_id() == reqd.stream_id(); });
  }
  // Comes from inside the timer's Reqd call, where driving calls are refused: only take note.
  void on_output_ready() override { pull_output = true; }

  const int fd;
  std::optional<ServerConnection> conn{std::in_place, this, ConnectionOptions{}, now_ms()};
  std::vector<std::pair<uint64_t, Reqd>> slow_replies;  // GET /slow: (due time, request)
  bool pull_output = false;  // set by on_output_ready(): service() must call pending_output()
};

// One pass of the documented loop for one client: read if readable, fire due timers, write
// until the core has nothing more or the socket is full. False: close (the core is done).
bool service(Client& c, short revents, uint64_t now, bool start_shutdown) {
  if (start_shutdown) {  // GOAWAY now; the open streams still finish
    c.conn->start_graceful_shutdown(now);
  }
  if ((revents & (POLLIN | POLLHUP | POLLERR)) && c.conn->wants_read()) {
    char buffer[16 * 1024];
    const ssize_t n = read(c.fd, buffer, sizeof buffer);
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (n > 0) c.conn->process_bytes({buffer, static_cast<size_t>(n)}, now_ms());
    if (n == 0) c.conn->on_peer_eof();
  }
  if (const auto wakeup = c.conn->next_wakeup_ms(); wakeup && now >= *wakeup) c.conn->on_time(now);
  // While the core wants to write (a broken socket reports itself here), and at least once after
  // on_output_ready(), even if wants_write() is false by then.
  for (bool asked = std::exchange(c.pull_output, false); asked || c.conn->wants_write();) {
    asked = false;
    std::vector<std::string_view> views;
    if (c.conn->pending_output(views, 256 * 1024) == 0) break;
    std::vector<iovec> iov;
    for (std::string_view v : views) iov.push_back({const_cast<char*>(v.data()), v.size()});
    const ssize_t n = writev(c.fd, iov.data(), std::min<int>(iov.size(), IOV_MAX));
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return false;
    if (n < 0) break;           // socket full: POLLOUT says when to go on
    c.conn->consume_output(n);  // a short write is fine: the rest comes first next time
  }
  return !c.conn->is_closed();  // closed at once, as documented (README.md: lingering close)
}

}  // namespace

int main(int argc, char** argv) {
  char* end = nullptr;
  const long port = argc == 2 ? std::strtol(argv[1], &end, 10) : -1;
  if (argc != 2 || *end != '\0' || port < 0 || port > 65535) {
    std::fprintf(stderr, "usage: %s PORT   (0 picks a free port)\n", argv[0]);
    return 2;
  }
  // Self-pipe: unlike a flag, the byte also wakes a poll() entered just after the signal came.
  auto request_stop = [](int) { (void)!write(g_stop_pipe[1], "", 1); };
  std::signal(SIGTERM, request_stop);
  std::signal(SIGINT, request_stop);
  std::signal(SIGPIPE, SIG_IGN);  // a vanished peer is a writev error, not a process kill
  int listen_fd = socket(AF_INET, SOCK_STREAM, 0);
  const int one = 1;
  setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in address{.sin_family = AF_INET,
                      .sin_port = htons(static_cast<uint16_t>(port)),
                      .sin_addr = {htonl(INADDR_LOOPBACK)}};
  socklen_t length = sizeof address;
  if (pipe(g_stop_pipe) != 0 || fcntl(g_stop_pipe[1], F_SETFL, O_NONBLOCK) != 0 || listen_fd < 0 ||
      bind(listen_fd, reinterpret_cast<sockaddr*>(&address), length) != 0 ||
      listen(listen_fd, 128) != 0 || fcntl(listen_fd, F_SETFL, O_NONBLOCK) != 0 ||
      getsockname(listen_fd, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
    std::perror("listen");
    return 1;
  }
  std::printf("listening on 127.0.0.1:%u\n", ntohs(address.sin_port));
  std::fflush(stdout);  // a test reads the port from this line

  std::vector<std::unique_ptr<Client>> clients;
  std::optional<uint64_t> shutdown_deadline_ms;
  std::vector<pollfd> fds;
  while (!shutdown_deadline_ms || (!clients.empty() && now_ms() < *shutdown_deadline_ms)) {
    // Wait for what each core wants (read, write), at most until the earliest timer.
    uint64_t wakeup = shutdown_deadline_ms.value_or(UINT64_MAX);
    fds.assign({{shutdown_deadline_ms ? -1 : g_stop_pipe[0], POLLIN, 0}, {listen_fd, POLLIN, 0}});
    for (auto& c : clients) {
      const bool reading = c->conn->wants_read(), writing = c->conn->wants_write();
      fds.push_back({c->fd, static_cast<short>((reading ? POLLIN : 0) | (writing ? POLLOUT : 0))});
      wakeup = std::min(wakeup, c->conn->next_wakeup_ms().value_or(UINT64_MAX));
      for (const auto& [due_ms, reqd] : c->slow_replies) wakeup = std::min(wakeup, due_ms);
    }
    const uint64_t wait_ms = std::min<uint64_t>(wakeup - std::min(wakeup, now_ms()), INT_MAX);
    const int timeout = wakeup == UINT64_MAX ? -1 : static_cast<int>(wait_ms);
    if (poll(fds.data(), fds.size(), timeout) < 0 && errno != EINTR) return 1;
    const uint64_t now = now_ms();
    const bool start_shutdown = (fds[0].revents & POLLIN) && !shutdown_deadline_ms;
    if (start_shutdown) {  // stop accepting; service() sends GOAWAY on every connection
      shutdown_deadline_ms = now + kShutdownLimitMs;
      close(std::exchange(listen_fd, -1));
    }
    for (size_t i = 0; i < clients.size(); ++i) {
      Client& c = *clients[i];
      // The loop's own timer (GET /slow), outside any driving call: the core calls
      // on_output_ready(), never on_stream_closed(), from inside the Reqd call.
      for (auto& [due_ms, reqd] : c.slow_replies) {
        if (due_ms <= now) reqd.respond_with_string({200, kTextPlain}, "slow hello\n");
      }
      std::erase_if(c.slow_replies, [&](const auto& r) { return r.first <= now; });
      if (!service(c, fds[i + 2].revents, now, start_shutdown)) clients[i].reset();  // ends streams
    }
    std::erase_if(clients, [](const auto& c) { return c == nullptr; });
    while (listen_fd >= 0 && (fds[1].revents & POLLIN)) {
      const int fd = accept(listen_fd, nullptr, nullptr);
      if (fd < 0) break;  // EAGAIN: every pending connection was accepted
      setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  // we write whole batches
      fcntl(fd, F_SETFL, O_NONBLOCK);  // (a fresh descriptor has no other status flag to keep)
      clients.push_back(std::make_unique<Client>(fd));
    }
  }
  clients.clear();  // past the deadline: destroying each core ends its streams
  return 0;
}
