// The audit trail against the running binary, on SQLite and a real PostgreSQL: every access
// (allowed, refused, unauthenticated) is recorded with who, role, what, which patient, outcome
// and from where; `medtwin audit verify` passes on the untouched ledger, and when records are
// altered, deleted, reordered or cut off, or a tree head is forged, directly in the store, it
// names the first bad record; an inclusion proof checks out in an independent Python
// implementation (hashlib for RFC 6962/9162, cryptography for Ed25519).
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <filesystem>
#include <fstream>

#include "../support/pg_server.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::security::Role;
using medtwin::testing_support::Call;
using medtwin::testing_support::Now;
using medtwin::testing_support::PostgresServer;
using medtwin::testing_support::Server;
using medtwin::testing_support::Shell;
using medtwin::testing_support::TestAuth;

class AuditE2e : public medtwin::testing_support::StoreTest {
 protected:
  void SetUp() override { OpenStore("medtwin_audit_", "a.db"); }

  // One SQL statement straight into the store, as an intruder with database access would.
  void Sql(const std::string& statement) {
    if (GetParam() == "sqlite") {
      sqlite3* db = nullptr;
      ASSERT_EQ(sqlite3_open((dir_ / "a.db").c_str(), &db), SQLITE_OK);
      char* err = nullptr;
      EXPECT_EQ(sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err), SQLITE_OK)
          << (err != nullptr ? err : "") << " in " << statement;
      sqlite3_free(err);
      sqlite3_close(db);
    } else {
      const fs::path file = dir_ / "statement.sql";  // no shell quoting of the SQL
      std::ofstream(file) << statement << ";\n";
      const std::string out = Shell("psql \"" + PostgresServer::Conninfo() +
                                    "\" -q -v ON_ERROR_STOP=1 -f " + file.string() + " 2>&1");
      EXPECT_TRUE(out.empty()) << out << " in " << statement;
    }
  }
  // `medtwin audit verify`: (exit code, report).
  std::pair<int, json> Verify() {
    const std::string out =
        Shell(std::string(MEDTWIN_BINARY_DIR) + "/medtwin audit verify --store '" + store_ +
              "' --key " + TestAuth::AuditKeyFile() + " 2>/dev/null; echo \"rc=$?\"");
    const auto at = out.rfind("rc=");
    return {std::stoi(out.substr(at + 3)), json::parse(out.substr(0, at), nullptr, false)};
  }
};

TEST_P(AuditE2e, EveryAccessIsRecordedAndEveryTamperingIsFound) {
  {
    Server server(store_);
    const auto port = server.port();
    ASSERT_NE(port, 0);
    ASSERT_EQ(
        Call(port, http::verb::post, "/api/v1/patients", R"({"id":"pa","care_team":["dr-a"]})")
            .status,
        201u);
    ASSERT_EQ(
        Call(port, http::verb::post, "/api/v1/patients/pa/observations",
             json({{"code", "8867-4"}, {"value", 90}, {"unit", "/min"}, {"time", Now(1)}}).dump(),
             "application/json", TestAuth::Token(Role::kClinician, "dr-a"))
            .status,
        200u);
    EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients/pa/twin", "", "",
                   TestAuth::Token(Role::kClinician, "dr-b"))
                  .status,
              403u);
    EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients/pa", "", "", "").status, 401u);
    EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients/pa/twin").status, 200u);
    // The ledger over the API: administrators only.
    EXPECT_EQ(Call(port, http::verb::get, "/api/v1/audit", "", "",
                   TestAuth::Token(Role::kClinician, "dr-a"))
                  .status,
              403u);
    const json recent = Call(port, http::verb::get, "/api/v1/audit?limit=10").Json();
    ASSERT_GE(recent.size(), 5u);
    const json live = Call(port, http::verb::get, "/api/v1/audit/verify").Json();
    EXPECT_EQ(live["ok"], true) << live.dump();
    const json events = Call(port, http::verb::get, "/fhir/r4/AuditEvent?_count=3").Json();
    ASSERT_EQ(events["entry"].size(), 3u);
    EXPECT_GT(events["total"], 3);  // every match is counted; the page holds the newest three
    EXPECT_GE(events["entry"][0]["resource"]["recorded"].get<std::string>(),
              events["entry"][2]["resource"]["recorded"].get<std::string>());
    EXPECT_EQ(events["entry"][0]["resource"]["resourceType"], "AuditEvent");
  }  // SIGTERM: the last records are stored and a final tree head signed

  auto [rc, report] = Verify();
  ASSERT_EQ(rc, 0) << report.dump();
  const std::uint64_t n = report["records"];
  ASSERT_GE(n, 8u);
  EXPECT_GE(report["tree_heads_checked"].get<int>(), 1);
  // What was recorded: read the records back through the export.
  const std::string ndjson = (dir_ / "audit.ndjson").string();
  ASSERT_EQ(Shell(std::string(MEDTWIN_BINARY_DIR) + "/medtwin audit export --store '" + store_ +
                  "' --out " + ndjson + " >/dev/null 2>&1; echo $?"),
            "0");
  std::vector<json> records;
  {
    std::ifstream in(ndjson);
    for (std::string line; std::getline(in, line);) records.push_back(json::parse(line));
  }
  ASSERT_EQ(records.size(), n);
  auto find = [&](const std::string& who, const std::string& outcome_desc) -> const json* {
    for (const auto& r : records) {
      if (r["agent"][0]["who"]["display"] == who &&
          r["outcomeDesc"].get<std::string>().find(outcome_desc) != std::string::npos) {
        return &r;
      }
    }
    return nullptr;
  };
  const json* created = find("test-admin", "POST /api/v1/patients → 201");
  ASSERT_NE(created, nullptr);
  EXPECT_EQ((*created)["entity"][0]["what"]["reference"], "Patient/pa");
  EXPECT_EQ((*created)["agent"][0]["network"]["address"], "127.0.0.1");
  const json* refused = find("dr-b", "GET /api/v1/patients/{id}/twin → 403");
  ASSERT_NE(refused, nullptr);
  EXPECT_EQ((*refused)["entity"][0]["what"]["reference"], "Patient/pa");
  EXPECT_EQ((*refused)["outcome"], "4");
  EXPECT_NE(find("", "GET /api/v1/patients/{id} → 401"), nullptr);
  EXPECT_NE(find("dr-a", "POST /api/v1/patients/{id}/observations → 200"), nullptr);

  // An inclusion proof, checked by an independent implementation.
  const std::string proof =
      Shell(std::string(MEDTWIN_BINARY_DIR) + "/medtwin audit proof --store '" + store_ +
            "' --key " + TestAuth::AuditKeyFile() + " --seq 2");
  std::ofstream(dir_ / "proof.json") << proof;
  std::ofstream(dir_ / "check.py") << R"py(
import hashlib, json, sys
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
p = json.load(open(sys.argv[1]))
H = lambda b: hashlib.sha256(b).digest()
leaf = H(b"\x00" + json.dumps(p["record"], separators=(",", ":"), sort_keys=True,
                              ensure_ascii=False).encode())
assert leaf.hex() == p["leaf_hash"], "leaf hash"
fn, sn, r = p["leaf_index"], p["tree_size"] - 1, leaf
for h in p["inclusion_path"]:
    h = bytes.fromhex(h)
    assert sn != 0
    if fn & 1 or fn == sn:
        r = H(b"\x01" + h + r)
        while not fn & 1 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        r = H(b"\x01" + r + h)
    fn >>= 1; sn >>= 1
assert sn == 0 and r.hex() == p["root"], "inclusion"
msg = "medtwin-audit-tree-head-v1\n%d\n%s\n%d" % (p["tree_size"], p["root"], p["tree_head_time_us"])
Ed25519PublicKey.from_public_bytes(bytes.fromhex(p["public_key"])).verify(
    bytes.fromhex(p["tree_head_signature"]), msg.encode())
print("proof ok")
)py";
  EXPECT_EQ(Shell("python3 " + (dir_ / "check.py").string() + " " + (dir_ / "proof.json").string() +
                  " 2>&1"),
            "proof ok")
      << proof;

  // Tampering, each undone afterwards (the ledger verifies again, so each undo was exact).
  const std::uint64_t k = 3;
  auto expect_found = [&](const std::string& what, std::uint64_t bad, const std::string& words) {
    auto [code, r] = Verify();
    EXPECT_EQ(code, 1) << what << ": " << r.dump();
    EXPECT_EQ(r["first_bad_record"], bad) << what << ": " << r.dump();
    EXPECT_NE(r["problem"].get<std::string>().find(words), std::string::npos)
        << what << ": " << r.dump();
  };
  auto expect_clean = [&](const std::string& after) {
    auto [code, r] = Verify();
    EXPECT_EQ(code, 0) << "after undoing " << after << ": " << r.dump();
  };
  const std::string seq = std::to_string(k), next = std::to_string(k + 1),
                    last = std::to_string(n - 1);
  // 1. Altered: a refused access rewritten as allowed.
  Sql("UPDATE audit SET body = replace(body, '\"outcome\":', '\"outcome\":1') WHERE seq = " + seq);
  expect_found("altered", k, "altered");
  Sql("UPDATE audit SET body = replace(body, '\"outcome\":1', '\"outcome\":') WHERE seq = " + seq);
  expect_clean("the alteration");
  // 2. Deleted.
  Sql("CREATE TABLE saved AS SELECT * FROM audit WHERE seq = " + seq);
  Sql("DELETE FROM audit WHERE seq = " + seq);
  expect_found("deleted", k, "missing (removed)");
  Sql("INSERT INTO audit SELECT * FROM saved");
  Sql("DROP TABLE saved");
  expect_clean("the deletion");
  // 3. Reordered: two records' places swapped.
  Sql("UPDATE audit SET seq = -1 WHERE seq = " + seq);
  Sql("UPDATE audit SET seq = " + seq + " WHERE seq = " + next);
  Sql("UPDATE audit SET seq = " + next + " WHERE seq = -1");
  expect_found("reordered", k, "reordered");
  Sql("UPDATE audit SET seq = -1 WHERE seq = " + seq);
  Sql("UPDATE audit SET seq = " + seq + " WHERE seq = " + next);
  Sql("UPDATE audit SET seq = " + next + " WHERE seq = -1");
  expect_clean("the reordering");
  // 4. The newest record cut off.
  Sql("CREATE TABLE saved AS SELECT * FROM audit WHERE seq = " + last);
  Sql("DELETE FROM audit WHERE seq = " + last);
  expect_found("truncated", n - 1, "missing");
  Sql("INSERT INTO audit SELECT * FROM saved");
  Sql("DROP TABLE saved");
  expect_clean("the truncation");
  // 5. The newest record altered (no successor chains to it: the signed head catches it).
  Sql("UPDATE audit SET body = replace(body, '\"outcome\":', '\"outcome\":1') WHERE seq = " + last);
  expect_found("last altered", n - 1, "differs from its signed tree head");
  Sql("UPDATE audit SET body = replace(body, '\"outcome\":1', '\"outcome\":') WHERE seq = " + last);
  expect_clean("the last alteration");
  // 6. A forged tree head.
  Sql("UPDATE audit_heads SET signature = replace(signature, substr(signature, 1, 2), 'ff') "
      "WHERE size = (SELECT max(size) FROM audit_heads) AND substr(signature, 1, 2) <> 'ff'");
  auto [code, forged] = Verify();
  EXPECT_EQ(code, 1) << forged.dump();
  EXPECT_NE(forged["problem"].get<std::string>().find("bad signature"), std::string::npos)
      << forged.dump();
}

// Finding: deleting the ledger's tail (records and the heads over them) passed verification,
// and whoever held the token secret could rewrite and re-sign it. Now the heads are signed by a
// key of its own; a witness keeps the heads it saw and checks each new one against the last
// with an RFC 6962 consistency proof (checked here by an independent Python implementation of
// RFC 9162 §2.1.4.2); `verify --heads` fails on a store shorter than, or different from, any
// kept head — even when the store's own heads were rewritten with the real key.
TEST_P(AuditE2e, AWitnessCatchesTruncationAndRewrittenHistory) {
  const std::string bin = std::string(MEDTWIN_BINARY_DIR) + "/medtwin";
  const std::string pub = Shell(bin + " audit pubkey --key " + TestAuth::AuditKeyFile());
  ASSERT_EQ(pub.size(), 64u) << pub;
  const std::string heads = (dir_ / "heads.jsonl").string();
  auto witness = [&](unsigned short port) {
    return Shell(bin + " audit witness --url http://127.0.0.1:" + std::to_string(port) +
                 " --token " + TestAuth::Admin() + " --public-key " + pub + " --out " + heads +
                 " --count 1 2>&1; echo rc=$?");
  };
  auto verify = [&](bool with_heads) {
    return Shell(bin + " audit verify --store '" + store_ + "' --public-key " + pub +
                 (with_heads ? " --heads " + heads : std::string()) + " 2>&1; echo rc=$?");
  };
  auto requests = [&](unsigned short port, int n) {
    for (int i = 0; i < n; ++i) {
      ASSERT_EQ(Call(port, http::verb::get, "/api/v1/patients").status, 200u);
    }
  };
  std::uint64_t kept_size = 0;
  {
    Server server(store_);
    const auto port = server.port();
    ASSERT_NE(port, 0);
    requests(port, 5);
    std::string out = witness(port);
    ASSERT_NE(out.find("rc=0"), std::string::npos) << out;
    requests(port, 7);
    out = witness(port);
    ASSERT_NE(out.find("rc=0"), std::string::npos) << out;
    ASSERT_NE(out.find("consistent"), std::string::npos) << out;
    // The proof between the two kept heads, checked by an independent implementation.
    std::ifstream in(heads);
    std::string l1, l2;
    std::getline(in, l1);
    std::getline(in, l2);
    const json h1 = json::parse(l1), h2 = json::parse(l2);
    kept_size = h2["size"];
    const auto proof =
        Call(port, http::verb::get,
             "/api/v1/audit/consistency?first=" + std::to_string(h1["size"].get<int>()) +
                 "&second=" + std::to_string(h2["size"].get<int>()));
    ASSERT_EQ(proof.status, 200u) << proof.body;
    std::ofstream(dir_ / "consistency.json")
        << json({{"first", h1}, {"second", h2}, {"proof", proof.Json()["proof"]}}).dump();
    std::ofstream(dir_ / "consistency.py") << R"py(
import hashlib, json, sys
c = json.load(open(sys.argv[1]))
H = lambda b: hashlib.sha256(b).digest()
m, n = c["first"]["size"], c["second"]["size"]
path = [bytes.fromhex(h) for h in c["proof"]]
r1, r2 = bytes.fromhex(c["first"]["root"]), bytes.fromhex(c["second"]["root"])
if m & (m - 1) == 0:
    path = [r1] + path
fn, sn = m - 1, n - 1
while fn & 1:
    fn >>= 1; sn >>= 1
fr = sr = path[0]
for x in path[1:]:
    assert sn != 0
    if fn & 1 or fn == sn:
        fr = H(b"\x01" + x + fr); sr = H(b"\x01" + x + sr)
        while not fn & 1 and fn != 0:
            fn >>= 1; sn >>= 1
    else:
        sr = H(b"\x01" + sr + x)
    fn >>= 1; sn >>= 1
assert fr == r1 and sr == r2 and sn == 0, "inconsistent"
print("consistent")
)py";
    EXPECT_EQ(Shell("python3 " + (dir_ / "consistency.py").string() + " " +
                    (dir_ / "consistency.json").string() + " 2>&1"),
              "consistent");
    server.Stop(SIGTERM);
  }
  ASSERT_NE(verify(true).find("rc=0"), std::string::npos) << verify(true);
  // Truncation: the tail of the records and the heads over it are deleted. The store alone
  // still verifies; against the witness's heads it does not.
  Sql("DELETE FROM audit WHERE seq >= " + std::to_string(kept_size - 3));
  Sql("DELETE FROM audit_heads WHERE size > " + std::to_string(kept_size - 3));
  EXPECT_NE(verify(false).find("rc=0"), std::string::npos) << verify(false);
  const std::string truncated = verify(true);
  EXPECT_NE(truncated.find("rc=1"), std::string::npos) << truncated;
  EXPECT_NE(truncated.find("missing"), std::string::npos) << truncated;
  // Rewritten history, signed with the real key: the ledger is emptied and the server started
  // again makes a fresh one that grows past the kept head. Its heads are validly signed, so the
  // store verifies alone; the witness finds the new tree does not extend the one it kept.
  Sql("DELETE FROM audit");
  Sql("DELETE FROM audit_heads");
  {
    Server server(store_);
    const auto port = server.port();
    ASSERT_NE(port, 0);
    requests(port, static_cast<int>(kept_size) + 5);
    const std::string out = witness(port);
    EXPECT_NE(out.find("rc=1"), std::string::npos) << out;
    EXPECT_NE(out.find("INCONSISTENT"), std::string::npos) << out;
    server.Stop(SIGTERM);
  }
  EXPECT_NE(verify(false).find("rc=0"), std::string::npos);
  const std::string rewritten = verify(true);
  EXPECT_NE(rewritten.find("rc=1"), std::string::npos) << rewritten;
  EXPECT_NE(rewritten.find("altered"), std::string::npos) << rewritten;
  // The token secret no longer signs the ledger: a head signed with the key earlier versions
  // derived from it does not verify.
  const std::string wrong = Shell(bin + " audit verify --store '" + store_ + "' --public-key " +
                                  std::string(64, 'a') + " 2>&1; echo rc=$?");
  EXPECT_NE(wrong.find("rc=1"), std::string::npos) << wrong;
}

INSTANTIATE_TEST_SUITE_P(Stores, AuditE2e, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

}  // namespace
