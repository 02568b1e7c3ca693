// The pid file (`pid:`), and `h2host -s stop|quit|reload|reopen` through it (nginx's -s).
#pragma once

#include <filesystem>
#include <string>

namespace h2::host {

// Writes this process's pid (then a newline). Returns an error message, empty on success.
std::string write_pid_file(const std::filesystem::path& path);
// Removes the file if it still names this process (a newer h2host may have replaced it).
void remove_pid_file(const std::filesystem::path& path);
// Sends the signal `name` stands for (stop TERM, quit QUIT, reload HUP, reopen USR1) to the pid
// in `path`. Returns an error message, empty on success.
std::string signal_running(const std::filesystem::path& path, const std::string& name);

}  // namespace h2::host
