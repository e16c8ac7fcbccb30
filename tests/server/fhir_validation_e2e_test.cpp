// Every kind of resource medtwin's FHIR endpoint returns, checked by outside tools (issue 16):
// the R4 core StructureDefinitions with @medplum/core's validator, the vital-signs profiles for
// vital-sign Observations, and those profiles' invariants with HL7's FHIRPath engine
// (tests/interop/fhir_validate.mjs). The resources come from a running server with the demo's
// patients (vital signs, NEWS2, alerts, drug and glucose twins) plus what a client creates
// (a BP panel, the level of consciousness, a transaction, a batch, a history) and the
// OperationOutcomes of refused requests. Zero errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::Now;
using medtwin::testing_support::ReadAll;
using medtwin::testing_support::Server;
using medtwin::testing_support::TestAuth;

TEST(FhirValidation, EveryResourceTheEndpointReturnsValidatesWithOutsideTools) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_validate_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string(), {"--demo", "--speed", "60"});
  const auto port = server.port();
  ASSERT_NE(port, 0);
  json resources = json::array();
  auto get = [&](const std::string& target) {
    auto r = Call(port, http::verb::get, "/fhir/r4" + target);
    const json body = r.Json();
    EXPECT_TRUE(body.is_object()) << target << ": " << r.status << " " << r.body.substr(0, 200);
    if (body.is_object()) resources.push_back(body);
    return body;
  };
  auto send = [&](http::verb method, const std::string& target, const json& body) {
    auto r = Call(port, method, "/fhir/r4" + target, body.dump(), "application/fhir+json");
    const json out = r.Json();
    if (out.is_object()) resources.push_back(out);
    return out;
  };
  // Let the demo's devices and twins run a little (vitals, NEWS2, alerts, dose advice).
  std::this_thread::sleep_for(std::chrono::seconds(4));

  get("/metadata");
  const json patients = get("/Patient");
  ASSERT_TRUE(patients.contains("entry")) << patients.dump().substr(0, 500);
  int with_data = 0, read_back = 0;
  for (const auto& e : patients["entry"]) {
    const std::string id = e["resource"]["id"];
    get("/Patient/" + id);
    const json obs = get("/Observation?patient=" + id + "&_count=30&_sort=-date");
    if (obs.value("total", 0) > 0) ++with_data;
    // Every resource a search returns reads back by its id as the same resource.
    for (const char* type :
         {"RiskAssessment", "DetectedIssue", "MedicationRequest", "MedicationAdministration"}) {
      const json found = get(std::string("/") + type + "?patient=" + id);
      for (const auto& found_entry : found.value("entry", json::array())) {
        const json read =
            get(std::string("/") + type + "/" + found_entry["resource"]["id"].get<std::string>());
        EXPECT_EQ(read, found_entry["resource"]) << type;
        ++read_back;
      }
    }
  }
  EXPECT_GT(with_data, 3);
  EXPECT_GT(read_back, 20);
  const json audit = get("/AuditEvent?_count=50");
  ASSERT_TRUE(audit.contains("entry"));
  EXPECT_EQ(get("/AuditEvent/" + audit["entry"][0]["resource"]["id"].get<std::string>()),
            audit["entry"][0]["resource"]);

  // What a client makes: a patient (and its history), a BP panel, a consciousness level, a
  // transaction and a batch.
  send(http::verb::put, "/Patient/val-1",
       {{"resourceType", "Patient"},
        {"id", "val-1"},
        {"identifier", {{{"system", "http://hospital.example/mrn"}, {"value", "VAL-1"}}}},
        {"name", {{{"family", "Okafor"}, {"given", {"Adaeze"}}}}},
        {"gender", "female"},
        {"birthDate", "1950-03-01"}});
  send(http::verb::put, "/Patient/val-1",
       {{"resourceType", "Patient"},
        {"id", "val-1"},
        {"gender", "female"},
        {"birthDate", "1950-03-01"}});
  get("/Patient/val-1/_history");
  get("/Patient/val-1/_history/1");
  auto quantity = [](double v, const char* unit) {
    return json{
        {"value", v}, {"unit", unit}, {"system", "http://unitsofmeasure.org"}, {"code", unit}};
  };
  auto loinc = [](const char* code) {
    return json{{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}};
  };
  send(http::verb::post, "/Observation",
       {{"resourceType", "Observation"},
        {"status", "final"},
        {"code", loinc("85354-9")},
        {"subject", {{"reference", "Patient/val-1"}}},
        {"effectiveDateTime", Now(20)},
        {"component",
         {{{"code", loinc("8480-6")}, {"valueQuantity", quantity(131, "mm[Hg]")}},
          {{"code", loinc("8462-4")}, {"valueQuantity", quantity(84, "mm[Hg]")}}}}});
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/val-1/observations",
                 json::array(
                     {{{"code", "80288-4"}, {"value", "C"}, {"time", Now(15)}, {"source", "nurse"}},
                      {{"code", "8310-5"},
                       {"value", 98.6},
                       {"unit", "[degF]"},
                       {"time", Now(15)},
                       {"source", "probe"}},
                      {{"code", "2708-6"},
                       {"value", 93},
                       {"unit", "%"},
                       {"time", Now(15)},
                       {"source", "oximeter"}},
                      {{"code", "9279-1"},
                       {"value", 22},
                       {"unit", "/min"},
                       {"time", Now(15)},
                       {"source", "monitor"}},
                      {{"code", "29463-7"},
                       {"value", 71.5},
                       {"unit", "kg"},
                       {"time", Now(15)},
                       {"source", "scale"}}})
                     .dump())
                .status,
            200u);
  get("/Observation?patient=val-1");
  for (const char* type : {"transaction", "batch"}) {
    const std::string uuid = std::string("urn:uuid:5b4e2a1c-0d3f-4a7e-9c61-") +
                             (type[0] == 't' ? "000000000001" : "000000000002");
    send(http::verb::post, "",
         {{"resourceType", "Bundle"},
          {"type", type},
          {"entry",
           {{{"fullUrl", uuid},
             {"resource", {{"resourceType", "Patient"}, {"gender", "male"}}},
             {"request", {{"method", "POST"}, {"url", "Patient"}}}},
            {{"resource",
              {{"resourceType", "Observation"},
               {"status", "final"},
               {"code", loinc("8867-4")},
               {"subject", {{"reference", uuid}}},
               {"effectiveDateTime", Now(5)},
               {"valueQuantity", quantity(77, "/min")}}},
             {"request", {{"method", "POST"}, {"url", "Observation"}}}}}}});
  }
  // The places and a stay in one (with a place known by display only).
  send(http::verb::put, "/Location/W7",
       {{"resourceType", "Location"},
        {"name", "Ward 7"},
        {"physicalType",
         {{"coding",
           {{{"system", "http://terminology.hl7.org/CodeSystem/location-physical-type"},
             {"code", "wa"}}}}}}});
  send(http::verb::put, "/Location/W7.3",
       {{"resourceType", "Location"},
        {"name", "3"},
        {"operationalStatus",
         {{"system", "http://terminology.hl7.org/CodeSystem/v2-0116"}, {"code", "H"}}},
        {"physicalType",
         {{"coding",
           {{{"system", "http://terminology.hl7.org/CodeSystem/location-physical-type"},
             {"code", "bd"}}}}}},
        {"partOf", {{"reference", "Location/W7"}}}});
  const json stay = send(
      http::verb::post, "/Encounter",
      {{"resourceType", "Encounter"},
       {"status", "in-progress"},
       {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "IMP"}}},
       {"subject", {{"reference", "Patient/val-1"}}},
       {"period", {{"start", Now(60)}}},
       {"location",
        {{{"location", {{"display", "Emergency"}}},
          {"status", "completed"},
          {"period", {{"start", Now(60)}, {"end", Now(30)}}}},
         {{"location", {{"reference", "Location/W7.3"}}},
          {"status", "active"},
          {"period", {{"start", Now(30)}}}}}}});
  ASSERT_TRUE(stay.contains("id")) << stay.dump();
  get("/Encounter/" + stay["id"].get<std::string>());
  get("/Encounter?status=in-progress");
  get("/Location");
  get("/Location/W7.3");
  // Refusals are OperationOutcomes too.
  get("/Patient/no-such-patient");
  get("/Observation?patient=val-1&shoe_size=9");
  send(http::verb::post, "/Observation", {{"resourceType", "Observation"}, {"status", "final"}});

  std::ofstream(dir / "resources.json") << resources.dump();
  const std::string command =
      "cd " + std::string(MEDTWIN_SOURCE_DIR) + "/tests/interop && node fhir_validate.mjs " +
      (dir / "resources.json").string() + " " + (dir / "report.json").string() +
      " > /dev/null 2> " + (dir / "err.txt").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << ReadAll(dir / "err.txt");
  const json report = json::parse(ReadAll(dir / "report.json"), nullptr, false);
  ASSERT_TRUE(report.is_object()) << ReadAll(dir / "err.txt");
  EXPECT_GT(report["checked"].get<int>(), 200);
  int errors = 0;
  std::string shown;
  for (const auto& issue : report["issues"]) {
    if (issue["severity"] != "error" && issue["severity"] != "fatal") continue;
    if (++errors <= 40) shown += issue.dump() + "\n";
  }
  EXPECT_EQ(errors, 0) << shown;
  fs::remove_all(dir);
}

}  // namespace
