// HL7's own R4 examples (npm hl7.fhir.r4.examples 4.0.1, the files published with the
// specification; tests/interop) sent to a running server as an EHR would send them (issue 16):
// every Patient, Location and Encounter example, the vital-signs Observations and the
// MedicationAdministrations. Each is either stored and read back with what medtwin keeps equal
// to what was sent, or refused with an OperationOutcome naming the element (an Observation
// code medtwin has no use for; a dose not given). The specification's transaction example
// (DELETE, an operation, a conditional update on an unknown version) is refused whole, with
// nothing stored.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::Reply;
using medtwin::testing_support::Server;

const fs::path kExamples =
    fs::path(MEDTWIN_SOURCE_DIR) / "tests/interop/node_modules/hl7.fhir.r4.examples";

json Example(const std::string& name) {
  std::ifstream in(kExamples / name);
  return json::parse(in, nullptr, false);
}

std::vector<std::string> Named(const std::string& prefix) {
  std::vector<std::string> out;
  for (const auto& f : fs::directory_iterator(kExamples)) {
    const std::string name = f.path().filename().string();
    if (name.rfind(prefix, 0) == 0 && name.ends_with(".json")) out.push_back(name);
  }
  std::sort(out.begin(), out.end());
  return out;
}

class FhirExamples : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(kExamples / "Patient-example.json"))
        << "run scripts/setup.sh (npm ci in tests/interop)";
    dir_ = fs::temp_directory_path() / ("medtwin_fhir_examples_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = std::make_unique<Server>("sqlite:" + (dir_ / "twin.db").string());
    ASSERT_NE(server_->port(), 0);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  Reply Send(http::verb method, const std::string& target, const json& body = nullptr) {
    return Call(server_->port(), method, "/fhir/r4" + target, body.is_null() ? "" : body.dump(),
                "application/fhir+json");
  }
  // Sent, read back from where the answer says it is.
  json RoundTrip(http::verb method, const std::string& target, const json& body,
                 const std::string& type) {
    const Reply r = Send(method, target, body);
    EXPECT_TRUE(r.status == 200 || r.status == 201) << target << ": " << r.body.substr(0, 400);
    const json stored = r.Json();
    if (!stored.is_object() || !stored.contains("id")) return json();
    const Reply back = Send(http::verb::get, "/" + type + "/" + stored["id"].get<std::string>());
    EXPECT_EQ(back.status, 200u) << back.body.substr(0, 300);
    return back.Json();
  }
  // Every Patient example; those naming a person an earlier one named (the same identifier:
  // "mom" and "infant-mom" share an SSN) are refused, 409 naming the identifier, since an
  // identifier names one patient here. Returns the ids stored.
  std::set<std::string> PutPatients() {
    std::set<std::string> stored;
    std::set<std::pair<std::string, std::string>> held;
    for (const auto& name : Named("Patient-")) {
      SCOPED_TRACE(name);
      const json p = Example(name);
      bool again = false;
      std::set<std::pair<std::string, std::string>> mine;
      for (const auto& i : p.value("identifier", json::array())) {
        if (!i.contains("value")) continue;
        mine.insert({i.value("system", ""), i["value"]});
      }
      for (const auto& i : mine) again = again || held.contains(i);
      const Reply r = Send(http::verb::put, "/Patient/" + p["id"].get<std::string>(), p);
      if (again) {
        EXPECT_EQ(r.status, 409u) << r.body;
        EXPECT_EQ(r.Json()["issue"][0]["expression"][0].get<std::string>().rfind(
                      "Patient.identifier[", 0),
                  0u)
            << r.body;
        continue;
      }
      EXPECT_EQ(r.status, 201u) << r.body.substr(0, 300);
      if (r.status != 201) continue;
      stored.insert(p["id"]);
      held.insert(mine.begin(), mine.end());
    }
    return stored;
  }
  fs::path dir_;
  std::unique_ptr<Server> server_;
};

TEST_F(FhirExamples, EveryPatientIsStoredAndWhatIsKeptComesBack) {
  const auto names = Named("Patient-");
  ASSERT_GE(names.size(), 20u);
  const std::set<std::string> stored = PutPatients();
  EXPECT_GE(stored.size(), names.size() - 2);
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const json sent = Example(name);
    if (!stored.contains(sent["id"])) continue;
    const Reply r = Send(http::verb::get, "/Patient/" + sent["id"].get<std::string>());
    ASSERT_EQ(r.status, 200u);
    const json back = r.Json();
    EXPECT_EQ(back["id"], sent["id"]);
    // (A patient whose gender was not sent is "unknown", R4's code for not known.)
    EXPECT_EQ(back.value("gender", ""), sent.value("gender", "unknown"));
    EXPECT_EQ(back.value("birthDate", ""), sent.value("birthDate", ""));
    // Identifiers and contact points with a value: system, value (and a contact's use).
    for (const auto& [element, keys] :
         {std::pair{"identifier", std::vector<std::string>{"system", "value"}},
          std::pair{"telecom", std::vector<std::string>{"system", "value", "use"}}}) {
      json want = json::array(), got = json::array();
      for (const auto& i : sent.value(element, json::array())) {
        if (!i.contains("value")) continue;
        json kept = json::object();
        for (const auto& k : keys) {
          if (i.contains(k)) kept[k] = i[k];
        }
        // (The same identifier twice is kept once: Patient f201 lists its BSN twice.)
        if (std::find(want.begin(), want.end(), kept) == want.end()) want.push_back(kept);
      }
      for (const auto& i : back.value(element, json::array())) got.push_back(i);
      EXPECT_EQ(got, want) << element;
    }
    // The first name as text ("Peter James Chalmers").
    if (sent.contains("name")) {
      const json& n = sent["name"][0];
      std::string text = n.value("text", "");
      if (text.empty()) {
        for (const auto& g : n.value("given", json::array())) text += g.get<std::string>() + " ";
        text += n.value("family", "");
      }
      while (!text.empty() && text.back() == ' ') text.pop_back();
      if (!text.empty()) {
        EXPECT_EQ(back["name"][0]["text"], text);
      }
    }
  }
}

// The canonical unit medtwin keeps a vital sign in, from UCUM's definitions (independent of
// medtwin's converter): [in_i] = 2.54 cm, [lb_av] = 0.45359237 kg, [degF] = 9/5 °C + 32.
double Canonical(const json& quantity) {
  const double v = quantity["value"];
  const std::string code = quantity.value("code", quantity.value("unit", ""));
  if (code == "[in_i]") return v * 2.54;
  if (code == "[lb_av]") return v * 0.45359237;
  if (code == "[degF]") return (v - 32) * 5 / 9;
  return v;
}

TEST_F(FhirExamples, VitalSignObservationsAreStoredOrRefusedByCode) {
  PutPatients();
  int stored = 0, refused = 0;
  for (const auto& name : Named("Observation-")) {
    const json sent = Example(name);
    bool vital = false;
    for (const auto& c : sent.value("category", json::array())) {
      for (const auto& coding : c.value("coding", json::array())) {
        vital = vital || coding.value("code", "") == "vital-signs";
      }
    }
    if (!vital) continue;
    SCOPED_TRACE(name);
    const Reply r = Send(http::verb::post, "/Observation", sent);
    if (r.status == 400) {
      // A code medtwin has no use for (BMI, head circumference, a panel of members).
      ++refused;
      const std::string where = r.Json()["issue"][0]["expression"][0];
      EXPECT_EQ(where.rfind("Observation.", 0), 0u) << r.body;
      continue;
    }
    ASSERT_EQ(r.status, 201u) << r.body.substr(0, 400);
    ++stored;
    const std::string location = r.headers.at("location");
    const std::string id = location.substr(location.rfind('/') + 1);
    const json back = Send(http::verb::get, "/Observation/" + id).Json();
    EXPECT_EQ(back["code"]["coding"][0]["code"], sent["code"]["coding"][0]["code"]);
    EXPECT_EQ(back["subject"]["reference"], sent["subject"]["reference"]);
    if (sent.contains("valueQuantity")) {
      EXPECT_NEAR(back["valueQuantity"]["value"].get<double>(), Canonical(sent["valueQuantity"]),
                  1e-9);
    }
    if (sent.contains("component")) {
      ASSERT_TRUE(back.contains("component")) << back.dump();
      for (const auto& c : sent["component"]) {
        bool found = false;
        for (const auto& b : back["component"]) {
          if (b["code"]["coding"][0]["code"] != c["code"]["coding"][0]["code"]) continue;
          found = true;
          EXPECT_NEAR(b["valueQuantity"]["value"].get<double>(), Canonical(c["valueQuantity"]),
                      1e-9);
        }
        EXPECT_TRUE(found) << c.dump();
      }
    }
  }
  // heart-rate, respiratory-rate, satO2, body-temperature, body-height, blood-pressure (and
  // its variants) are medtwin's vital signs; BMI, head circumference and the panel are not.
  EXPECT_GE(stored, 6);
  EXPECT_GE(refused, 2);
}

TEST_F(FhirExamples, MedicationAdministrationsAreStoredUnlessNotGiven) {
  PutPatients();
  int stored = 0;
  for (const auto& name : Named("MedicationAdministration-")) {
    SCOPED_TRACE(name);
    const json sent = Example(name);
    const Reply r = Send(http::verb::post, "/MedicationAdministration", sent);
    const std::string status = sent["status"];
    if (status == "entered-in-error" || status == "not-done") {
      EXPECT_EQ(r.status, 422u) << r.body;
      continue;
    }
    if (r.status != 201) {
      // Refused: the element and why (e.g. a dose with no amount medtwin can use).
      EXPECT_TRUE(r.status == 400 || r.status == 422) << r.body;
      EXPECT_EQ(r.Json()["issue"][0]["expression"][0].get<std::string>().rfind(
                    "MedicationAdministration", 0),
                0u)
          << r.body;
      continue;
    }
    ++stored;
    const json back = r.Json();
    EXPECT_EQ(back["subject"]["reference"], sent["subject"]["reference"]);
    EXPECT_EQ(back["status"], "completed");
  }
  EXPECT_GE(stored, 8);
  // All stored and searchable for their patient.
  const json found = Send(http::verb::get, "/MedicationAdministration?patient=pat1").Json();
  EXPECT_EQ(found["total"], stored) << found.dump().substr(0, 400);
}

TEST_F(FhirExamples, LocationsAndEncountersAreStoredAndComeBack) {
  PutPatients();
  // Locations (Location-2 is part of Location-1: that one first).
  auto names = Named("Location-");
  ASSERT_GE(names.size(), 6u);
  std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    return Example(a).contains("partOf") < Example(b).contains("partOf");
  });
  for (const auto& name : names) {
    SCOPED_TRACE(name);
    const json sent = Example(name);
    const json back =
        RoundTrip(http::verb::put, "/Location/" + sent["id"].get<std::string>(), sent, "Location");
    for (const char* key : {"id", "status", "name", "alias", "description", "mode", "partOf"}) {
      EXPECT_EQ(back.value(key, json()), sent.value(key, json())) << key;
    }
    if (sent.contains("operationalStatus")) {
      EXPECT_EQ(back["operationalStatus"]["code"], sent["operationalStatus"]["code"]);
    }
    EXPECT_EQ(back["physicalType"]["coding"][0]["code"], sent["physicalType"]["coding"][0]["code"]);
    for (const auto& i : sent.value("identifier", json::array())) {
      EXPECT_EQ(back["identifier"][0]["value"], i["value"]);
    }
  }
  const auto encounters = Named("Encounter-");
  ASSERT_GE(encounters.size(), 9u);
  for (const auto& name : encounters) {
    SCOPED_TRACE(name);
    const json sent = Example(name);
    const json back = RoundTrip(http::verb::put, "/Encounter/" + sent["id"].get<std::string>(),
                                sent, "Encounter");
    for (const char* key : {"id", "status", "subject", "period"}) {
      if (std::string(key) == "subject") {
        EXPECT_EQ(back[key]["reference"], sent[key]["reference"]);
        continue;
      }
      EXPECT_EQ(back.value(key, json()), sent.value(key, json())) << key;
    }
    EXPECT_EQ(back["class"]["code"], sent["class"]["code"]);
    const json sent_locations = sent.value("location", json::array());
    const json back_locations = back.value("location", json::array());
    ASSERT_EQ(back_locations.size(), sent_locations.size());
    for (std::size_t i = 0; i < sent_locations.size(); ++i) {
      EXPECT_EQ(back_locations[i]["location"]["display"], sent_locations[i]["location"]["display"]);
      EXPECT_EQ(back_locations[i]["status"], sent_locations[i]["status"]);
      EXPECT_EQ(back_locations[i].value("period", json()),
                sent_locations[i].value("period", json()));
    }
  }
  // Found by patient.
  EXPECT_EQ(Send(http::verb::get, "/Encounter?patient=f001").Json()["total"], 3);
}

TEST_F(FhirExamples, TheSpecificationsTransactionExampleIsRefusedWholeWithNothingStored) {
  const Reply r = Send(http::verb::post, "", Example("Bundle-bundle-transaction.json"));
  EXPECT_GE(r.status, 400u) << r.body.substr(0, 300);
  EXPECT_LT(r.status, 500u);
  const json outcome = r.Json();
  EXPECT_EQ(outcome["resourceType"], "OperationOutcome") << r.body.substr(0, 300);
  EXPECT_FALSE(outcome["issue"][0]["diagnostics"].get<std::string>().empty());
  EXPECT_EQ(Send(http::verb::get, "/Patient").Json()["total"], 0);
}

}  // namespace
