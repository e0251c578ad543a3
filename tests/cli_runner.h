// The fixture of the command-line tests: runs the `linsim` binary in a scratch directory of its
// own and returns exit code, stdout and stderr, so that tests check what a user sees.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "test_util.h"

namespace linsim::test {

struct CliResult {
  int code;         // the exit status, or 128 + the signal that ended the program
  std::string out;
  std::string err;
};

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = make_temp_dir(); }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // `linsim ARGS` through the shell (ARGS may redirect stdin or pipe into linsim).
  CliResult run(const std::string& args) { return shell(std::string(LINSIM_CLI_PATH) + " " + args); }
  // Any shell command line, with its stdout and stderr captured.
  CliResult shell(const std::string& command) {
    const std::string out = path("stdout.txt");
    const std::string err = path("stderr.txt");
    const int status = std::system(("{ " + command + " ; } >" + out + " 2>" + err).c_str());
    const int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return {code, slurp(out), slurp(err)};
  }
  static std::string slurp(const std::string& file) {
    std::ifstream in(file, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  std::string write(const std::string& name, const std::string& text) {
    std::ofstream(path(name), std::ios::binary) << text;
    return path(name);
  }
  // Nothing but the listed entries exist in the scratch directory (no temporaries left).
  void expect_only(std::initializer_list<std::string> names) {
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      const std::string n = entry.path().filename().string();
      if (n == "stdout.txt" || n == "stderr.txt") continue;
      EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << "unexpected output " << n;
    }
  }
  static std::string fixture() { return std::string(LINSIM_TEST_DATA) + "/tiny.tsv"; }

  // `linsim ARGS` as a child of this process, for tests that signal it: not through a shell,
  // which would put SIGINT on ignore for a background job. Returns its process id.
  static pid_t start(const std::vector<std::string>& args) {
    const pid_t pid = fork();
    if (pid == 0) {
      std::vector<char*> argv{const_cast<char*>(LINSIM_CLI_PATH)};
      for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(LINSIM_CLI_PATH, argv.data());
      _exit(127);
    }
    return pid;
  }
  // Sends `sig` to a child from start() and waits for it; returns its wait status.
  static int stop(pid_t pid, int sig) {
    kill(pid, sig);
    int status = 0;
    waitpid(pid, &status, 0);
    return status;
  }
  // Whether `ready` holds within `seconds`, asked every 10 ms.
  static bool wait_for(const std::function<bool()>& ready, double seconds = 5) {
    const auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (!ready()) {
      if (std::chrono::steady_clock::now() > end) return false;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return true;
  }
  // Whether the scratch directory holds an entry whose name starts with `prefix`.
  bool holds_entry_starting(const std::string& prefix) const {
    for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
      if (entry.path().filename().string().rfind(prefix, 0) == 0) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
};

}  // namespace linsim::test
