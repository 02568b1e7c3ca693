#include "host/master.h"

#include <poll.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
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
#include "serve/route_quarantine.h"
#include "serve/running_route.h"
#include "serve/stats.h"

namespace h2::host {
namespace {

constexpr int kHandled[] = {SIGCHLD, SIGHUP, SIGTERM, SIGINT, SIGQUIT, SIGUSR1};
constexpr int kIgnored[] = {SIGPIPE, SIGUSR2, SIGWINCH, SIGALRM, SIGTTIN, SIGTTOU};
constexpr size_t kMarkers = 1024;          // crash markers in shared memory, one per live child
constexpr uint64_t kStableMs = 5000;       // a worker that lived this long was not crash-looping
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

// A T in memory shared with every worker forked later (never unmapped: the master's lifetime).
template <class T>
T* map_shared() {
  void* memory = ::mmap(nullptr, sizeof(T), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS,
                        -1, 0);
  return memory == MAP_FAILED ? nullptr : new (memory) T();
}

struct Generation {
  unsigned number = 0;
  HostConfig config;
  // Per config listener, its sockets: the one every worker shares, or (reuseport) one per
  // worker slot. A slot's replacement inherits its socket, so connections queued there while it
  // restarts wait for it; a slot that backs off closes its socket (host/README.md, "Even
  // spread").
  std::vector<std::vector<std::shared_ptr<ListenSocket>>> groups;
  std::vector<uint16_t> ports;  // per listener: the port bound (an ephemeral one resolved)

  static bool per_slot(const ListenerConfig& l) {
    return l.reuseport && l.kind == ListenerConfig::Kind::kTcp;
  }
  // What the worker in `slot` listens on: one socket per config listener, in order.
  std::vector<std::shared_ptr<ListenSocket>> sockets_for(unsigned slot) const {
    std::vector<std::shared_ptr<ListenSocket>> out;
    for (size_t i = 0; i < groups.size(); ++i) {
      const bool tap = config.listeners[i].kind == ListenerConfig::Kind::kTap;
      out.push_back(tap && slot != 0 ? nullptr : groups[i][per_slot(config.listeners[i]) ? slot : 0]);
    }
    return out;
  }
  std::vector<std::shared_ptr<ListenSocket>> all_sockets() const {
    std::vector<std::shared_ptr<ListenSocket>> out;
    for (const auto& group : groups) out.insert(out.end(), group.begin(), group.end());
    return out;
  }
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
  std::string describe_route(const Generation& generation, int32_t index) const;
  void count_route_crash(const Child& child);
  void lift_quarantines(uint64_t now);
  bool rebind_slot(Generation& generation, unsigned slot);
  void close_slot(Generation& generation, unsigned slot);
  void close_unused_sockets(const Generation& old, const Generation& kept);
  bool serving_worker_left() const;
  void log_listeners(const Generation& generation) const;

  HostConfig first_;
  int signal_fd_ = -1;
  std::atomic<int32_t>* markers_ = nullptr;
  serve::StatsTable* stats_ = nullptr;  // slot i belongs to the child holding marker i
  serve::QuarantineTable* quarantine_ = nullptr;  // routes answering 503 (serve/route_quarantine.h)
  std::map<int32_t, std::vector<uint64_t>> route_crashes_;  // current generation: crash times
  std::map<int32_t, uint64_t> quarantined_until_;           // current generation
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

std::string Master::describe_route(const Generation& generation, int32_t index) const {
  const auto& routes = generation.config.routes;
  if (index < 0 || static_cast<size_t>(index) >= routes.size()) return {};
  const serve::RouteConfig& r = routes[static_cast<size_t>(index)];
  return "route " + std::string(r.is_prefix ? "prefix " : "path ") + r.path + " (module " +
         r.module + ", " + r.where.file + ":" + std::to_string(r.where.line) + ")";
}

std::string Master::route_at_crash(const Child& child) const {
  const std::string route =
      describe_route(*child.generation, markers_[child.marker].load(std::memory_order_relaxed));
  return route.empty() ? route : "; it was running " + route;
}

// A crash with a route marked: after crash_policy.route_crashes of them within route_window_ms,
// the route answers 503 for route_disable_ms (logged once), whatever worker runs it.
void Master::count_route_crash(const Child& child) {
  const int32_t index = markers_[child.marker].load(std::memory_order_relaxed);
  const CrashPolicyConfig& policy = current_->config.crash_policy;
  if (policy.route_crashes == 0 || index < 0 ||
      static_cast<size_t>(index) >= current_->config.routes.size() ||
      quarantined_until_.count(index) != 0) {
    return;
  }
  const uint64_t now = now_ms();
  std::vector<uint64_t>& times = route_crashes_[index];
  times.push_back(now);
  std::erase_if(times, [&](uint64_t t) { return now - t > policy.route_window_ms; });
  if (times.size() < policy.route_crashes) return;
  times.clear();
  const std::string route = describe_route(*current_, index);
  if (!serve::QuarantineTable::valid(index)) {
    H2_LOG(kError, route + " keeps crashing workers but cannot be disabled (more than " +
                       std::to_string(serve::QuarantineTable::kRoutes) + " routes)");
    return;
  }
  quarantine_->disable(current_->number, index);
  quarantined_until_[index] = now + policy.route_disable_ms;
  H2_LOG(kError, route + " crashed " + std::to_string(policy.route_crashes) +
                     " worker(s) within " + std::to_string(policy.route_window_ms) +
                     " ms: it answers 503 for " + std::to_string(policy.route_disable_ms) +
                     " ms or until a reload (crash_policy)");
}

void Master::lift_quarantines(uint64_t now) {
  for (auto it = quarantined_until_.begin(); it != quarantined_until_.end();) {
    if (now < it->second) {
      ++it;
      continue;
    }
    quarantine_->enable(current_->number, it->first);
    H2_LOG(kNotice, describe_route(*current_, it->first) + " serves again (crash_policy)");
    it = quarantined_until_.erase(it);
  }
}

// Whether a worker of the current generation is alive and not leaving (reaped ones are gone).
bool Master::serving_worker_left() const {
  return std::any_of(children_.begin(), children_.end(), [&](const auto& entry) {
    return entry.second.generation == current_ && !entry.second.told_to_stop;
  });
}

// A reuseport slot that will stay empty for a while gives its sockets back: the kernel then
// sends that slot's share of new connections to the others instead of a queue nobody reads
// (with net.ipv4.tcp_migrate_req the connections already queued move too; without, they are
// reset). The slot binds fresh sockets into the group when it is respawned.
void Master::close_slot(Generation& generation, unsigned slot) {
  for (size_t i = 0; i < generation.groups.size(); ++i) {
    if (Generation::per_slot(generation.config.listeners[i])) generation.groups[i][slot]->close();
  }
}

bool Master::rebind_slot(Generation& generation, unsigned slot) {
  for (size_t i = 0; i < generation.groups.size(); ++i) {
    if (!Generation::per_slot(generation.config.listeners[i])) continue;
    std::shared_ptr<ListenSocket>& socket = generation.groups[i][slot];
    if (socket->fd() >= 0) continue;
    std::string error;
    auto fresh = bind_listener(generation.config.listeners[i], &error, generation.ports[i]);
    if (!fresh) {
      H2_LOG(kError, "cannot respawn slot " + std::to_string(slot) + ": " + error);
      return false;
    }
    socket = std::move(fresh);
  }
  return true;
}

// After a reload: the old generation's sockets the new one did not take over (a removed
// listener, reuseport slots beyond the new worker count) are closed in the master, so they
// close for good as soon as the draining workers stop accepting.
void Master::close_unused_sockets(const Generation& old, const Generation& kept) {
  const auto keep = kept.all_sockets();
  for (const auto& socket : old.all_sockets()) {
    if (std::find(keep.begin(), keep.end(), socket) == keep.end()) socket->close();
  }
}

void Master::log_listeners(const Generation& generation) const {
  const std::string uring_problem = uring::UringWorker::probe();
  bool reuseport = false;
  for (size_t i = 0; i < generation.groups.size(); ++i) {
    const ListenerConfig& l = generation.config.listeners[i];
    const bool uring = l.runtime == Runtime::kIoUring && uring_problem.empty();
    const std::string runtime = uring ? "io_uring"
                                : l.runtime == Runtime::kLwip ? "lwip: " + lwip_runtime::describe(l.tap)
                                                              : "asio";
    const size_t group = Generation::per_slot(l) ? generation.groups[i].size() : 0;
    reuseport = reuseport || group > 0;
    H2_LOG(kNotice, std::string("listening on ") + (l.tls ? "https://" : "http://") +
                        generation.groups[i][0]->bound() + " (" + runtime +
                        ")" +
                        (group > 0 ? ", reuseport: " + std::to_string(group) + " socket(s)"
                                   : std::string()));
  }
  if (reuseport) {
    std::FILE* f = std::fopen("/proc/sys/net/ipv4/tcp_migrate_req", "r");
    const int migrate = f != nullptr ? std::fgetc(f) : EOF;
    if (f != nullptr) std::fclose(f);
    if (migrate != '1') {
      H2_LOG(kInfo, "net.ipv4.tcp_migrate_req is not 1: connections queued on a reuseport socket "
                    "that closes (fewer workers after a reload, a worker backing off after "
                    "crashes) are reset instead of moved to another worker");
    }
  }
}

// Binds what changed (reusing the current generation's sockets by listener_key) and forks the
// workers of a new generation; it becomes current once every worker reported ready.
bool Master::start_generation(HostConfig config, std::string* error) {
  auto generation = std::make_shared<Generation>();
  generation->number = next_generation_++;
  quarantine_->clear(generation->number);
  std::vector<bool> reused(current_ ? current_->groups.size() : 0, false);
  for (const ListenerConfig& listener : config.listeners) {
    const bool per_slot = Generation::per_slot(listener);
    std::vector<std::shared_ptr<ListenSocket>> group;
    uint16_t port = 0;
    // The first not yet reused listener with the same key (ephemeral ports: in order). A
    // reuseport slot takes over the same slot's socket: a reload refuses nothing.
    for (size_t i = 0; i < reused.size() && group.empty(); ++i) {
      if (!reused[i] && listener_key(current_->config.listeners[i]) == listener_key(listener)) {
        reused[i] = true;
        port = current_->ports[i];
        group = current_->groups[i];  // same key: both shared, or both per slot
      }
    }
    group.resize(per_slot ? config.workers : 1);
    for (auto& socket : group) {
      if (socket && (socket->fd() >= 0 || listener.kind == ListenerConfig::Kind::kTap)) {
        continue;  // taken over (closed: a slot in backoff; a tap listener has no descriptor)
      }
      socket = port == 0 ? bind_listener(listener, error) : bind_listener(listener, error, port);
      if (!socket) return false;
      if (port == 0) port = bound_port(*socket);
    }
    generation->ports.push_back(port);
    generation->groups.push_back(std::move(group));
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
    // Sockets of other generations (starting, serving, draining) stay with their own workers,
    // and other slots' reuseport sockets with theirs: a worker holds only what it accepts from,
    // so a socket closes for good when its own workers and the master let it go.
    const auto mine = generation->sockets_for(slot);
    std::vector<std::shared_ptr<Generation>> all{current_, pending_, generation};
    for (const auto& [_, other] : children_) all.push_back(other.generation);
    for (const auto& gen : all) {
      if (!gen) continue;
      for (const auto& socket : gen->all_sockets()) {
        if (socket->fd() >= 0 && std::find(mine.begin(), mine.end(), socket) == mine.end()) {
          ::close(socket->fd());  // a raw close: the objects are the master's
        }
      }
    }
    WorkerLaunch launch;
    launch.config = &generation->config;
    launch.sockets = mine;
    launch.quarantine = quarantine_;
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
    close_unused_sockets(*current_, fresh);
  } else {
    H2_LOG(kNotice, "h2host " H2_VERSION " started with " + summary);
  }
  current_ = pending_;
  pending_.reset();
  pending_deadline_.reset();
  respawn_due_.clear();
  quick_deaths_.clear();
  route_crashes_.clear();  // a reload gives every route a fresh start
  quarantined_until_.clear();
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
  if (child.ready) count_route_crash(child);
  const uint64_t lived = now_ms() - child.started_ms;
  unsigned& deaths = quick_deaths_[child.slot];
  deaths = lived < kStableMs ? deaths + 1 : 1;
  uint64_t delay = deaths <= 1 ? 0
                               : std::min<uint64_t>(current_->config.crash_policy.max_backoff_ms,
                                                    CrashPolicyConfig::kFirstBackoffMs
                                                        << std::min(deaths - 2, 16u));
  // Never no worker at all: the last one serving is replaced at once, backoff or not (a worker
  // that died before serving is a start-up failure, which backs off whatever happens).
  std::string because;
  if (delay > 0 && child.ready && !serving_worker_left()) {
    delay = 0;
    because = " (the last worker serving)";
  }
  H2_LOG(kError, why + "; respawning" +
                     (delay == 0 ? " now" + because
                                 : " in " + std::to_string(delay) + " ms (" +
                                       std::to_string(deaths) + " quick deaths in a row)"));
  if (delay > 0) close_slot(*current_, child.slot);
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
  // No new connection from now on: the workers close their copies as they start draining, and
  // the master lets go of its own, so a new client is refused at once instead of waiting in a
  // backlog nobody will accept from (nginx closes its listeners the same way).
  std::vector<std::shared_ptr<Generation>> all{current_, pending_};
  for (const auto& [_, c] : children_) all.push_back(c.generation);
  for (const auto& gen : all) {
    if (!gen) continue;
    for (const auto& socket : gen->all_sockets()) socket->close();
  }
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
  auto* markers = map_shared<std::array<std::atomic<int32_t>, kMarkers>>();
  stats_ = map_shared<serve::StatsTable>();
  quarantine_ = map_shared<serve::QuarantineTable>();  // zero-filled: every route serves
  if (signal_fd_ < 0 || markers == nullptr || stats_ == nullptr || quarantine_ == nullptr) {
    std::fprintf(stderr, "h2host: [emerg] cannot set up the master: %s\n", std::strerror(errno));
    return 1;
  }
  markers_ = markers->data();
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
    for (const auto& [_, until] : quarantined_until_) wake = std::min(wake, until);
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
    if (current_ && !stopping_) lift_quarantines(after);
    for (auto it = respawn_due_.begin(); it != respawn_due_.end();) {
      if (stopping_ || !current_ || after < it->second) {
        ++it;
        continue;
      }
      const unsigned slot = it->first;
      if (!rebind_slot(*current_, slot)) {
        it->second = after + 1000;
        ++it;
        continue;
      }
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
