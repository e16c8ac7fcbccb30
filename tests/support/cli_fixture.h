// A test fixture that runs the built `medtwin` binary the way a user does, in a temporary
// directory of its own: exit code and stderr back, stdout discarded.
#pragma once

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace medtwin::testing_support {

class CliFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("medtwin_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Runs `medtwin ARGS`; returns the exit code and puts stderr in *err.
  int Run(const std::string& args, std::string* err) {
    const std::string cmd = std::string(MEDTWIN_BINARY_DIR) + "/medtwin " + args + " 2>" +
                            (dir_ / "err").string() + " >/dev/null";
    const int status = std::system(cmd.c_str());
    *err = Read(dir_ / "err");
    return WEXITSTATUS(status);
  }
  static std::string Read(const std::filesystem::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }
  std::filesystem::path dir_;
};

}  // namespace medtwin::testing_support
