// FHIR as an EHR's integration engine uses it first (issue 16): patients matched by identifier
// (the MRN), conditional create (If-None-Exist, and ifNoneExist inside a transaction),
// transactions whose entries refer to each other by urn:uuid fullUrl (R4 §3.1.0.11.2), and
// Patient search that does what each parameter says and refuses the ones it does not know.
// Against the real binary on SQLite; the MRN is also checked to be encrypted at rest.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::Now;
using medtwin::testing_support::Reply;
using medtwin::testing_support::Server;
using medtwin::testing_support::TestAuth;

constexpr const char* kMrn = "urn:oid:2.16.840.1.113883.19.5";

class FhirIdentity : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_fhir_id_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Reply Fhir(http::verb method, const std::string& target, const json& body = nullptr,
             std::map<std::string, std::string> headers = {}) {
    return Call(port_, method, "/fhir/r4" + target, body.is_null() ? "" : body.dump(),
                "application/fhir+json", TestAuth::Admin(), headers);
  }
  json PatientWithMrn(const std::string& mrn, const std::string& family, const std::string& given,
                      const std::string& gender, const std::string& born) {
    return {{"resourceType", "Patient"},
            {"identifier", {{{"system", kMrn}, {"value", mrn}}}},
            {"telecom", {{{"system", "phone"}, {"value", "+44 20 7946 0000"}, {"use", "home"}}}},
            {"name", {{{"family", family}, {"given", {given}}}}},
            {"gender", gender},
            {"birthDate", born}};
  }
  fs::path dir_;
  unsigned short port_ = 0;
};

TEST_F(FhirIdentity, ConditionalCreateAndIdentifierSearchMatchOnePatient) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  port_ = server.port();
  ASSERT_NE(port_, 0);
  const json alice = PatientWithMrn("MRN-1001", "Okafor", "Adaeze", "female", "1950-03-01");
  const std::map<std::string, std::string> condition = {
      {"If-None-Exist", std::string("identifier=") + kMrn + "|MRN-1001"}};
  // The first POST creates (201 with Location); the same POST again finds it (200, same id).
  Reply first = Fhir(http::verb::post, "/Patient", alice, condition);
  ASSERT_EQ(first.status, 201u) << first.body;
  const std::string id = first.Json()["id"];
  // R4 §3.1.0.8: the Location of a create names the version.
  EXPECT_NE(first.headers["location"].find("/fhir/r4/Patient/" + id + "/_history/1"),
            std::string::npos)
      << first.headers["location"];
  EXPECT_EQ(first.Json()["identifier"][0]["value"], "MRN-1001");
  EXPECT_EQ(first.Json()["telecom"][0]["value"], "+44 20 7946 0000");
  Reply second = Fhir(http::verb::post, "/Patient", alice, condition);
  ASSERT_EQ(second.status, 200u) << second.body;
  EXPECT_EQ(second.Json()["id"], id);
  // Without the condition, the same MRN cannot be given to a second patient.
  Reply clash = Fhir(http::verb::post, "/Patient", alice);
  EXPECT_EQ(clash.status, 409u) << clash.body;
  EXPECT_EQ(clash.Json()["resourceType"], "OperationOutcome");
  // The identifier search finds exactly that patient, by system|value and by value alone.
  for (const std::string& q :
       {std::string("identifier=") + kMrn + "|MRN-1001", std::string("identifier=MRN-1001")}) {
    json found = Fhir(http::verb::get, "/Patient?" + q).Json();
    ASSERT_EQ(found["total"], 1) << q << " " << found.dump();
    EXPECT_EQ(found["entry"][0]["resource"]["id"], id);
    EXPECT_EQ(found["entry"][0]["fullUrl"], "http://127.0.0.1/fhir/r4/Patient/" + id);
  }
  EXPECT_EQ(
      Fhir(http::verb::get, std::string("/Patient?identifier=other|MRN-1001")).Json()["total"], 0);
  // A condition is one identifier with its system: one by family name (which here would match
  // two patients) is refused and creates nothing. (Identifiers being unique within a system, a
  // condition cannot match two patients; the server would answer 412.)
  ASSERT_EQ(Fhir(http::verb::post, "/Patient",
                 PatientWithMrn("MRN-1002", "Okafor", "Bola", "female", "1962-07-14"))
                .status,
            201u);
  Reply ambiguous = Fhir(http::verb::post, "/Patient",
                         PatientWithMrn("MRN-1003", "Okafor", "C", "male", "1970-05-05"),
                         {{"If-None-Exist", "family=Okafor"}});
  EXPECT_EQ(ambiguous.status, 400u) << ambiguous.body;
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?family=okafor").Json()["total"], 2);
  // The update's id must be the URL's.
  json other = alice;
  other["id"] = "someone-else";
  EXPECT_EQ(Fhir(http::verb::put, "/Patient/" + id, other).status, 400u);
}

TEST_F(FhirIdentity, TransactionEntriesReferToEachOtherByUrnUuid) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  port_ = server.port();
  ASSERT_NE(port_, 0);
  auto vital = [](const std::string& subject, const char* code, double value, const char* unit) {
    return json{{"fullUrl", "urn:uuid:" + std::string(code) + "-obs"},
                {"resource",
                 {{"resourceType", "Observation"},
                  {"status", "final"},
                  {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}}},
                  {"subject", {{"reference", subject}}},
                  {"effectiveDateTime", Now(5)},
                  {"valueQuantity",
                   {{"value", value}, {"system", "http://unitsofmeasure.org"}, {"code", unit}}}}},
                {"request", {{"method", "POST"}, {"url", "Observation"}}}};
  };
  const std::string patient_url = "urn:uuid:61ebe359-bfdc-4613-8bf2-c5e300945f0a";
  json tx = {{"resourceType", "Bundle"},
             {"type", "transaction"},
             {"entry",
              {{{"fullUrl", patient_url},
                {"resource", PatientWithMrn("MRN-2001", "Silva", "Ana", "female", "1948-11-02")},
                {"request",
                 {{"method", "POST"},
                  {"url", "Patient"},
                  {"ifNoneExist", std::string("identifier=") + kMrn + "|MRN-2001"}}}},
               vital(patient_url, "8867-4", 112, "/min"),
               vital(patient_url, "2708-6", 89, "%")}}};
  Reply r = Fhir(http::verb::post, "", tx);
  ASSERT_EQ(r.status, 200u) << r.body;
  const json out = r.Json();
  ASSERT_EQ(out["entry"].size(), 3u);
  EXPECT_EQ(out["entry"][0]["response"]["status"], "201");
  const std::string location = out["entry"][0]["response"]["location"];
  ASSERT_EQ(location.rfind("Patient/", 0), 0u) << location;
  const std::string id = location.substr(8, location.find('/', 8) - 8);
  EXPECT_EQ(location, "Patient/" + id + "/_history/1");
  EXPECT_EQ(out["entry"][0]["response"]["etag"], "W/\"1\"");
  EXPECT_FALSE(out["entry"][1]["response"]["lastModified"].get<std::string>().empty());
  EXPECT_EQ(out["entry"][1]["response"]["status"], "201");
  json observations = Fhir(http::verb::get, "/Observation?patient=" + id).Json();
  EXPECT_EQ(observations["total"], 2) << observations.dump();
  // The same transaction again (the EHR resends it): the conditional create finds the patient,
  // the readings are the same readings, and there is still one Ana Silva.
  Reply again = Fhir(http::verb::post, "", tx);
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.Json()["entry"][0]["response"]["status"], "200");
  EXPECT_EQ(again.Json()["entry"][0]["response"]["location"], location);
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?identifier=MRN-2001").Json()["total"], 1);
  EXPECT_EQ(Fhir(http::verb::get, "/Observation?patient=" + id).Json()["total"], 2);
  // A reference to a fullUrl the bundle does not have is still refused, naming the entry.
  json dangling = {{"resourceType", "Bundle"},
                   {"type", "transaction"},
                   {"entry", {vital("urn:uuid:nobody", "8867-4", 80, "/min")}}};
  Reply refused = Fhir(http::verb::post, "", dangling);
  EXPECT_EQ(refused.status, 400u) << refused.body;
  // Two patients of one transaction with one MRN: refused whole (409), before anything is
  // written — neither patient, nor the reading placed before them in the bundle, is stored.
  const std::string a = "urn:uuid:11111111-1111-4111-8111-111111111111";
  const std::string b = "urn:uuid:22222222-2222-4222-8222-222222222222";
  json twins = {{"resourceType", "Bundle"},
                {"type", "transaction"},
                {"entry",
                 {vital(a, "8867-4", 99, "/min"),
                  {{"fullUrl", a},
                   {"resource", PatientWithMrn("MRN-3001", "Twin", "One", "female", "1990-01-01")},
                   {"request", {{"method", "POST"}, {"url", "Patient"}}}},
                  {{"fullUrl", b},
                   {"resource", PatientWithMrn("MRN-3001", "Twin", "Two", "female", "1990-01-01")},
                   {"request", {{"method", "POST"}, {"url", "Patient"}}}}}}};
  Reply clash = Fhir(http::verb::post, "", twins);
  EXPECT_EQ(clash.status, 409u) << clash.body;
  EXPECT_NE(clash.body.find("Bundle.entry[2].resource.identifier"), std::string::npos)
      << clash.body;
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?identifier=MRN-3001").Json()["total"], 0);
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?family=twin").Json()["total"], 0);
  // The reading before its patient in the bundle is fine once the MRN clash is gone: patients
  // are created first.
  twins["entry"].erase(2);
  Reply ok = Fhir(http::verb::post, "", twins);
  ASSERT_EQ(ok.status, 200u) << ok.body;
  EXPECT_EQ(ok.Json()["entry"][0]["response"]["status"], "201") << ok.body;
  EXPECT_EQ(ok.Json()["entry"][1]["response"]["status"], "201") << ok.body;

  // All or nothing when only the record can tell: a newborn the bundle creates, and a reading
  // dated before the birth. The reading is refused with the entry's path, and the patient
  // placed before it in the bundle is not created either.
  const std::string baby = "urn:uuid:33333333-3333-4333-8333-333333333333";
  json newborn = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       {{{"fullUrl", baby},
         {"resource", PatientWithMrn("MRN-3002", "Baby", "New", "female", Now(0).substr(0, 10))},
         {"request", {{"method", "POST"}, {"url", "Patient"}}}},
        vital(baby, "8867-4", 140, "/min")}}};
  newborn["entry"][1]["resource"]["effectiveDateTime"] = "2001-01-01T00:00:00Z";
  Reply early = Fhir(http::verb::post, "", newborn);
  EXPECT_EQ(early.status, 422u) << early.body;
  EXPECT_NE(early.body.find("Bundle.entry[1].resource.effective[x]"), std::string::npos)
      << early.body;
  EXPECT_NE(early.body.find("before the patient's birth date"), std::string::npos) << early.body;
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?identifier=MRN-3002").Json()["total"], 0);

  // GET entries are answered after every write of the bundle (R4 §3.1.0.11.2), each as the
  // read or search it names: the patient this transaction creates is found by its MRN, with
  // its reading.
  const std::string gran = "urn:uuid:44444444-4444-4444-8444-444444444444";
  json with_reads = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       {{{"request", {{"method", "GET"}, {"url", "Patient?identifier=MRN-3003"}}}},
        {{"fullUrl", gran},
         {"resource", PatientWithMrn("MRN-3003", "Gran", "Old", "female", "1931-05-05")},
         {"request", {{"method", "POST"}, {"url", "Patient"}}}},
        vital(gran, "8867-4", 64, "/min"),
        {{"request", {{"method", "GET"}, {"url", "Patient/nobody-here"}}}}}}};
  Reply read_back = Fhir(http::verb::post, "", with_reads);
  ASSERT_EQ(read_back.status, 200u) << read_back.body;
  const json answers = read_back.Json();
  ASSERT_EQ(answers["entry"].size(), 4u);
  EXPECT_EQ(answers["entry"][0]["response"]["status"], "200");
  ASSERT_EQ(answers["entry"][0]["resource"]["resourceType"], "Bundle");
  ASSERT_EQ(answers["entry"][0]["resource"]["total"], 1) << answers.dump();
  const std::string gran_id = answers["entry"][0]["resource"]["entry"][0]["resource"]["id"];
  EXPECT_EQ(answers["entry"][1]["response"]["location"], "Patient/" + gran_id + "/_history/1");
  EXPECT_EQ(answers["entry"][3]["response"]["status"], "404");
  EXPECT_EQ(answers["entry"][3]["response"]["outcome"]["resourceType"], "OperationOutcome");
  // DELETE is not something a twin's record does: a transaction with one is refused whole.
  json deleting = {{"resourceType", "Bundle"},
                   {"type", "transaction"},
                   {"entry",
                    {vital("Patient/" + gran_id, "8867-4", 65, "/min"),
                     {{"request", {{"method", "DELETE"}, {"url", "Patient/" + gran_id}}}}}}};
  deleting["entry"][0]["resource"]["effectiveDateTime"] = Now(1);
  Reply no_delete = Fhir(http::verb::post, "", deleting);
  EXPECT_EQ(no_delete.status, 400u) << no_delete.body;
  EXPECT_NE(no_delete.body.find("Bundle.entry[1].request.method"), std::string::npos);
  EXPECT_EQ(Fhir(http::verb::get, "/Observation?patient=" + gran_id).Json()["total"], 1);
}

// PUT Patient?identifier=system|value (R4 conditional update), alone and in a transaction: the
// EHR's upsert by MRN. No match creates, a match updates that patient (a new version), an id
// that is another patient's is refused; a clinician cannot reach a patient off their team by
// it.
TEST_F(FhirIdentity, ConditionalUpdateUpsertsByIdentifier) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  port_ = server.port();
  ASSERT_NE(port_, 0);
  const std::string condition = std::string("/Patient?identifier=") + kMrn + "|CU-1";
  json body = PatientWithMrn("CU-1", "Osei", "Ama", "female", "1961-04-02");
  Reply made = Fhir(http::verb::put, condition, body);
  ASSERT_EQ(made.status, 201u) << made.body;
  const std::string id = made.Json()["id"];
  EXPECT_NE(made.headers["location"].find("/Patient/" + id + "/_history/1"), std::string::npos);
  body["gender"] = "other";
  Reply again = Fhir(http::verb::put, condition, body);
  ASSERT_EQ(again.status, 200u) << again.body;
  EXPECT_EQ(again.Json()["id"], id);
  EXPECT_EQ(again.Json()["meta"]["versionId"], "2");
  EXPECT_EQ(again.Json()["gender"], "other");
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?identifier=CU-1").Json()["total"], 1);

  // In a transaction, with a reading that refers to the entry by its fullUrl.
  const std::string uuid = "urn:uuid:0b6c7c2e-4a51-4d43-9d55-1c2f3e4a5b6c";
  body["birthDate"] = "1961-04-03";
  const json bundle = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       {{{"fullUrl", uuid},
         {"resource", body},
         {"request", {{"method", "PUT"}, {"url", condition.substr(1)}}}},
        {{"resource",
          {{"resourceType", "Observation"},
           {"status", "final"},
           {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
           {"subject", {{"reference", uuid}}},
           {"effectiveDateTime", medtwin::testing_support::Now(3)},
           {"valueQuantity",
            {{"value", 72}, {"system", "http://unitsofmeasure.org"}, {"code", "/min"}}}}},
         {"request", {{"method", "POST"}, {"url", "Observation"}}}}}}};
  Reply tx = Fhir(http::verb::post, "", bundle);
  ASSERT_EQ(tx.status, 200u) << tx.body;
  EXPECT_EQ(tx.Json()["entry"][0]["response"]["status"], "200") << tx.body;
  const json updated = Fhir(http::verb::get, "/Patient/" + id).Json();
  EXPECT_EQ(updated["birthDate"], "1961-04-03");
  EXPECT_EQ(updated["meta"]["versionId"], "3");
  EXPECT_EQ(Fhir(http::verb::get, "/Observation?patient=" + id).Json()["total"], 1);

  // No match, and the body names a patient that exists: a create names its patient itself
  // (the body's id is ignored), so the other patient is untouched and no id can be probed.
  ASSERT_EQ(Fhir(http::verb::put, "/Patient/other-1", {{"resourceType", "Patient"}}).status, 201u);
  json stranger = PatientWithMrn("CU-2", "Mensah", "Kofi", "male", "1970-01-01");
  stranger["id"] = "other-1";
  Reply fresh =
      Fhir(http::verb::put, std::string("/Patient?identifier=") + kMrn + "|CU-2", stranger);
  EXPECT_EQ(fresh.status, 201u) << fresh.body;
  EXPECT_NE(fresh.Json()["id"], "other-1");
  EXPECT_FALSE(Fhir(http::verb::get, "/Patient/other-1").Json().contains("identifier"));
  // A condition that is not one identifier with its system.
  EXPECT_EQ(Fhir(http::verb::put, "/Patient?identifier=CU-1", body).status, 400u);
  EXPECT_EQ(Fhir(http::verb::put, "/Patient", body).status, 400u);
  // A clinician not on the patient's care team cannot update (nor learn of) them this way.
  const std::string clinician = TestAuth::Token(medtwin::security::Role::kClinician, "dr-x");
  Reply off_team = Call(port_, http::verb::put, "/fhir/r4" + condition, body.dump(),
                        "application/fhir+json", clinician);
  EXPECT_EQ(off_team.status, 403u) << off_team.body;
}

TEST_F(FhirIdentity, PatientSearchParametersAndUnknownOnes) {
  Server server("sqlite:" + (dir_ / "twin.db").string());
  port_ = server.port();
  ASSERT_NE(port_, 0);
  ASSERT_EQ(Fhir(http::verb::post, "/Patient",
                 PatientWithMrn("A1", "Nakamura", "Yuki", "female", "1950-03-01"))
                .status,
            201u);
  ASSERT_EQ(Fhir(http::verb::post, "/Patient",
                 PatientWithMrn("A2", "Nakamura", "Kenji", "male", "1981-12-24"))
                .status,
            201u);
  ASSERT_EQ(Fhir(http::verb::post, "/Patient",
                 PatientWithMrn("A3", "Brown", "Yusuf", "male", "1950-08-09"))
                .status,
            201u);
  auto total = [&](const std::string& q) {
    const json b = Fhir(http::verb::get, "/Patient?" + q).Json();
    EXPECT_EQ(b["resourceType"], "Bundle") << q << " " << b.dump();
    return b.value("total", -1);
  };
  EXPECT_EQ(total("family=nakamura"), 2);
  EXPECT_EQ(total("given=yu"), 2);  // Yuki, Yusuf: a word starting with "yu"
  EXPECT_EQ(total("name=kenji"), 1);
  EXPECT_EQ(total("name=enji"), 0);  // the start of a word, not any substring
  EXPECT_EQ(total("gender=male"), 2);
  EXPECT_EQ(total("gender=male&family=brown"), 1);  // repeated parameters: AND
  EXPECT_EQ(total("family=brown,nakamura"), 3);     // commas: OR
  EXPECT_EQ(total("birthdate=1950"), 2);
  EXPECT_EQ(total("birthdate=1950-03"), 1);
  EXPECT_EQ(total("birthdate=ge1960-01-01"), 1);
  EXPECT_EQ(total("birthdate=lt1950-06-01"), 1);
  EXPECT_EQ(total("birthdate=ge1950-01-01&birthdate=le1950-12-31"), 2);
  EXPECT_EQ(total("identifier=A2,A3"), 2);
  const json yuki = Fhir(http::verb::get, "/Patient?identifier=A1").Json();
  EXPECT_EQ(total("_id=" + yuki["entry"][0]["resource"]["id"].get<std::string>()), 1);
  // The self link is the search as asked.
  EXPECT_EQ(yuki["link"][0]["relation"], "self");
  EXPECT_EQ(yuki["link"][0]["url"], "http://127.0.0.1/fhir/r4/Patient?identifier=A1");
  // An unknown parameter is an error naming it, not silently ignored; lenient handling drops it.
  Reply unknown = Fhir(http::verb::get, "/Patient?shoe_size=44");
  EXPECT_EQ(unknown.status, 400u);
  EXPECT_EQ(unknown.Json()["issue"][0]["expression"][0], "Patient?shoe_size");
  Reply lenient = Fhir(http::verb::get, "/Patient?shoe_size=44&family=brown", nullptr,
                       {{"Prefer", "handling=lenient"}});
  EXPECT_EQ(lenient.status, 200u);
  EXPECT_EQ(lenient.Json()["total"], 1);
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?birthdate=yesterday").status, 400u);
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?birthdate=xx1950").status, 400u);  // no such prefix

  // Pages by id: two, then the third by the next link, and back by previous.
  auto link = [](const json& b, const char* relation) -> std::string {
    for (const auto& l : b.value("link", json::array())) {
      if (l["relation"] == relation) {
        return l["url"].get<std::string>().substr(std::string("http://127.0.0.1/fhir/r4").size());
      }
    }
    return "";
  };
  const json first = Fhir(http::verb::get, "/Patient?_count=2").Json();
  ASSERT_EQ(first["entry"].size(), 2u) << first.dump();
  EXPECT_EQ(first["total"], 3);
  EXPECT_EQ(link(first, "previous"), "");
  ASSERT_NE(link(first, "next"), "");
  const json second = Fhir(http::verb::get, link(first, "next")).Json();
  ASSERT_EQ(second["entry"].size(), 1u) << second.dump();
  EXPECT_EQ(link(second, "next"), "");
  EXPECT_GT(second["entry"][0]["resource"]["id"], first["entry"][1]["resource"]["id"]);
  const json back = Fhir(http::verb::get, link(second, "previous")).Json();
  EXPECT_EQ(back["entry"], first["entry"]);
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?_count=0").status, 400u);
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?_cursor=%21").status, 400u);

  // _lastUpdated: to the instant (meta.lastUpdated), by the same date rule. One patient
  // changed after a moment all three were stored: only that one is newer.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  const std::string moment = Now(0);
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  json kenji = Fhir(http::verb::get, "/Patient?identifier=A2").Json()["entry"][0]["resource"];
  kenji["birthDate"] = "1981-12-25";
  ASSERT_EQ(Fhir(http::verb::put, "/Patient/" + kenji["id"].get<std::string>(), kenji).status,
            200u);
  const std::string stamp = Fhir(http::verb::get, "/Patient/" + kenji["id"].get<std::string>())
                                .Json()["meta"]["lastUpdated"];
  EXPECT_EQ(total("_lastUpdated=gt" + moment), 1);
  EXPECT_EQ(total("_lastUpdated=le" + moment), 2);
  EXPECT_EQ(total("_lastUpdated=" + stamp), 1);
  EXPECT_EQ(total("_lastUpdated=ge" + moment.substr(0, 4)), 3);  // this year
  EXPECT_EQ(Fhir(http::verb::get, "/Patient?_lastUpdated=soon").status, 400u);
}

// The MRN and the phone number are direct identifiers: with data keys they are not in the
// store in clear, and they come back after a restart.
TEST_F(FhirIdentity, IdentifiersAreEncryptedAtRest) {
  const fs::path keys = dir_ / "data.keys";
  ASSERT_EQ(std::system((std::string(MEDTWIN_BINARY_DIR) + "/medtwin keys new --ring " +
                         keys.string() + " 2>/dev/null")
                            .c_str()),
            0);
  const std::string store = "sqlite:" + (dir_ / "twin.db").string();
  std::string id;
  {
    Server server(store, {"--data-key", keys.string()});
    port_ = server.port();
    ASSERT_NE(port_, 0);
    Reply r = Fhir(http::verb::post, "/Patient",
                   PatientWithMrn("MRN-SECRET-77", "Ito", "Hana", "female", "1977-01-01"));
    ASSERT_EQ(r.status, 201u) << r.body;
    id = r.Json()["id"];
  }
  std::ifstream db(dir_ / "twin.db", std::ios::binary);
  std::stringstream bytes;
  bytes << db.rdbuf();
  for (const char* wal : {"twin.db-wal"}) {
    std::ifstream w(dir_ / wal, std::ios::binary);
    bytes << w.rdbuf();
  }
  EXPECT_EQ(bytes.str().find("MRN-SECRET-77"), std::string::npos);
  EXPECT_EQ(bytes.str().find("7946 0000"), std::string::npos);
  Server again(store, {"--data-key", keys.string()});
  port_ = again.port();
  const json found = Fhir(http::verb::get, "/Patient?identifier=MRN-SECRET-77").Json();
  ASSERT_EQ(found["total"], 1) << found.dump();
  EXPECT_EQ(found["entry"][0]["resource"]["id"], id);
}

}  // namespace
