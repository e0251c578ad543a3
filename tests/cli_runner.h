// The fixture of the command-line tests: runs the `linsim` binary in a scratch directory of its
// own and returns exit code, stdout and stderr, so that tests check what a user sees.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <sstream>
#include <string>

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

  std::filesystem::path dir_;
};

}  // namespace linsim::test
