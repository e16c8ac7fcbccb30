// Bearer tokens for end-to-end tests: one signing key per test process (written where
// `medtwin serve --auth-key` reads it) and tokens for any role.
#pragma once

#include <unistd.h>

#include <chrono>
#include <string>
#include <vector>

#include "medtwin/security/token.h"

namespace medtwin::testing_support {

class TestAuth {
 public:
  static const std::string& KeyFile() {
    static const std::string path = [] {
      const std::string p = "/tmp/medtwin_test_" + std::to_string(::getpid()) + ".key";
      std::remove(p.c_str());
      (void)security::WriteKeyFile(Key(), p);
      return p;
    }();
    return path;
  }
  // The tree-head signing key `medtwin serve --audit-key` reads (apart from the token key).
  static const std::string& AuditKeyFile() {
    static const std::string path = [] {
      const std::string p = "/tmp/medtwin_test_" + std::to_string(::getpid()) + ".audit-key";
      std::remove(p.c_str());
      (void)security::WriteKeyFile(*security::GenerateKey(), p);
      return p;
    }();
    return path;
  }
  static std::string Token(security::Role role, const std::string& subject,
                           const std::string& patient = "", std::vector<std::string> scopes = {},
                           std::int64_t ttl_s = 3600) {
    security::Claims c;
    c.role = role;
    c.subject = subject;
    c.patient = patient;
    c.scopes = std::move(scopes);
    c.issued_at_s = NowS();
    c.expires_at_s = c.issued_at_s + ttl_s;
    c.token_id = subject + "-" + std::to_string(++Counter());
    return security::IssueToken(c, Key());
  }
  static const std::string& Admin() {
    static const std::string t = Token(security::Role::kAdmin, "test-admin");
    return t;
  }
  static std::int64_t NowS() {
    return std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  static const security::SigningKey& Key() {
    static const security::SigningKey key = *security::GenerateKey();
    return key;
  }

 private:
  static int& Counter() {
    static int n = 0;
    return n;
  }
};

}  // namespace medtwin::testing_support
