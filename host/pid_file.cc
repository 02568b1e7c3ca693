#include "host/pid_file.h"

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fstream>

namespace h2::host {
namespace {

pid_t read_pid(const std::filesystem::path& path) {
  std::ifstream in(path);
  long pid = 0;
  return (in >> pid) && pid > 0 ? static_cast<pid_t>(pid) : -1;
}

}  // namespace

std::string write_pid_file(const std::filesystem::path& path) {
  const std::filesystem::path partial = path.string() + ".partial";
  {
    std::ofstream out(partial, std::ios::trunc);
    out << ::getpid() << '\n';
    if (!out) return "cannot write the pid file \"" + path.string() + "\": " + std::strerror(errno);
  }
  std::error_code ec;
  std::filesystem::rename(partial, path, ec);  // readers never see a half-written file
  if (ec) return "cannot write the pid file \"" + path.string() + "\": " + ec.message();
  return {};
}

void remove_pid_file(const std::filesystem::path& path) {
  if (read_pid(path) == ::getpid()) ::unlink(path.c_str());
}

std::string signal_running(const std::filesystem::path& path, const std::string& name) {
  int signal = 0;
  if (name == "stop") signal = SIGTERM;
  else if (name == "quit") signal = SIGQUIT;
  else if (name == "reload") signal = SIGHUP;
  else if (name == "reopen") signal = SIGUSR1;
  else return "invalid signal \"" + name + "\" (stop, quit, reload or reopen)";
  const pid_t pid = read_pid(path);
  if (pid < 0) return "no valid pid in \"" + path.string() + "\" (is h2host running?)";
  if (::kill(pid, signal) != 0) {
    return "kill(" + std::to_string(pid) + ", SIG" + sigabbrev_np(signal) +
           ") failed: " + std::strerror(errno);
  }
  return {};
}

}  // namespace h2::host
