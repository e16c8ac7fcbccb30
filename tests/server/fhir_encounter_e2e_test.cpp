// Encounters and Locations as a bed manager and an EHR use them (issue 16): the ADT feed puts
// patients in beds and the beds become Locations (ward ⊃ room ⊃ bed) with no set-up; a bed's
// operationalStatus (HL7 table 0116) follows who lies in it — occupied while an encounter in
// progress has a patient there, else what people set (housekeeping), else unoccupied;
// Encounters searched across patients (the census) and by location; FHIR clients create and
// update Encounters and Locations with the rules a bed board needs (one bed per patient, known
// places, partOf without cycles, If-Match); clinicians read the places, administrators set them
// up; everything survives a restart.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::ConnectLoopback;
using medtwin::testing_support::MllpExchange;
using medtwin::testing_support::Server;
constexpr auto Dtm = [](int minutes_ago = 0) {
  return medtwin::testing_support::Hl7Now(minutes_ago);
};
using medtwin::testing_support::TestAuth;

constexpr const char* kMrnSystem = "urn:oid:2.16.840.1.113883.19.5";

std::string Adt(const std::string& trigger, const std::string& mrn, const std::string& bed,
                int minutes_ago) {
  static int n = 0;
  return "\x0bMSH|^~\\&|EPIC|EHR|MEDTWIN|HOSP|" + Dtm(minutes_ago) + "||ADT^" + trigger +
         "^ADT_A01|M" + std::to_string(++n) + "|P|2.5\rEVN|" + trigger + "|" + Dtm(minutes_ago) +
         "\rPID|1||" + mrn + "^^^HOSP^MR||Okafor^Adaeze||19500301|F\rPV1|1|I|" + bed +
         "||||||||||||||||V-" + mrn + "\r\x1c\r";
}

class FhirEncounters : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_fhir_enc_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "senders.json")
        << json{{"senders",
                 {{{"facility", "EHR"},
                   {"all_patients", true},
                   {"adt", true},
                   {"identifier_systems", {{"HOSP", kMrnSystem}}}}}}};
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

json Ids(const json& bundle) {
  json ids = json::array();
  for (const auto& e : bundle.value("entry", json::array())) ids.push_back(e["resource"]["id"]);
  std::sort(ids.begin(), ids.end());
  return ids;
}

TEST_F(FhirEncounters, AdtBedsBecomeLocationsWhoseStatusFollowsTheCensus) {
  const std::string store = "sqlite:" + (dir_ / "twin.db").string();
  auto server = std::make_unique<Server>(
      store, std::vector<std::string>{"--hl7", "127.0.0.1:0", "--hl7-senders",
                                      (dir_ / "senders.json").string()});
  const auto port = server->port();
  ASSERT_NE(server->hl7_port(), 0);
  auto fhir = [&](http::verb method, const std::string& target, const json& body = nullptr,
                  const std::string& token = TestAuth::Admin(),
                  const std::map<std::string, std::string>& headers = {}) {
    return Call(port, method, "/fhir/r4" + target, body.is_null() ? "" : body.dump(),
                "application/fhir+json", token, headers);
  };
  auto get = [&](const std::string& target) {
    auto r = fhir(http::verb::get, target);
    EXPECT_EQ(r.status, 200u) << target << " " << r.body.substr(0, 300);
    return r.Json();
  };
  auto status_of = [&](const std::string& bed) {
    const json l = get("/Location/" + bed);
    return l.contains("operationalStatus") ? l["operationalStatus"]["code"].get<std::string>()
                                           : std::string("none");
  };
  auto adt = [&](const std::string& message) {
    const int fd = ConnectLoopback(server->hl7_port());
    const std::string ack = MllpExchange(fd, message);
    ::close(fd);
    EXPECT_NE(ack.find("MSA|AA"), std::string::npos) << ack;
  };

  // Two admissions to the ICU: the ward, its room and both beds are there, beds occupied.
  adt(Adt("A01", "MRN-1", "ICU^1^A", 30));
  adt(Adt("A01", "MRN-2", "ICU^1^B", 29));
  EXPECT_EQ(Ids(get("/Location")), json({"ICU", "ICU.1", "ICU.1.A", "ICU.1.B"}));
  const json bed_a = get("/Location/ICU.1.A");
  EXPECT_EQ(bed_a["partOf"]["reference"], "Location/ICU.1");
  EXPECT_EQ(bed_a["physicalType"]["coding"][0]["code"], "bd");
  EXPECT_EQ(bed_a["name"], "A");
  EXPECT_EQ(get("/Location/ICU.1")["partOf"]["reference"], "Location/ICU");
  EXPECT_EQ(get("/Location/ICU")["physicalType"]["coding"][0]["code"], "wa");
  EXPECT_EQ(status_of("ICU.1.A"), "O");
  EXPECT_EQ(status_of("ICU.1.B"), "O");
  EXPECT_EQ(status_of("ICU.1"), "none");  // a room has no bed status unless someone sets one

  // An administrator adds a bed being cleaned.
  json bed_c = {{"resourceType", "Location"},
                {"id", "ICU.1.C"},
                {"status", "active"},
                {"operationalStatus",
                 {{"system", "http://terminology.hl7.org/CodeSystem/v2-0116"}, {"code", "H"}}},
                {"name", "C"},
                {"physicalType",
                 {{"coding",
                   {{{"system", "http://terminology.hl7.org/CodeSystem/location-physical-type"},
                     {"code", "bd"}}}}}},
                {"partOf", {{"reference", "Location/ICU.1"}}}};
  auto made = fhir(http::verb::put, "/Location/ICU.1.C", bed_c);
  ASSERT_EQ(made.status, 201u) << made.body;
  EXPECT_NE(made.headers["location"].find("/fhir/r4/Location/ICU.1.C"), std::string::npos);
  EXPECT_EQ(made.headers["etag"], "W/\"1\"");
  EXPECT_EQ(Ids(get("/Location?partof=Location/ICU.1")), json({"ICU.1.A", "ICU.1.B", "ICU.1.C"}));
  EXPECT_EQ(Ids(get("/Location?operational-status=O")), json({"ICU.1.A", "ICU.1.B"}));
  EXPECT_EQ(Ids(get("/Location?operational-status=H&physical-type=bd")), json({"ICU.1.C"}));

  // Patient 1 moves to the clean bed, patient 2 goes home: the beds follow.
  adt(Adt("A02", "MRN-1", "ICU^1^C", 20));
  adt(Adt("A03", "MRN-2", "ICU^1^B", 19));
  EXPECT_EQ(status_of("ICU.1.A"), "U");
  EXPECT_EQ(status_of("ICU.1.B"), "U");
  EXPECT_EQ(status_of("ICU.1.C"), "O");

  // The census: stays in progress across patients, and who was in a bed.
  const json census = get("/Encounter?status=in-progress");
  ASSERT_EQ(census["total"], 1) << census.dump();
  const json stay = census["entry"][0]["resource"];
  EXPECT_EQ(stay["location"].back()["location"]["reference"], "Location/ICU.1.C");
  EXPECT_EQ(stay["location"].back()["status"], "active");
  EXPECT_EQ(stay["location"][0]["location"]["reference"], "Location/ICU.1.A");
  EXPECT_EQ(stay["location"][0]["status"], "completed");
  EXPECT_EQ(get("/Encounter?location=Location/ICU.1.B")["total"], 1);
  EXPECT_EQ(get("/Encounter?location=ICU.1.B&status=in-progress")["total"], 0);

  // An EHR admits a third patient to bed B over FHIR, then discharges them.
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"enc-3"})").status, 201u);
  json encounter = {
      {"resourceType", "Encounter"},
      {"status", "in-progress"},
      {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "IMP"}}},
      {"subject", {{"reference", "Patient/enc-3"}}},
      {"period", {{"start", "2026-12-01T08:00:00Z"}}},
      {"location",
       {{{"location", {{"reference", "Location/ICU.1.B"}}},
         {"status", "active"},
         {"period", {{"start", "2026-12-01T08:00:00Z"}}}}}}};
  auto created = fhir(http::verb::post, "/Encounter", encounter);
  ASSERT_EQ(created.status, 201u) << created.body;
  const std::string id = created.Json()["id"];
  EXPECT_NE(created.headers["location"].find("/Encounter/" + id), std::string::npos);
  EXPECT_EQ(created.Json()["location"][0]["location"]["display"], "ICU 1-B");
  EXPECT_EQ(status_of("ICU.1.B"), "O");
  // (The bed's names came from the Location: the record knows ward, room and bed.)
  const json record = Call(port, http::verb::get, "/api/v1/patients/enc-3").Json();
  EXPECT_EQ(record["encounters"][0]["locations"][0]["ward"], "ICU");
  EXPECT_EQ(record["encounters"][0]["locations"][0]["bed"], "B");
  // A second stay with the patient in a bed is refused: a patient lies in one place. A stay
  // without a bed (a consultation during the admission) is not.
  auto twice = fhir(http::verb::post, "/Encounter", encounter);
  EXPECT_EQ(twice.status, 409u) << twice.body;
  EXPECT_EQ(twice.Json()["issue"][0]["expression"][0], "Encounter.location");
  json consult = encounter;
  consult["class"]["code"] = "AMB";
  consult.erase("location");
  EXPECT_EQ(fhir(http::verb::post, "/Encounter", consult).status, 201u);
  // (The consultation in progress does not hide the admission's bed.)
  EXPECT_EQ(status_of("ICU.1.B"), "O");
  // Discharged: the stay finished, the bed free.
  encounter["id"] = id;
  encounter["status"] = "finished";
  encounter["period"]["end"] = "2026-12-01T12:00:00Z";
  encounter["location"][0]["status"] = "completed";
  encounter["location"][0]["period"]["end"] = "2026-12-01T12:00:00Z";
  auto updated = fhir(http::verb::put, "/Encounter/" + id, encounter);
  ASSERT_EQ(updated.status, 200u) << updated.body;
  EXPECT_EQ(get("/Encounter/" + id)["status"], "finished");
  EXPECT_EQ(status_of("ICU.1.B"), "U");

  // What a bed board must not take.
  json nowhere = encounter;
  nowhere["location"][0]["location"]["reference"] = "Location/ICU.9.Z";
  auto r = fhir(http::verb::put, "/Encounter/" + id, nowhere);
  EXPECT_EQ(r.status, 422u) << r.body;
  EXPECT_EQ(r.Json()["issue"][0]["expression"][0], "Encounter.location[0].location.reference");
  json other = encounter;
  other["subject"]["reference"] =
      "Patient/" +
      census["entry"][0]["resource"]["subject"]["reference"].get<std::string>().substr(8);
  EXPECT_EQ(fhir(http::verb::put, "/Encounter/" + id, other).status, 409u);
  EXPECT_EQ(fhir(http::verb::put, "/Encounter/other-id", encounter).status, 400u);  // id ≠ URL
  auto stale = fhir(http::verb::put, "/Location/ICU.1.C", bed_c, TestAuth::Admin(),
                    {{"If-Match", "W/\"7\""}});
  EXPECT_EQ(stale.status, 412u) << stale.body;
  json orphan = bed_c;
  orphan["partOf"]["reference"] = "Location/nowhere";
  r = fhir(http::verb::put, "/Location/ICU.1.C", orphan);
  EXPECT_EQ(r.status, 422u) << r.body;
  EXPECT_EQ(r.Json()["issue"][0]["expression"][0], "Location.partOf");
  json ward = get("/Location/ICU");
  ward["partOf"] = {{"reference", "Location/ICU.1.C"}};  // the ward inside its own bed
  r = fhir(http::verb::put, "/Location/ICU", ward);
  EXPECT_EQ(r.status, 422u) << r.body;
  auto current = fhir(http::verb::put, "/Location/ICU.1.C", bed_c, TestAuth::Admin(),
                      {{"If-Match", "W/\"1\""}});
  EXPECT_EQ(current.status, 200u) << current.body;
  EXPECT_EQ(current.headers["etag"], "W/\"2\"");

  // Clinicians read the places; only administrators change them; patients see neither.
  const std::string clinician = TestAuth::Token(medtwin::security::Role::kClinician, "dr-a");
  EXPECT_EQ(fhir(http::verb::get, "/Location", nullptr, clinician).status, 200u);
  EXPECT_EQ(fhir(http::verb::put, "/Location/ICU.1.C", bed_c, clinician).status, 403u);
  const std::string patient_token =
      TestAuth::Token(medtwin::security::Role::kPatient, "enc-3", "enc-3");
  EXPECT_EQ(fhir(http::verb::get, "/Location/ICU.1.A", nullptr, patient_token).status, 403u);
  // A clinician's census holds only their patients' stays (none here).
  EXPECT_EQ(fhir(http::verb::get, "/Encounter", nullptr, clinician).Json()["total"], 0);

  // Read while occupied (O) and put back as read: the status people set (H) is kept, since O
  // is the census's, not theirs.
  json as_read = get("/Location/ICU.1.C");
  ASSERT_EQ(as_read["operationalStatus"]["code"], "O");
  as_read.erase("meta");
  ASSERT_EQ(fhir(http::verb::put, "/Location/ICU.1.C", as_read).status, 200u);

  // After a restart: the places, their versions, and the occupancy from the records.
  server.reset();
  server = std::make_unique<Server>(store);
  const auto port2 = server->port();
  ASSERT_NE(port2, 0);
  auto again = Call(port2, http::verb::get, "/fhir/r4/Location/ICU.1.C");
  ASSERT_EQ(again.status, 200u);
  EXPECT_EQ(again.headers["etag"], "W/\"3\"");
  EXPECT_EQ(again.Json()["operationalStatus"]["code"], "O");
  // The stay ends: the bed shows what people set (housekeeping) again.
  json ended = stay;
  ended["status"] = "finished";
  for (auto& l : ended["location"]) {
    l["status"] = "completed";
    if (!l["period"].contains("end")) l["period"]["end"] = l["period"]["start"];
  }
  auto finished =
      Call(port2, http::verb::put, "/fhir/r4/Encounter/" + stay["id"].get<std::string>(),
           ended.dump(), "application/fhir+json");
  ASSERT_EQ(finished.status, 200u) << finished.body;
  EXPECT_EQ(
      Call(port2, http::verb::get, "/fhir/r4/Location/ICU.1.C").Json()["operationalStatus"]["code"],
      "H");
  EXPECT_EQ(Ids(Call(port2, http::verb::get, "/fhir/r4/Location").Json()).size(), 5u);
}

// An EHR's admission as one transaction: the patient (urn:uuid), their stay in a bed and the
// first vital sign. The stay goes into the patient's record with the rest, the bed shows
// occupied; a second transaction that would put the patient in another bed while the stay
// goes on is refused whole (409 naming the entry's location), its reading not stored either;
// a batch answers the same refusal in the entry's place.
TEST_F(FhirEncounters, AnAdmissionInOneTransaction) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  const auto port = server.port();
  auto fhir = [&](http::verb method, const std::string& target, const json& body = nullptr) {
    return Call(port, method, "/fhir/r4" + target, body.is_null() ? "" : body.dump(),
                "application/fhir+json", TestAuth::Admin());
  };
  auto place = [](const std::string& id, const char* type, const std::string& part_of) {
    json l = {{"resourceType", "Location"},
              {"id", id},
              {"status", "active"},
              {"name", id},
              {"physicalType",
               {{"coding",
                 {{{"system", "http://terminology.hl7.org/CodeSystem/location-physical-type"},
                   {"code", type}}}}}}};
    if (!part_of.empty()) l["partOf"] = {{"reference", "Location/" + part_of}};
    return l;
  };
  ASSERT_EQ(fhir(http::verb::put, "/Location/W2", place("W2", "wa", "")).status, 201u);
  ASSERT_EQ(fhir(http::verb::put, "/Location/W2.1", place("W2.1", "bd", "W2")).status, 201u);
  ASSERT_EQ(fhir(http::verb::put, "/Location/W2.2", place("W2.2", "bd", "W2")).status, 201u);
  const std::string patient = "urn:uuid:55555555-5555-4555-8555-555555555555";
  auto stay = [&](const std::string& subject, const std::string& bed) {
    return json{
        {"resourceType", "Encounter"},
        {"status", "in-progress"},
        {"class",
         {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "IMP"}}},
        {"subject", {{"reference", subject}}},
        {"period", {{"start", medtwin::testing_support::Now(30)}}},
        {"location", {{{"location", {{"reference", "Location/" + bed}}}, {"status", "active"}}}}};
  };
  auto reading = [&](const std::string& subject, double value, int minutes_ago) {
    return json{{"resourceType", "Observation"},
                {"status", "final"},
                {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
                {"subject", {{"reference", subject}}},
                {"effectiveDateTime", medtwin::testing_support::Now(minutes_ago)},
                {"valueQuantity",
                 {{"value", value}, {"system", "http://unitsofmeasure.org"}, {"code", "/min"}}}};
  };
  json admission = {{"resourceType", "Bundle"},
                    {"type", "transaction"},
                    {"entry",
                     {{{"fullUrl", patient},
                       {"resource",
                        {{"resourceType", "Patient"},
                         {"identifier", {{{"system", kMrnSystem}, {"value", "ADM-1"}}}},
                         {"name", {{{"family", "Mensah"}, {"given", {"Kofi"}}}}}}},
                       {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                      {{"resource", stay(patient, "W2.1")},
                       {"request", {{"method", "POST"}, {"url", "Encounter"}}}},
                      {{"resource", reading(patient, 92, 5)},
                       {"request", {{"method", "POST"}, {"url", "Observation"}}}}}}};
  auto r = fhir(http::verb::post, "", admission);
  ASSERT_EQ(r.status, 200u) << r.body;
  const json out = r.Json();
  EXPECT_EQ(out["entry"][1]["response"]["status"], "201") << out.dump();
  const std::string encounter = out["entry"][1]["response"]["location"];
  ASSERT_EQ(encounter.rfind("Encounter/", 0), 0u) << encounter;
  const std::string location = out["entry"][0]["response"]["location"];
  const std::string id = location.substr(8, location.find('/', 8) - 8);
  const json read = fhir(http::verb::get, "/" + encounter).Json();
  EXPECT_EQ(read["subject"]["reference"], "Patient/" + id);
  EXPECT_EQ(read["location"][0]["location"]["reference"], "Location/W2.1");
  EXPECT_EQ(fhir(http::verb::get, "/Location/W2.1").Json()["operationalStatus"]["code"], "O");
  EXPECT_EQ(fhir(http::verb::get, "/Observation?patient=" + id).Json()["total"], 1);

  // Another bed while the stay goes on: nothing of this transaction is stored.
  json second = {{"resourceType", "Bundle"},
                 {"type", "transaction"},
                 {"entry",
                  {{{"resource", reading("Patient/" + id, 95, 2)},
                    {"request", {{"method", "POST"}, {"url", "Observation"}}}},
                   {{"resource", stay("Patient/" + id, "W2.2")},
                    {"request", {{"method", "POST"}, {"url", "Encounter"}}}}}}};
  auto refused = fhir(http::verb::post, "", second);
  EXPECT_EQ(refused.status, 409u) << refused.body;
  EXPECT_NE(refused.body.find("Bundle.entry[1].resource.location"), std::string::npos)
      << refused.body;
  EXPECT_EQ(fhir(http::verb::get, "/Observation?patient=" + id).Json()["total"], 1);
  EXPECT_EQ(fhir(http::verb::get, "/Location/W2.2").Json()["operationalStatus"]["code"], "U");
  // An unknown bed: 422, naming the entry's reference.
  second["entry"][1]["resource"] = stay("Patient/" + id, "W9.9");
  auto unknown = fhir(http::verb::post, "", second);
  EXPECT_EQ(unknown.status, 422u) << unknown.body;
  EXPECT_NE(unknown.body.find("Bundle.entry[1].resource.location[0].location.reference"),
            std::string::npos)
      << unknown.body;
  // As a batch: the reading is stored, the stay refused in its place.
  second["type"] = "batch";
  second["entry"][1]["resource"] = stay("Patient/" + id, "W2.2");
  auto batch = fhir(http::verb::post, "", second);
  ASSERT_EQ(batch.status, 200u) << batch.body;
  EXPECT_EQ(batch.Json()["entry"][0]["response"]["status"], "201");
  EXPECT_EQ(batch.Json()["entry"][1]["response"]["status"], "409") << batch.body;
  EXPECT_EQ(fhir(http::verb::get, "/Observation?patient=" + id).Json()["total"], 2);
  // The stay updated in a transaction (PUT Encounter/{id}): finished, the bed free again.
  json finished = stay("Patient/" + id, "W2.1");
  finished["status"] = "finished";
  finished["period"]["end"] = medtwin::testing_support::Now(0);
  finished["location"][0]["status"] = "completed";
  json discharge = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry", {{{"resource", finished}, {"request", {{"method", "PUT"}, {"url", encounter}}}}}}};
  auto done = fhir(http::verb::post, "", discharge);
  ASSERT_EQ(done.status, 200u) << done.body;
  EXPECT_EQ(done.Json()["entry"][0]["response"]["status"], "200") << done.body;
  EXPECT_EQ(fhir(http::verb::get, "/" + encounter).Json()["status"], "finished");
  EXPECT_EQ(fhir(http::verb::get, "/Location/W2.1").Json()["operationalStatus"]["code"], "U");
}

}  // namespace
