// Consent, the de-identified research cohort and the logs, against the running binary: only
// patients whose consent allows research appear, under pseudonyms, and a withdrawal removes a
// patient from every later export (API and `medtwin export --deidentify`); researchers get
// nothing identifiable and others get no research data; the server's log of the whole run holds
// no patient identifier, name, birth date or token.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../support/pg_server.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::security::Role;
using medtwin::testing_support::Call;
using medtwin::testing_support::Now;
using medtwin::testing_support::ReadAll;
using medtwin::testing_support::Shell;
using medtwin::testing_support::TestAuth;

TEST(Privacy, ConsentGovernsResearchDataAndLogsHoldNoIdentifiers) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_priv_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string bin = std::string(MEDTWIN_BINARY_DIR) + "/medtwin";
  const std::string store = "sqlite:" + (dir / "p.db").string();
  const fs::path log = dir / "serve.log";
  const std::string admin = TestAuth::Admin();
  const std::string started = medtwin::testing_support::StartLogged(
      bin + " serve --listen 127.0.0.1:0 --store " + store + " --auth-key " + TestAuth::KeyFile() +
          " --audit-key " + TestAuth::AuditKeyFile() + " --research-min-k 2",
      log, dir / "pid", "http://127.0.0.1:");
  unsigned short port = 0;
  if (const auto at = started.find("http://127.0.0.1:"); at != std::string::npos) {
    port = static_cast<unsigned short>(std::stoi(started.substr(at + 17)));
  }
  ASSERT_NE(port, 0) << ReadAll(log);

  for (int i = 1; i <= 8; ++i) {
    const std::string id = "priv-" + std::to_string(i);
    ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients",
                   json({{"id", id},
                         {"name", "Zebra Quokka " + std::to_string(i)},
                         {"sex", "female"},
                         {"birth_date", "1980-07-0" + std::to_string(i)}})
                       .dump())
                  .status,
              201u);
    ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/" + id + "/observations",
                   json({{"code", "8867-4"},
                         {"value", 70 + i},
                         {"unit", "/min"},
                         // Older than the export's embargo on recent readings (30-120 days).
                         {"time", Now(200 * 24 * 60)},
                         {"source", "SERIAL-XK" + std::to_string(i)}})
                       .dump())
                  .status,
              200u);
    if (i == 7) continue;  // never consented
    auto c = Call(port, http::verb::put, "/api/v1/patients/" + id + "/consent",
                  R"({"research":true,"share_with":["university-hospital"]})");
    ASSERT_EQ(c.status, 200u) << c.body;
    EXPECT_EQ(c.Json()["research"], true);
  }
  auto withdrawn = Call(port, http::verb::post, "/api/v1/patients/priv-8/consent/withdraw", "{}");
  ASSERT_EQ(withdrawn.status, 200u) << withdrawn.body;
  EXPECT_FALSE(withdrawn.Json()["withdrawn_at"].is_null());
  EXPECT_EQ(Call(port, http::verb::put, "/api/v1/patients/priv-1/consent", R"({"research":"yes"})")
                .Json()["error"]["field"],
            "consent.research");

  const std::string researcher = TestAuth::Token(Role::kResearcher, "res-1");
  auto cohort = [&]() {
    return Call(port, http::verb::get, "/api/v1/research/cohort?k=2", "", "", researcher);
  };
  auto first = cohort();
  ASSERT_EQ(first.status, 200u) << first.body;
  // Below the server's minimum k: refused; a linkable study key is for administrators.
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/research/cohort?k=1", "", "", researcher).status,
            400u);
  EXPECT_EQ(
      Call(port, http::verb::get, "/api/v1/research/cohort?study=s1", "", "", researcher).status,
      403u);
  // Each export's pseudonyms are its own: two exports cannot be joined.
  EXPECT_NE(cohort().Json()["patients"][0]["id"], first.Json()["patients"][0]["id"]);
  const json c1 = first.Json();
  EXPECT_EQ(c1["consenting"], 6);
  EXPECT_EQ(c1["patients"].size(), 6u);
  EXPECT_EQ(c1["observations"].size(), 6u);
  for (const char* identifier : {"priv-", "Zebra", "1980-07", "SERIAL-XK", "university"}) {
    EXPECT_EQ(first.body.find(identifier), std::string::npos) << identifier;
  }
  // Researchers see nothing else; nobody else sees research data.
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients", "", "", researcher).status, 403u);
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/research/cohort", "", "",
                 TestAuth::Token(Role::kClinician, "dr-x"))
                .status,
            403u);
  // Withdrawal takes effect for the next export.
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/priv-1/consent/withdraw", "{}").status,
            200u);
  EXPECT_EQ(cohort().Json()["consenting"], 5);
  // Some bad requests, whose errors must not echo identifiers into the log either.
  (void)Call(port, http::verb::get, "/api/v1/patients/priv-3", "", "", "eyJbroken.token.here");
  (void)Call(port, http::verb::post, "/api/v1/patients/priv-3/observations", "{\"code\":");
  (void)Call(port, http::verb::get, "/api/v1/patients/priv-3/twin", "", "",
             TestAuth::Token(Role::kClinician, "dr-not-on-team"));

  medtwin::testing_support::StopLogged(dir / "pid");
  // The command-line export agrees, from the store.
  const fs::path out = dir / "export";
  const std::string msg = Shell(bin + " export --deidentify --store " + store + " --key " +
                                TestAuth::KeyFile() + " --out " + out.string() + " --k 2 2>&1");
  EXPECT_NE(msg.find("5 of 8 patients"), std::string::npos) << msg;
  const std::string csv = ReadAll(out / "patients.csv");
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 6) << csv;
  const std::string fhir = ReadAll(out / "Observation.ndjson");
  EXPECT_EQ(std::count(fhir.begin(), fhir.end(), '\n'), 5) << fhir;
  for (const auto& file :
       {"patients.csv", "observations.csv", "Patient.ndjson", "Observation.ndjson"}) {
    const std::string text = ReadAll(out / file);
    for (const char* identifier : {"priv-", "Zebra", "1980-07", "SERIAL-XK"}) {
      EXPECT_EQ(text.find(identifier), std::string::npos) << file << ": " << identifier;
    }
  }
  // The log of the whole run.
  const std::string text = ReadAll(log);
  EXPECT_FALSE(text.empty());
  for (const std::string& secret :
       {std::string("priv-"), std::string("Zebra"), std::string("1980-07"),
        std::string("SERIAL-XK"), std::string("eyJ"), admin.substr(0, 40)}) {
    EXPECT_EQ(text.find(secret), std::string::npos) << secret << " in the log:\n" << text;
  }
  fs::remove_all(dir);
}

// Names and birth dates are encrypted in the store with --data-key, readable through the API,
// unreadable without the key (the server refuses to start rather than show ciphertext), and
// `medtwin keys rotate` moves them to a new key.
TEST(Privacy, IdentifiersAreEncryptedAtRestAndKeysRotate) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_enc_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const std::string bin = std::string(MEDTWIN_BINARY_DIR) + "/medtwin";
  const fs::path db = dir / "e.db";
  const std::string store = "sqlite:" + db.string();
  const std::string ring = (dir / "data.keys").string();
  ASSERT_EQ(Shell(bin + " keys new --ring " + ring + " 2>/dev/null; echo $?"), "0");
  auto raw_body = [&]() {
    return Shell("python3 -c \"import sqlite3; print(sqlite3.connect('" + db.string() +
                 "').execute('select body from patients').fetchone()[0])\"");
  };
  {
    medtwin::testing_support::Server server(store, {"--data-key", ring, "--research-min-k", "2"});
    ASSERT_NE(server.port(), 0);
    ASSERT_EQ(Call(server.port(), http::verb::post, "/api/v1/patients",
                   R"({"id":"enc-1","name":"Zebra Quokka","birth_date":"1944-05-06","sex":"male"})")
                  .status,
              201u);
    const json got = Call(server.port(), http::verb::get, "/api/v1/patients/enc-1").Json();
    EXPECT_EQ(got["name"], "Zebra Quokka");
    EXPECT_EQ(got["birth_date"], "1944-05-06");
  }
  std::string body = raw_body();
  EXPECT_EQ(body.find("Zebra"), std::string::npos) << body;
  EXPECT_EQ(body.find("1944"), std::string::npos) << body;
  EXPECT_NE(body.find("enc:v2:"), std::string::npos) << body;
  const std::string first_key = body.substr(body.find("enc:v2:") + 7, 8);
  // Without the key: refused, with the reason.
  const std::string refused =
      Shell(bin + " serve --listen 127.0.0.1:0 --store " + store + " --auth-key " +
            TestAuth::KeyFile() + " --audit-key " + TestAuth::AuditKeyFile() + " 2>&1; echo rc=$?");
  EXPECT_NE(refused.find("--data-key: stored identifiers are encrypted"), std::string::npos)
      << refused;
  EXPECT_NE(refused.find("rc=2"), std::string::npos);
  // Rotate: a new key first, the store re-encrypted, and the old key no longer used.
  ASSERT_EQ(Shell(bin + " keys new --ring " + ring + " 2>/dev/null; echo $?"), "0");
  ASSERT_EQ(Shell(bin + " keys rotate --store " + store + " --data-key " + ring +
                  " 2>/dev/null; echo $?"),
            "0");
  body = raw_body();
  const std::string second_key = body.substr(body.find("enc:v2:") + 7, 8);
  EXPECT_NE(first_key, second_key);
  EXPECT_EQ(body.find(first_key), std::string::npos) << body;
  {
    medtwin::testing_support::Server server(store, {"--data-key", ring, "--research-min-k", "2"});
    ASSERT_NE(server.port(), 0);
    EXPECT_EQ(Call(server.port(), http::verb::get, "/api/v1/patients/enc-1").Json()["name"],
              "Zebra Quokka");
    // Ages for research come from the encrypted birth date.
    ASSERT_EQ(Call(server.port(), http::verb::put, "/api/v1/patients/enc-1/consent",
                   R"({"research":true})")
                  .status,
              200u);
    const json cohort = Call(server.port(), http::verb::get, "/api/v1/research/cohort?k=2").Json();
    EXPECT_EQ(cohort["consenting"], 1);
    EXPECT_EQ(cohort["suppressed"], 1);  // one patient cannot be 2-anonymous
  }
  fs::remove_all(dir);
}

}  // namespace
