// A throwaway PostgreSQL server for tests (scripts/pg_test_server.sh), started on first use in
// this test process and stopped when the process's tests end.
#pragma once

#include <gtest/gtest.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <string>

#include "free_port.h"

namespace medtwin::testing_support {

inline std::string Shell(const std::string& cmd) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  std::array<char, 512> buf{};
  while (std::fgets(buf.data(), buf.size(), p) != nullptr) out += buf.data();
  ::pclose(p);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  return out;
}

class PostgresServer : public ::testing::Environment {
 public:
  // libpq connection string ("host=… port=… user=medtwin dbname=medtwin_test").
  static const std::string& Conninfo() {
    if (!started_) {
      started_ = true;
      dir_ = "/tmp/medtwin_pg_" + std::to_string(::getpid());
      std::filesystem::create_directories(dir_);
      std::filesystem::permissions(dir_, std::filesystem::perms::all);
      const std::string port = std::to_string(FreePortBelowEphemeral(3));
      conninfo_ = Shell(std::string(MEDTWIN_SOURCE_DIR) + "/scripts/pg_test_server.sh start " +
                        dir_ + "/pg " + port + " 2>&1");
    }
    return conninfo_;
  }
  // The same server as a postgresql:// URL for --store.
  static std::string Url() {
    const std::string& c = Conninfo();
    auto field = [&](const std::string& key) {
      const auto at = c.find(key + "=");
      if (at == std::string::npos) return std::string();
      const auto end = c.find(' ', at);
      return c.substr(at + key.size() + 1,
                      end == std::string::npos ? std::string::npos : end - at - key.size() - 1);
    };
    return "postgresql://" + field("user") + "@/" + field("dbname") + "?host=" + field("host") +
           "&port=" + field("port");
  }
  static void Truncate() {
    Shell(
        "psql \"" + Conninfo() +
        "\" -q -c 'TRUNCATE observations, patients, patient_versions, events, audit, audit_heads, "
        "trials, locations, revoked_tokens' 2>&1");
  }
  // An outage: the server stops (its data kept) until Resume().
  static void Pause() {
    Shell(std::string(MEDTWIN_SOURCE_DIR) + "/scripts/pg_test_server.sh pause " + dir_ + "/pg");
  }
  static void Resume() {
    const auto at = conninfo_.find("port=");
    const std::string port = conninfo_.substr(at + 5, conninfo_.find(' ', at) - at - 5);
    Shell(std::string(MEDTWIN_SOURCE_DIR) + "/scripts/pg_test_server.sh resume " + dir_ + "/pg " +
          port);
  }
  void TearDown() override {
    if (!started_) return;
    Shell(std::string(MEDTWIN_SOURCE_DIR) + "/scripts/pg_test_server.sh stop " + dir_ + "/pg");
    std::filesystem::remove_all(dir_);
  }

 private:
  static inline bool started_ = false;
  static inline std::string dir_, conninfo_;
};

// A test on both stores: GetParam() "sqlite" (a file `db_file` in a fresh directory) or
// "postgresql" (the process's throwaway server, emptied first). `store_` is the --store URL.
class StoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void OpenStore(const std::string& prefix, const std::string& db_file) {
    dir_ = std::filesystem::temp_directory_path() / (prefix + std::to_string(::getpid()));
    std::filesystem::create_directories(dir_);
    if (GetParam() == "sqlite") {
      store_ = "sqlite:" + (dir_ / db_file).string();
    } else {
      ASSERT_NE(PostgresServer::Conninfo().find("dbname="), std::string::npos);
      PostgresServer::Truncate();
      store_ = PostgresServer::Url();
    }
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
  std::string store_;
};

}  // namespace medtwin::testing_support
