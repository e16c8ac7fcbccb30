// Vital signs as the R4 vital-signs profile has them (issue 16): a blood-pressure panel (85354-9
// with 8480-6/8462-4 components) in and out — posted as a panel it comes back as one, with a
// Location it can be read from; readings stored apart (REST) of one time and device are one
// panel in search; the level of consciousness in SNOMED CT; values without binary noise
// (98.6 °F is 37 °C, not 36.99999999999999). Every resource read by the id the server gave.
// The CapabilityStatement is generated from the route table: each search parameter it lists is
// one the endpoint takes, and an instance has `implementation` (cpb-14).
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
using medtwin::testing_support::Now;
using medtwin::testing_support::Server;
using medtwin::testing_support::TestAuth;

json Quantity(double value, const char* code) {
  return {
      {"value", value}, {"unit", code}, {"system", "http://unitsofmeasure.org"}, {"code", code}};
}
json Loinc(const char* code) {
  return {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}};
}

class FhirVitals : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_fhir_vitals_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(FhirVitals, PanelsInAndOutReadByIdSnomedConsciousnessAndNoFloatNoise) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"vs-1"})").status, 201u);
  auto fhir = [&](http::verb method, const std::string& target, const json& body = nullptr) {
    return Call(port, method, "/fhir/r4" + target, body.is_null() ? "" : body.dump(),
                "application/fhir+json");
  };

  // A panel posted comes back as the panel, with Location.
  const json panel = {{"resourceType", "Observation"},
                      {"status", "final"},
                      {"code", Loinc("85354-9")},
                      {"subject", {{"reference", "Patient/vs-1"}}},
                      {"effectiveDateTime", Now(30)},
                      {"component",
                       {{{"code", Loinc("8480-6")}, {"valueQuantity", Quantity(128, "mm[Hg]")}},
                        {{"code", Loinc("8462-4")}, {"valueQuantity", Quantity(79, "mm[Hg]")}}}}};
  auto created = fhir(http::verb::post, "/Observation", panel);
  ASSERT_EQ(created.status, 201u) << created.body;
  const json made = created.Json();
  EXPECT_EQ(made["code"]["coding"][0]["code"], "85354-9");
  ASSERT_EQ(made["component"].size(), 2u);
  EXPECT_EQ(made["component"][0]["code"]["coding"][0]["code"], "8480-6");
  EXPECT_EQ(made["component"][0]["valueQuantity"]["value"], 128);
  EXPECT_EQ(made["component"][1]["valueQuantity"]["value"], 79);
  EXPECT_FALSE(made.contains("valueQuantity"));
  ASSERT_TRUE(created.headers.count("location"));
  const std::string location = created.headers["location"];
  EXPECT_NE(location.find("/fhir/r4/Observation/" + made["id"].get<std::string>()),
            std::string::npos);
  auto read = fhir(http::verb::get, "/Observation/" + made["id"].get<std::string>());
  ASSERT_EQ(read.status, 200u) << read.body;
  EXPECT_EQ(read.Json(), made);

  // Readings stored one by one over REST (same time, same device) are one panel in search; a
  // temperature in °F and the level of consciousness alongside.
  const std::string at = Now(10);
  const json items = json::array(
      {{{"code", "8480-6"}, {"value", 141}, {"unit", "mm[Hg]"}, {"time", at}, {"source", "cuff"}},
       {{"code", "8462-4"}, {"value", 92}, {"unit", "mm[Hg]"}, {"time", at}, {"source", "cuff"}},
       {{"code", "8310-5"}, {"value", 98.6}, {"unit", "[degF]"}, {"time", at}, {"source", "probe"}},
       {{"code", "80288-4"}, {"value", "V"}, {"time", at}, {"source", "nurse"}}});
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/vs-1/observations", items.dump()).status,
            200u);
  auto search = fhir(http::verb::get, "/Observation?patient=vs-1&_sort=-date");
  ASSERT_EQ(search.status, 200u) << search.body;
  const json bundle = search.Json();
  EXPECT_EQ(bundle["total"], 4);  // two panels, a temperature, a consciousness level
  std::map<std::string, json> by_code;
  for (const auto& e : bundle["entry"]) {
    const json& r = e["resource"];
    if (r["code"]["coding"][0]["code"] == "85354-9" && r["effectiveDateTime"] == at) {
      by_code["panel"] = r;
    } else {
      by_code[r["code"]["coding"][0]["code"]] = r;
    }
    // Every entry can be read back by its id, as the same resource.
    auto again = fhir(http::verb::get, "/Observation/" + r["id"].get<std::string>());
    EXPECT_EQ(again.status, 200u) << r["id"];
    EXPECT_EQ(again.Json(), r);
  }
  ASSERT_TRUE(by_code.count("panel")) << bundle.dump();
  EXPECT_EQ(by_code["panel"]["component"][0]["valueQuantity"]["value"], 141);
  EXPECT_EQ(by_code["panel"]["component"][1]["valueQuantity"]["value"], 92);
  EXPECT_EQ(by_code["panel"]["device"]["display"], "cuff");
  // (98.6 − 32)·5/9 in binary is 36.99999999999999…; the value sent out is 37.
  EXPECT_EQ(by_code["8310-5"]["valueQuantity"]["value"].dump(), "37.0");
  const json& acvpu = by_code["80288-4"]["valueCodeableConcept"];
  EXPECT_EQ(acvpu["coding"][0]["system"], "http://snomed.info/sct");
  EXPECT_EQ(acvpu["coding"][0]["code"], "300202002");  // responds to voice (HL7 UK ACVPU)
  EXPECT_EQ(acvpu["text"], "V");
  // code=8480-6 alone finds the systolic readings as themselves; 85354-9 finds the panels.
  EXPECT_EQ(fhir(http::verb::get, "/Observation?patient=vs-1&code=8480-6").Json()["total"], 2);
  const json panels = fhir(http::verb::get, "/Observation?patient=vs-1&code=85354-9").Json();
  EXPECT_EQ(panels["total"], 2);
  EXPECT_EQ(panels["entry"][0]["resource"]["code"]["coding"][0]["code"], "85354-9");

  // Ids the server never gave are 404; a reading of a patient the caller may not see is refused
  // (403) as any of that patient's data is.
  EXPECT_EQ(fhir(http::verb::get, "/Observation/nonsense").status, 404u);
  EXPECT_EQ(
      fhir(http::verb::get, "/Observation/o.00000000.8867-4.0000000000000000.00000000").status,
      404u);
  const std::string other =
      TestAuth::Token(medtwin::security::Role::kPatient, "someone-else", "someone-else");
  auto refused =
      Call(port, http::verb::get, "/fhir/r4/Observation/" + made["id"].get<std::string>(), "",
           "application/json", other);
  EXPECT_EQ(refused.status, 403u) << refused.body;
}

TEST_F(FhirVitals, CapabilityStatementListsWhatTheEndpointDoes) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  const auto port = server.port();
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"vs-2"})").status, 201u);
  const json cs =
      Call(port, http::verb::get, "/fhir/r4/metadata", "", "application/json", "").Json();
  EXPECT_EQ(cs["kind"], "instance");
  EXPECT_TRUE(cs["implementation"]["url"].is_string());  // cpb-14
  EXPECT_NE(cs["date"], "2026-11-25");                   // not a date written in the code
  EXPECT_EQ(cs["rest"][0]["security"]["service"][0]["coding"][0]["code"], "SMART-on-FHIR");
  std::set<std::string> interactions;
  int searched = 0;
  for (const auto& r : cs["rest"][0]["resource"]) {
    for (const auto& i : r["interaction"]) {
      interactions.insert(r["type"].get<std::string>() + " " + i["code"].get<std::string>());
    }
    // Every listed search parameter is taken (not refused as unknown) by the search itself.
    for (const auto& p : r.value("searchParam", json::array())) {
      const std::string name = p["name"];
      std::string value = p["type"] == "date" ? "ge2020-01-01" : "vs-2";
      if (name == "gender") value = "female";
      if (p["type"] == "number") value = "5";
      if (name == "_sort") {
        const std::string type = r["type"];
        value = type == "MedicationAdministration" ? "-effective-time"
                : type == "MedicationRequest"      ? "-authoredon"
                : type == "DetectedIssue"          ? "-identified"
                                                   : "-date";
      }
      if (name == "_summary") value = "count";
      if (name == "_include") value = "Observation:patient";
      if (name == "code") value = "8867-4";
      if (name == "category") value = "vital-signs";
      if (name == "identifier") value = "urn:x|1";
      std::string target = "/fhir/r4/" + r["type"].get<std::string>() + "?" + name + "=" + value;
      if (name != "patient" && name != "subject" && r["type"] != "Patient" &&
          r["type"] != "AuditEvent" && r["type"] != "Location") {
        target += "&patient=vs-2";
      }
      const auto reply = Call(port, http::verb::get, target);
      EXPECT_EQ(reply.status, 200u) << target << ": " << reply.body.substr(0, 300);
      ++searched;
    }
    EXPECT_FALSE(r.contains("searchParam") && r["searchParam"].empty()) << r["type"];
  }
  for (const char* expected :
       {"Patient read", "Patient search-type", "Patient create", "Patient update",
        "Observation read", "Observation create", "Observation search-type", "Encounter create",
        "Encounter update", "Location read", "Location update", "Location search-type"}) {
    EXPECT_TRUE(interactions.count(expected)) << expected;
  }
  EXPECT_EQ(cs["rest"][0]["interaction"][0]["code"], "transaction");
  EXPECT_GT(searched, 20);  // Patient 7, Observation 9, and patient/subject on four more
  // Paging's own cursor is this server's, not a parameter to advertise.
  EXPECT_EQ(cs.dump().find("_cursor"), std::string::npos);
}

}  // namespace
