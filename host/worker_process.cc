#include "host/worker_process.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstring>

#include "host/address_limit.h"
#include "host/server.h"
#include "host/startup.h"
#include "serve/host_fields.h"
#include "serve/log.h"
#include "serve/running_route.h"

namespace h2::host {
namespace {

void report(int fd, char kind, const std::string& text) {
  std::string record = kind + text + (kind == 'E' ? "" : "\n");
  const char* at = record.data();
  size_t left = record.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, at, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;  // the master went away: nothing to tell
    at += n;
    left -= static_cast<size_t>(n);
  }
}

[[noreturn]] void fail(int fd, const std::string& message) {
  report(fd, 'E', message);
  std::fflush(nullptr);
  ::_exit(1);
}

}  // namespace

std::string drop_privileges(const std::string& user, const std::string& group) {
  if (user.empty() && group.empty()) return {};
  if (::geteuid() != 0) return {};  // the master warned once: not root, nothing to drop
  const passwd* pw = user.empty() ? nullptr : ::getpwnam(user.c_str());
  if (!user.empty() && pw == nullptr) return "user \"" + user + "\" does not exist";
  gid_t gid = pw != nullptr ? pw->pw_gid : ::getgid();
  if (!group.empty()) {
    const struct group* gr = ::getgrnam(group.c_str());
    if (gr == nullptr) return "group \"" + group + "\" does not exist";
    gid = gr->gr_gid;
  }
  if (::setgid(gid) != 0) return std::string("setgid: ") + std::strerror(errno);
  if (pw != nullptr ? ::initgroups(pw->pw_name, gid) != 0 : ::setgroups(0, nullptr) != 0) {
    return std::string("initgroups: ") + std::strerror(errno);
  }
  if (pw != nullptr && ::setuid(pw->pw_uid) != 0) {
    return std::string("setuid: ") + std::strerror(errno);
  }
  return {};
}

void run_worker_process(WorkerLaunch launch) {
  // The master blocked its signals for its signalfd; a worker takes them back. HUP and USR1
  // are ignored until the serving loop handles them (a reopen sent while modules load must not
  // kill the worker); a dying master takes its workers with it.
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
  std::signal(SIGHUP, SIG_IGN);
  std::signal(SIGUSR1, SIG_IGN);
  ::prctl(PR_SET_PDEATHSIG, SIGTERM);
  serve::Log::set_generation(launch.generation);
  serve::set_running_route_marker(launch.route_marker);
  serve::set_quarantine_table(launch.quarantine, launch.generation);
  use_address_rows(launch.index);
  if (launch.stats != nullptr) {
    launch.stats_slot->generation.store(launch.generation);
    launch.stats_slot->pid.store(static_cast<int32_t>(::getpid()));
    serve::attach_stats(launch.stats, launch.stats_slot);
  }
  const HostConfig& config = *launch.config;
  const int fd = launch.report_fd;
  int code = 0;
  {
    std::string error;
    auto snapshot = build_snapshot(config, &error,
                                   [fd](const std::string& step) { report(fd, 'P', step); });
    if (!snapshot) fail(fd, error);
    serve::set_server_header(snapshot->config.server_header);
    for (auto& socket : launch.sockets) {
      if (socket) socket->disown_path();  // the master's to remove (null: a tap listener of slot 0)
    }
    Server server(snapshot, nullptr, ServerRole::kWorkerProcess);
    server.wait_for_busy_tap(launch.generation > 1);  // the previous generation lets go
    if (error = server.adopt(std::move(launch.sockets)); !error.empty()) fail(fd, error);
    if (error = drop_privileges(config.user, config.group); !error.empty()) fail(fd, error);
    report(fd, 'R', "");
    ::close(fd);
    code = server.run();
  }
  std::fflush(nullptr);
  ::_exit(code);  // never back into the master's stack (its objects are the master's to end)
}

}  // namespace h2::host
