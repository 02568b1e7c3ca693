#include "host/master.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstring>
#include <map>
#include <memory>
#include <new>
#include <optional>

#include "host/address_limit.h"
#include "host/listen_socket.h"
#include "host/pid_file.h"
#include "host/tls.h"
#include "host/uring/uring_worker.h"
#include "host/worker_process.h"
#include "serve/log.h"
#include "serve/running_route.h"
#include "serve/stats.h"

namespace h2::host {
namespace {

constexpr int kHandled[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1};
constexpr int kIgnored[] = {SIGPIPE, SIGUSR2, SIGWINCH, SIGALRM, SIGTTIN, SIGTTOU};
constexpr size_t kMarkers = 1024;          // crash markers in shared memory, one per live child
constexpr uint64_t kStableMs = 5000;       // a worker that lived this long was not crash-looping
constexpr uint64_t kMaxBackoffMs = 30000;
constexpr uint64_t kReadyTimeoutMs = 60000;
constexpr uint64_t kKillGraceMs = 3000;    // after shutdown_ms, before SIGKILL (TERM/INT only)

uint64_t now_ms() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::steady_clock::now().time_since_epoch())
                                   .count());
}

std::string describe_exit(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) {
    const int sig = WTERMSIG(status);
    std::string out = "was killed by signal " + std::to_string(sig) + " (SIG" +
                      sigabbrev_np(sig) + ")";
    if (WCOREDUMP(status)) out += ", core dumped";
    return out;
  }
  return "ended with status " + std::to_string(status);
}

struct Generation {
  unsigned number = 0;
  HostConfig config;
  std::vector<std::shared_ptr<ListenSocket>> sockets;  // one per config listener
};

struct Child {
  pid_t pid = -1;
  unsigned slot = 0;
  std::shared_ptr<Generation> generation;
  int report_fd = -1;
  std::string report;        // bytes read so far
  std::string last_step;     // the last "P" record: where module code was running
  std::string error;         // the "E" record
  bool ready = false;
  bool told_to_stop = false;
  uint64_t started_ms = 0;
  size_t marker = 0;
};

class Master {
 public:
  explicit Master(HostConfig config) : first_(std::move(config)) {}
  int run();

 private:
  bool start_generation(HostConfig config, std::string* error);
  void spawn(const std::shared_ptr<Generation>& generation, unsigned slot);
  void read_report(Child& child);
  void on_ready(Child& child);
  void reap();
  void on_exit(Child child, int status);
  void abort_pending(const std::string& why, const std::string& raw_error = {});
  void reload();
  void stop(int signal);
  void signal_all(int signal);
  std::string route_at_crash(const Child& child) const;
  void log_listeners(const Generation& generation) const;

  HostConfig first_;
  int signal_fd_ = -1;
  std::atomic<int32_t>* markers_ = nullptr;
  serve::StatsTable* stats_ = nullptr;  // slot i belongs to the child holding marker i
  std::vector<bool> marker_used_ = std::vector<bool>(kMarkers, false);
  std::map<pid_t, Child> children_;
  std::shared_ptr<Generation> current_, pending_;
  unsigned next_generation_ = 1;
  std::map<unsigned, uint64_t> respawn_due_;   // slot -> when (current generation)
  std::map<unsigned, unsigned> quick_deaths_;  // slot -> crashes in a row
  bool stopping_ = false;
  std::optional<uint64_t> kill_at_;
  std::optional<uint64_t> pending_deadline_;
  int exit_code_ = 0;
};

std::string Master::route_at_crash(const Child& child) const {
  const int32_t index = markers_[child.marker].load(std::memory_order_relaxed);
  const auto& routes = child.generation->config.routes;
  if (index < 0 || static_cast<size_t>(index) >= routes.size()) return {};
  const serve::RouteConfig& r = routes[static_cast<size_t>(index)];
  return "; it was running route " + std::string(r.is_prefix ? "prefix " : "path ") + r.path +
         " (module " + r.module + ", " + r.where.file + ":" + std::to_string(r.where.line) + ")";
}

void Master::log_listeners(const Generation& generation) const {
  const std::string uring_problem = uring::UringWorker::probe();
  for (size_t i = 0; i < generation.sockets.size(); ++i) {
    const ListenerConfig& l = generation.config.listeners[i];
    const bool uring = l.runtime == Runtime::kIoUring && !l.tls && uring_problem.empty();
    H2_LOG(kNotice, std::string("listening on ") + (l.tls ? "https://" : "http://") +
                        generation.sockets[i]->bound() + " (" + (uring ? "io_uring" : "asio") + ")");
  }
}

// Binds what changed (reusing the current generation's sockets by listener_key) and forks the
// workers of a new generation; it becomes current once every worker reported ready.
bool Master::start_generation(HostConfig config, std::string* error) {
  auto generation = std::make_shared<Generation>();
  generation->number = next_generation_++;
  std::vector<bool> reused(current_ ? current_->sockets.size() : 0, false);
  for (const ListenerConfig& listener : config.listeners) {
    std::shared_ptr<ListenSocket> socket;
    // The first not yet reused socket with the same key (ephemeral ports: in order).
    for (size_t i = 0; i < reused.size() && !socket; ++i) {
      if (!reused[i] && listener_key(current_->config.listeners[i]) == listener_key(listener)) {
        socket = current_->sockets[i];
        reused[i] = true;
      }
    }
    if (!socket) socket = bind_listener(listener, error);
    if (!socket) return false;
    generation->sockets.push_back(std::move(socket));
  }
  generation->config = std::move(config);
  pending_ = generation;
  pending_deadline_ = now_ms() + kReadyTimeoutMs;
  for (unsigned slot = 0; slot < generation->config.workers; ++slot) spawn(generation, slot);
  return true;
}

void Master::spawn(const std::shared_ptr<Generation>& generation, unsigned slot) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    H2_LOG(kError, std::string("cannot start a worker: pipe: ") + std::strerror(errno));
    respawn_due_[slot] = now_ms() + 1000;
    return;
  }
  const size_t marker = static_cast<size_t>(
      std::find(marker_used_.begin(), marker_used_.end(), false) - marker_used_.begin());
  markers_[marker % kMarkers].store(serve::kNoRoute);
  stats_->slots[marker % kMarkers].counters.clear();
  std::fflush(nullptr);  // nothing buffered twice
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::close(signal_fd_);
    for (auto& [_, other] : children_) {
      if (other.report_fd >= 0) ::close(other.report_fd);
    }
    // Sockets of other generations (starting, serving, draining) stay with their own workers.
    std::vector<std::shared_ptr<Generation>> others{current_, pending_};
    for (const auto& [_, other] : children_) others.push_back(other.generation);
    for (const auto& gen : others) {
      if (!gen || gen == generation) continue;
      for (const auto& socket : gen->sockets) {
        if (std::find(generation->sockets.begin(), generation->sockets.end(), socket) ==
            generation->sockets.end()) {
          ::close(socket->fd());
        }
      }
    }
    WorkerLaunch launch;
    launch.config = &generation->config;
    launch.sockets = generation->sockets;
    launch.report_fd = pipe_fds[1];
    launch.route_marker = &markers_[marker % kMarkers];
    launch.stats = stats_;
    launch.stats_slot = &stats_->slots[marker % kMarkers];
    launch.index = marker % kMarkers;
    launch.generation = generation->number;
    run_worker_process(std::move(launch));
  }
  ::close(pipe_fds[1]);
  if (pid < 0) {
    ::close(pipe_fds[0]);
    H2_LOG(kError, std::string("cannot start a worker: fork: ") + std::strerror(errno));
    respawn_due_[slot] = now_ms() + 1000;
    return;
  }
  marker_used_[marker % kMarkers] = true;
  Child child;
  child.pid = pid;
  child.slot = slot;
  child.generation = generation;
  child.report_fd = pipe_fds[0];
  child.started_ms = now_ms();
  child.marker = marker % kMarkers;
  children_.emplace(pid, std::move(child));
}

void Master::read_report(Child& child) {
  char buffer[4096];
  const ssize_t n = ::read(child.report_fd, buffer, sizeof buffer);
  if (n < 0 && errno == EINTR) return;
  if (n <= 0) {
    ::close(child.report_fd);
    child.report_fd = -1;
    if (!child.report.empty() && child.report[0] == 'E') child.error = child.report.substr(1);
    return;
  }
  child.report.append(buffer, static_cast<size_t>(n));
  size_t end;
  while (!child.report.empty() && child.report[0] != 'E' &&
         (end = child.report.find('\n')) != std::string::npos) {
    const std::string record = child.report.substr(0, end);
    child.report.erase(0, end + 1);
    if (record[0] == 'P') child.last_step = record.substr(1);
    if (record[0] == 'R') on_ready(child);
  }
}

void Master::on_ready(Child& child) {
  child.ready = true;
  child.last_step.clear();
  if (child.generation != pending_) return;  // a respawned worker of the current generation
  for (const auto& [_, c] : children_) {
    if (c.generation == pending_ && !c.ready) return;
  }
  const Generation& fresh = *pending_;
  const std::string summary = std::to_string(fresh.config.workers) + " worker process(es), " +
                              std::to_string(fresh.config.routes.size()) + " route(s)";
  if (current_) {
    for (auto& [_, c] : children_) {
      if (c.generation == current_) {
        c.told_to_stop = true;
        ::kill(c.pid, SIGQUIT);
      }
    }
    H2_LOG(kNotice, "reload done: generation " + std::to_string(fresh.number) + " serves with " +
                        summary + "; generation " + std::to_string(current_->number) +
                        " drains");
  } else {
    H2_LOG(kNotice, "h2host " H2_VERSION " started with " + summary);
  }
  current_ = pending_;
  pending_.reset();
  pending_deadline_.reset();
  respawn_due_.clear();
  quick_deaths_.clear();
}

// `raw_error`: the worker's own message (a refused module, a bad route), printed as the start-up
// error on stderr like a single process would.
void Master::abort_pending(const std::string& why, const std::string& raw_error) {
  for (auto& [_, c] : children_) {
    if (c.generation == pending_ && !c.told_to_stop) {
      c.told_to_stop = true;
      ::kill(c.pid, c.ready ? SIGQUIT : SIGKILL);  // a ready one may hold connections: drain it
    }
  }
  pending_.reset();
  pending_deadline_.reset();
  if (current_) {
    H2_LOG(kError, "reload failed, keeping the running configuration: " + why);
  } else {
    H2_LOG(kError, "cannot start: " + why);
    std::fprintf(stderr, "h2host: [emerg] %s\n", (raw_error.empty() ? why : raw_error).c_str());
    exit_code_ = 1;
    stop(SIGTERM);
  }
}

void Master::reap() {
  for (;;) {
    int status = 0;
    const pid_t pid = ::waitpid(-1, &status, WNOHANG);
    if (pid <= 0) return;
    auto it = children_.find(pid);
    if (it == children_.end()) continue;
    Child child = std::move(it->second);
    children_.erase(it);
    while (child.report_fd >= 0) read_report(child);  // what it said before it died
    marker_used_[child.marker] = false;
    // Its counts stay in the totals; its open connections and streams died with it.
    serve::WorkerSlot& slot = stats_->slots[child.marker];
    stats_->retired.add(slot.counters, false);
    slot.counters.clear();
    slot.pid.store(0);
    release_address_counts(child.marker);  // what it held when it died (a crash: no destructors)
    on_exit(std::move(child), status);
  }
}

void Master::on_exit(Child child, int status) {
  const std::string who = "worker " + std::to_string(child.pid) + " (generation " +
                          std::to_string(child.generation->number) + ", slot " +
                          std::to_string(child.slot) + ") ";
  const bool clean = WIFEXITED(status) && WEXITSTATUS(status) == 0;
  if (child.told_to_stop || stopping_) {
    if (clean) {
      H2_LOG(kInfo, who + "exited");
    } else {
      H2_LOG(kWarn, who + describe_exit(status) + " while stopping");
    }
    return;
  }
  std::string why = who + describe_exit(status);
  if (!child.ready) {
    why += child.error.empty() ? (child.last_step.empty() ? std::string(" before serving")
                                                          : " while " + child.last_step)
                               : ": " + child.error;
  } else {
    why += route_at_crash(child);
  }
  if (child.generation == pending_) return abort_pending(why, child.error);
  if (child.generation != current_) {
    H2_LOG(kWarn, why);
    return;
  }
  const uint64_t lived = now_ms() - child.started_ms;
  unsigned& deaths = quick_deaths_[child.slot];
  deaths = lived < kStableMs ? deaths + 1 : 1;
  const uint64_t delay =
      deaths <= 1 ? 0 : std::min<uint64_t>(kMaxBackoffMs, 250ull << std::min(deaths - 2, 16u));
  H2_LOG(kError, why + "; respawning" +
                     (delay == 0 ? std::string(" now")
                                 : " in " + std::to_string(delay) + " ms (" +
                                       std::to_string(deaths) + " quick deaths in a row)"));
  respawn_due_[child.slot] = now_ms() + delay;
}

void Master::reload() {
  H2_LOG(kNotice, "received SIGHUP, reloading the configuration");
  if (pending_) {
    H2_LOG(kWarn, "reload ignored: generation " + std::to_string(pending_->number) +
                      " is still starting");
    return;
  }
  ConfigResult fresh = load_config(current_->config.file);
  std::string error = fresh.error;
  if (fresh) {
    for (const ListenerConfig& l : fresh.config->listeners) {
      if (l.tls && !make_tls_context(l, &error)) break;
    }
  }
  if (error.empty()) error = serve::Log::open(fresh.config->logs);
  if (error.empty() && start_generation(std::move(*fresh.config), &error)) {
    log_listeners(*pending_);
    return;
  }
  H2_LOG(kError, "reload failed, keeping the running configuration: " + error);
}

void Master::signal_all(int signal) {
  for (auto& [_, c] : children_) {
    c.told_to_stop = c.told_to_stop || signal == SIGTERM || signal == SIGQUIT;
    ::kill(c.pid, signal);
  }
}

void Master::stop(int signal) {
  if (!stopping_ && exit_code_ == 0) {
    H2_LOG(kNotice, std::string("received SIG") + sigabbrev_np(signal) + ", stopping the workers" +
                        (signal == SIGQUIT ? " gracefully" : ""));
  }
  stopping_ = true;
  pending_deadline_.reset();
  respawn_due_.clear();
  signal_all(signal == SIGQUIT ? SIGQUIT : SIGTERM);
  if (signal != SIGQUIT && current_) {
    kill_at_ = now_ms() + current_->config.timeouts.shutdown_ms + kKillGraceMs;
  }
}

int Master::run() {
  sigset_t handled;
  sigemptyset(&handled);
  for (int s : kHandled) sigaddset(&handled, s);
  for (int s : kIgnored) std::signal(s, SIG_IGN);
  ::sigprocmask(SIG_BLOCK, &handled, nullptr);
  signal_fd_ = ::signalfd(-1, &handled, SFD_CLOEXEC | SFD_NONBLOCK);
  void* shared = ::mmap(nullptr, sizeof(std::atomic<int32_t>) * kMarkers, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (signal_fd_ < 0 || shared == MAP_FAILED) {
    std::fprintf(stderr, "h2host: [emerg] cannot set up the master: %s\n", std::strerror(errno));
    return 1;
  }
  markers_ = static_cast<std::atomic<int32_t>*>(shared);
  void* table = ::mmap(nullptr, sizeof(serve::StatsTable), PROT_READ | PROT_WRITE,
                       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  if (table == MAP_FAILED) {
    std::fprintf(stderr, "h2host: [emerg] cannot set up the master: %s\n", std::strerror(errno));
    return 1;
  }
  stats_ = new (table) serve::StatsTable();
  static_assert(serve::StatsTable::kSlots >= kMarkers, "a stats slot per crash marker");
  prepare_address_counts();  // shared by every worker of every generation
  const std::filesystem::path pid_path = first_.pid_file;
  if (!first_.user.empty() && ::geteuid() != 0) {
    H2_LOG(kWarn, "\"user\" is ignored: the master does not run as root");
  }
  std::string error;
  if (!start_generation(std::move(first_), &error)) {
    std::fprintf(stderr, "h2host: [emerg] %s\n", error.c_str());
    return 1;
  }
  if (error = write_pid_file(pid_path); !error.empty()) {
    std::fprintf(stderr, "h2host: [emerg] %s\n", error.c_str());
    exit_code_ = 1;
    stop(SIGTERM);
  } else {
    log_listeners(*pending_);
  }
  while (!(stopping_ && children_.empty())) {
    const uint64_t now = now_ms();
    uint64_t wake = now + 1000;
    for (const auto& [_, due] : respawn_due_) wake = std::min(wake, due);
    if (pending_deadline_) wake = std::min(wake, *pending_deadline_);
    if (kill_at_) wake = std::min(wake, *kill_at_);
    std::vector<pollfd> fds{{signal_fd_, POLLIN, 0}};
    std::vector<pid_t> owners{0};
    for (auto& [pid, c] : children_) {
      if (c.report_fd >= 0) {
        fds.push_back({c.report_fd, POLLIN, 0});
        owners.push_back(pid);
      }
    }
    ::poll(fds.data(), fds.size(), static_cast<int>(wake > now ? wake - now : 0));
    for (size_t i = 1; i < fds.size(); ++i) {
      auto it = children_.find(owners[i]);
      if (fds[i].revents != 0 && it != children_.end()) read_report(it->second);
    }
    signalfd_siginfo info;
    while (::read(signal_fd_, &info, sizeof info) == sizeof info) {
      const int sig = static_cast<int>(info.ssi_signo);
      if (sig == SIGCHLD) {
        reap();
      } else if (sig == SIGHUP) {
        if (!stopping_ && current_) reload();
      } else if (sig == SIGUSR1) {
        H2_LOG(kNotice, "received SIGUSR1, reopening the log files");
        if (current_) {
          if (std::string e = serve::Log::open(current_->config.logs); !e.empty()) {
            H2_LOG(kError, "reopening the logs failed, keeping the open files: " + e);
          }
        }
        signal_all(SIGUSR1);
      } else {
        stop(sig);
      }
    }
    reap();  // a SIGCHLD coalesced with another may have been read before its child was done
    const uint64_t after = now_ms();
    if (pending_deadline_ && after >= *pending_deadline_) {
      abort_pending("the new workers did not report ready within " +
                    std::to_string(kReadyTimeoutMs / 1000) + " s");
    }
    if (kill_at_ && after >= *kill_at_) {
      H2_LOG(kWarn, "workers still running after the shutdown bound: killing " +
                        std::to_string(children_.size()));
      signal_all(SIGKILL);
      kill_at_.reset();
    }
    for (auto it = respawn_due_.begin(); it != respawn_due_.end();) {
      if (stopping_ || !current_ || after < it->second) {
        ++it;
        continue;
      }
      const unsigned slot = it->first;
      it = respawn_due_.erase(it);
      spawn(current_, slot);
    }
  }
  remove_pid_file(pid_path);
  H2_LOG(kNotice, "exiting");
  return exit_code_;
}

}  // namespace

int run_master(HostConfig config) {
  Master master(std::move(config));
  return master.run();
}

}  // namespace h2::host
