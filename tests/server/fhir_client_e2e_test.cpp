// FHIR as an outside client uses it (issue 16): npm's fhir-kit-client (tests/interop/
// fhir_workflows.mjs) runs a transaction with urn:uuid references, conditional create twice,
// search paging to the end and read / update with If-Match / vread / history against the real
// binary; this test asserts what the client saw. Patient versions are also checked to survive a
// restart, and an HL7 ADT update to be a version like any other change.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::ReadAll;
using medtwin::testing_support::Server;
using medtwin::testing_support::TestAuth;

class FhirClient : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_fhir_client_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FhirClient, AnEhrIntegrationsWorkflowsThroughFhirKitClient) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  ASSERT_NE(server.port(), 0);
  const std::string command = "cd " + std::string(MEDTWIN_SOURCE_DIR) +
                              "/tests/interop && node fhir_workflows.mjs http://127.0.0.1:" +
                              std::to_string(server.port()) + "/fhir/r4 " + TestAuth::Admin() +
                              " > " + (dir_ / "out.json").string() + " 2> " +
                              (dir_ / "err.txt").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadAll(dir_ / "err.txt");
  const json out = json::parse(ReadAll(dir_ / "out.json"), nullptr, false);
  ASSERT_TRUE(out.is_object()) << ReadAll(dir_ / "out.json") << ReadAll(dir_ / "err.txt");

  EXPECT_EQ(out["transaction_type"], "transaction-response");
  ASSERT_EQ(out["transaction_statuses"].size(), 26u);
  for (const auto& s : out["transaction_statuses"])
    EXPECT_EQ(s.get<std::string>().substr(0, 3), "201");

  EXPECT_EQ(out["conditional_statuses"], json::array({201, 200}));
  EXPECT_TRUE(out["conditional_same_id"].get<bool>());
  EXPECT_EQ(out["conditional_matches"], 1);

  EXPECT_EQ(out["search_total"], 25);
  EXPECT_EQ(out["search_pages"], 3);
  std::vector<int> expected;
  for (int i = 0; i < 25; ++i) expected.push_back(60 + i);  // oldest first
  EXPECT_EQ(out["search_values"].get<std::vector<int>>(), expected);
  EXPECT_EQ(out["search_values_backward"].get<std::vector<int>>(), expected);

  EXPECT_EQ(out["read_version"], "1");
  EXPECT_EQ(out["read_etag"], "W/\"1\"");
  EXPECT_EQ(out["update_version"], "2");
  EXPECT_EQ(out["stale_update_status"], 412);
  EXPECT_EQ(out["vread_1_gender"], "male");
  EXPECT_EQ(out["history_type"], "history");
  EXPECT_EQ(out["history_versions"], json::array({"2", "1"}));
  EXPECT_EQ(out["after_gender"], "other");  // the stale update changed nothing
}

TEST_F(FhirClient, VersionsSurviveARestartAndEveryChangeIsOne) {
  const std::string store = "sqlite:" + (dir_ / "twin.db").string();
  auto fhir = [](unsigned short port, http::verb method, const std::string& target,
                 const json& body = nullptr, std::map<std::string, std::string> headers = {}) {
    return Call(port, method, "/fhir/r4" + target, body.is_null() ? "" : body.dump(),
                "application/fhir+json", TestAuth::Admin(), headers);
  };
  {
    Server server(store);
    const json patient = {{"resourceType", "Patient"}, {"id", "ver-1"}, {"gender", "female"}};
    auto created = fhir(server.port(), http::verb::put, "/Patient/ver-1", patient);
    ASSERT_EQ(created.status, 201u) << created.body;
    EXPECT_NE(created.headers["location"].find("/fhir/r4/Patient/ver-1/_history/1"),
              std::string::npos);
    EXPECT_FALSE(created.headers["last-modified"].empty());
    // A change through the REST API is a version too.
    ASSERT_EQ(
        Call(server.port(), http::verb::patch, "/api/v1/patients/ver-1", R"({"weight_kg": 71})")
            .status,
        200u);
    json second = patient;
    second["gender"] = "other";
    auto updated =
        fhir(server.port(), http::verb::put, "/Patient/ver-1", second, {{"If-Match", "W/\"2\""}});
    ASSERT_EQ(updated.status, 200u) << updated.body;
    EXPECT_EQ(updated.headers["etag"], "W/\"3\"");
    EXPECT_EQ(
        fhir(server.port(), http::verb::put, "/Patient/ver-1", second, {{"If-Match", "W/\"2\""}})
            .status,
        412u);
    EXPECT_EQ(fhir(server.port(), http::verb::put, "/Patient/ver-1", second,
                   {{"If-Match", "not a version"}})
                  .status,
              400u);
  }
  Server again(store);
  const json history = fhir(again.port(), http::verb::get, "/Patient/ver-1/_history").Json();
  ASSERT_EQ(history["entry"].size(), 3u) << history.dump();
  EXPECT_EQ(history["entry"][0]["resource"]["meta"]["versionId"], "3");
  EXPECT_EQ(history["entry"][0]["response"]["etag"], "W/\"3\"");
  EXPECT_EQ(history["entry"][2]["request"]["method"], "POST");
  const json v1 = fhir(again.port(), http::verb::get, "/Patient/ver-1/_history/1").Json();
  EXPECT_EQ(v1["gender"], "female");
  EXPECT_EQ(v1["meta"]["versionId"], "1");
  EXPECT_EQ(fhir(again.port(), http::verb::get, "/Patient/ver-1/_history/7").status, 404u);
  EXPECT_EQ(fhir(again.port(), http::verb::get, "/Patient/ver-1").headers["etag"], "W/\"3\"");
}

}  // namespace
