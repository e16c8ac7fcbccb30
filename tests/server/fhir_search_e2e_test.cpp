// FHIR Observation search as R4 §3.1.1 has it (issue 16): by code (several, with or without
// the system), category, date, sorted either way, in pages of _count whose next links, followed
// to the end, give every match once even while new readings arrive; _summary=count and
// _include=Observation:patient; parameters it does not know are refused. Against the binary.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::Now;
using medtwin::testing_support::Reply;
using medtwin::testing_support::Server;

json Reading(const char* code, double value, const char* unit, int minutes_ago) {
  return {{"patient", "obs-1"},       {"code", code},   {"value", value}, {"unit", unit},
          {"time", Now(minutes_ago)}, {"source", "e2e"}};
}

std::string Ndjson(const std::vector<json>& items) {
  std::string out;
  for (const auto& j : items) out += j.dump() + "\n";
  return out;
}

// Each test against its own `medtwin serve` on its own SQLite file.
class FhirSearch : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("medtwin_fhir_" + std::string(info->name()) + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    server_ = std::make_unique<Server>("sqlite:" + (dir_ / "twin.db").string());
    port = server_->port();
    ASSERT_NE(port, 0);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  unsigned short port = 0;

 private:
  fs::path dir_;
  std::unique_ptr<Server> server_;
};
using FhirCovariates = FhirSearch;

TEST_F(FhirSearch, ObservationPagesSortsFiltersAndRefusesWhatItDoesNotKnow) {
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"obs-1"})").status, 201u);
  std::vector<json> items;
  for (int k = 0; k < 25; ++k) items.push_back(Reading("8867-4", 70 + k, "/min", 60 + k));
  for (int k = 0; k < 3; ++k) items.push_back(Reading("2708-6", 95 + k, "%", 61 + 2 * k));
  for (int k = 0; k < 2; ++k) items.push_back(Reading("99504-3", 110 + k, "mg/dL", 62 + 2 * k));
  ASSERT_EQ(
      Call(port, http::verb::post, "/api/v1/observations", Ndjson(items), "application/x-ndjson")
          .status,
      200u);
  auto get = [&](const std::string& target) {
    auto r = Call(port, http::verb::get, target);
    EXPECT_EQ(r.status, 200u) << target << " " << r.body;
    return r.Json();
  };
  auto link_of = [](const json& bundle, const char* relation) -> std::string {
    for (const auto& l : bundle.value("link", json::array())) {
      if (l["relation"] == relation) return l["url"];
    }
    return "";
  };
  auto next_of = [&](const json& bundle) { return link_of(bundle, "next"); };

  // Pages of 10 over the 25 heart rates, oldest first; a newer reading arrives after page 1.
  json page = get("/fhir/r4/Observation?patient=obs-1&code=http://loinc.org|8867-4&_count=10");
  EXPECT_EQ(page["total"], 25);
  ASSERT_EQ(page["entry"].size(), 10u);
  EXPECT_EQ(page["entry"][0]["resource"]["valueQuantity"]["value"], 94);  // 84 min ago: oldest
  EXPECT_EQ(page["entry"][0]["resource"]["category"][0]["coding"][0]["code"], "vital-signs");
  EXPECT_EQ(page["entry"][0]["fullUrl"].get<std::string>().rfind(
                "http://127.0.0.1/fhir/r4/Observation/", 0),
            0u);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/observations",
                 Ndjson({Reading("8867-4", 140, "/min", 1)}), "application/x-ndjson")
                .status,
            200u);
  std::vector<double> values;
  std::set<std::string> ids;
  int pages = 0;
  while (true) {
    ++pages;
    for (const auto& e : page["entry"]) {
      values.push_back(e["resource"]["valueQuantity"]["value"]);
      EXPECT_TRUE(ids.insert(e["resource"]["id"].get<std::string>()).second) << "seen twice";
    }
    const std::string next = next_of(page);
    if (next.empty()) break;
    ASSERT_EQ(next.rfind("http://127.0.0.1/fhir/r4/", 0), 0u) << next;
    page = get(next.substr(std::string("http://127.0.0.1").size()));
    ASSERT_LT(pages, 10);
  }
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(values.size(), 26u);  // all 25, and the one that arrived while paging, once each
  for (std::size_t k = 1; k + 1 < values.size(); ++k) EXPECT_LT(values[k], values[k - 1]) << k;
  EXPECT_EQ(values.back(), 140);
  // The first page has no previous link; from the last, previous links lead back through the
  // same pages: the same readings in the same order.
  EXPECT_EQ(link_of(get("/fhir/r4/Observation?patient=obs-1&code=8867-4&_count=10"), "previous"),
            "");
  std::vector<double> backward;
  int back_pages = 0;
  while (true) {
    ++back_pages;
    std::vector<double> here;
    for (const auto& e : page["entry"]) here.push_back(e["resource"]["valueQuantity"]["value"]);
    backward.insert(backward.begin(), here.begin(), here.end());
    const std::string previous = link_of(page, "previous");
    if (previous.empty()) break;
    page = get(previous.substr(std::string("http://127.0.0.1").size()));
    EXPECT_FALSE(next_of(page).empty());
    ASSERT_LT(back_pages, 10);
  }
  EXPECT_EQ(back_pages, 3);
  EXPECT_EQ(backward, values);

  // Newest first.
  json newest = get("/fhir/r4/Observation?patient=obs-1&code=8867-4&_sort=-date&_count=1");
  EXPECT_EQ(newest["entry"][0]["resource"]["valueQuantity"]["value"], 140);
  // Several codes (OR), categories, counts only.
  EXPECT_EQ(get("/fhir/r4/Observation?patient=obs-1&code=8867-4,2708-6&_summary=count")["total"],
            29);
  json count_only = get("/fhir/r4/Observation?patient=obs-1&_summary=count");
  EXPECT_EQ(count_only["total"], 31);
  EXPECT_FALSE(count_only.contains("entry"));
  EXPECT_EQ(get("/fhir/r4/Observation?patient=obs-1&category=laboratory&_summary=count")["total"],
            2);
  EXPECT_EQ(get("/fhir/r4/Observation?patient=obs-1&category=http://terminology.hl7.org/"
                "CodeSystem/observation-category|vital-signs&_summary=count")["total"],
            29);
  // The patient included once, marked as an include.
  json with_patient =
      get("/fhir/r4/Observation?patient=obs-1&code=2708-6&_include=Observation:patient");
  ASSERT_EQ(with_patient["entry"].size(), 4u);
  EXPECT_EQ(with_patient["entry"][3]["resource"]["resourceType"], "Patient");
  EXPECT_EQ(with_patient["entry"][3]["search"]["mode"], "include");
  EXPECT_EQ(with_patient["total"], 3);
  // What it does not know or cannot do: named, not ignored.
  // The twin's outputs and doses: what they do not search is named too.
  for (const char* other :
       {"/fhir/r4/DetectedIssue?patient=obs-1&code=x",
        "/fhir/r4/RiskAssessment?patient=obs-1&date=ge2020",
        "/fhir/r4/MedicationAdministration?patient=obs-1&performer=x",
        "/fhir/r4/MedicationRequest?patient=obs-1&requester=x",
        "/fhir/r4/MedicationAdministration?patient=obs-1&_sort=date",
        "/fhir/r4/MedicationAdministration?patient=obs-1&effective-time=yesterday",
        "/fhir/r4/AuditEvent?agent=x"}) {
    EXPECT_EQ(Call(port, http::verb::get, other).status, 400u) << other;
  }
  for (const char* bad : {"&flavour=sweet", "&_count=0", "&_count=5000", "&_sort=value",
                          "&_summary=text", "&_include=Observation:device", "&_cursor=%21%21"}) {
    auto r = Call(port, http::verb::get, std::string("/fhir/r4/Observation?patient=obs-1") + bad);
    EXPECT_EQ(r.status, 400u) << bad << " " << r.body;
    EXPECT_EQ(r.Json()["resourceType"], "OperationOutcome") << bad;
  }
}

// R4 §3.1.0.1.10: this server speaks FHIR in JSON; asking for XML is 406, sending it 415, and a
// method the resource does not allow is an OperationOutcome too.
TEST_F(FhirSearch, FormatsOtherThanJsonAreRefusedAsTheSpecificationSays) {
  auto call = [&](http::verb verb, const std::string& target, const std::string& body,
                  const std::string& type, std::map<std::string, std::string> headers = {}) {
    return Call(port, verb, target, body, type, medtwin::testing_support::TestAuth::Admin(),
                headers);
  };
  EXPECT_EQ(call(http::verb::get, "/fhir/r4/Patient?_format=xml", "", "").status, 406u);
  EXPECT_EQ(call(http::verb::get, "/fhir/r4/Patient?_format=application/fhir%2Bxml", "", "").status,
            406u);
  EXPECT_EQ(call(http::verb::get, "/fhir/r4/Patient", "", "", {{"Accept", "application/fhir+xml"}})
                .status,
            406u);
  // JSON asked for in any of its spellings, or anything, is answered.
  for (const char* accept : {"application/fhir+json", "application/json; charset=utf-8",
                             "application/fhir+xml;q=0.9, application/fhir+json", "*/*"}) {
    EXPECT_EQ(call(http::verb::get, "/fhir/r4/Patient", "", "", {{"Accept", accept}}).status, 200u)
        << accept;
  }
  EXPECT_EQ(call(http::verb::get, "/fhir/r4/Patient?_format=json", "", "").status, 200u);
  Reply xml = call(http::verb::post, "/fhir/r4/Patient", "<Patient xmlns=\"http://hl7.org/fhir\"/>",
                   "application/fhir+xml");
  EXPECT_EQ(xml.status, 415u) << xml.body;
  EXPECT_EQ(xml.Json()["resourceType"], "OperationOutcome");
  Reply del = call(http::verb::delete_, "/fhir/r4/Patient/anyone", "", "");
  EXPECT_EQ(del.status, 405u);
  EXPECT_EQ(del.Json()["resourceType"], "OperationOutcome");
}

}  // namespace

namespace {

// Body weight, height and serum creatinine are accepted (in the units EHRs send) and set the
// patient's covariates for the drug twins, with the time they were measured; an older
// measurement does not replace a newer one, and a value entered by hand has no such time.
TEST_F(FhirCovariates, MeasurementsSetTheRecordsCovariates) {
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients",
                 R"({"id":"cov-1","weight_kg":70,"models":["vancomycin"]})")
                .status,
            201u);
  auto fhir_obs = [&](const char* code, double value, const char* unit, const std::string& when) {
    const json o = {{"resourceType", "Observation"},
                    {"status", "final"},
                    {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}}},
                    {"subject", {{"reference", "Patient/cov-1"}}},
                    {"effectiveDateTime", when},
                    {"valueQuantity",
                     {{"value", value}, {"system", "http://unitsofmeasure.org"}, {"code", unit}}}};
    return Call(port, http::verb::post, "/fhir/r4/Observation", o.dump(), "application/fhir+json");
  };
  const std::string weighed = Now(30);
  ASSERT_EQ(fhir_obs("29463-7", 154, "[lb_av]", weighed).status, 201u);  // 69.853 kg
  ASSERT_EQ(fhir_obs("8302-2", 69, "[in_i]", weighed).status, 201u);     // 175.26 cm
  auto created = fhir_obs("2160-0", 88.4, "umol/L", Now(20));            // 1.0 mg/dL
  ASSERT_EQ(created.status, 201u) << created.body;
  json p = Call(port, http::verb::get, "/api/v1/patients/cov-1").Json();
  EXPECT_NEAR(p["weight_kg"].get<double>(), 154 * 0.45359237, 1e-9);
  EXPECT_NEAR(p["height_cm"].get<double>(), 69 * 2.54, 1e-9);
  EXPECT_NEAR(p["scr_mg_dl"].get<double>(), 88.4 * 113.12 / 10000, 1e-9);  // µmol/L → mg/dL
  const std::string measured = p["measured_at"]["weight_kg"];
  EXPECT_EQ(measured.substr(0, 19), weighed.substr(0, 19));  // the same second, as sent
  // An older weight is history, not the patient's weight now.
  ASSERT_EQ(fhir_obs("29463-7", 80, "kg", Now(90)).status, 201u);
  p = Call(port, http::verb::get, "/api/v1/patients/cov-1").Json();
  EXPECT_NEAR(p["weight_kg"].get<double>(), 154 * 0.45359237, 1e-9);
  // Entered by hand: the value, without a measurement time.
  ASSERT_EQ(Call(port, http::verb::patch, "/api/v1/patients/cov-1", R"({"weight_kg":72})").status,
            200u);
  p = Call(port, http::verb::get, "/api/v1/patients/cov-1").Json();
  EXPECT_EQ(p["weight_kg"], 72);
  EXPECT_FALSE(p["measured_at"].contains("weight_kg"));
  EXPECT_TRUE(p["measured_at"].contains("height_cm"));
  // Out of the record's range: refused as any reading is.
  EXPECT_EQ(fhir_obs("29463-7", 900, "kg", Now(5)).status, 400u);
}

}  // namespace

namespace {

// R4 search.html "date": a value stands for the period its precision gives; eq is within it,
// ge/gt from its start/after its end, le/lt up to its end/before its start; repeats AND.
// _lastUpdated is when a reading was stored, not when it was measured: readings measured
// days ago and sent now are found by a search for what arrived in the last minutes, each with
// its meta.lastUpdated; what arrives later is not found by a search that ends before.
TEST_F(FhirSearch, ObservationLastUpdatedIsWhenTheReadingWasStored) {
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"obs-1"})").status, 201u);
  // Now to the microsecond (a dateTime with a fraction stands for that fraction).
  auto now_us = [] {
    const auto t = std::chrono::system_clock::now();
    const auto us = std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch());
    char frac[16];
    std::snprintf(frac, sizeof frac, ".%06lldZ", static_cast<long long>(us.count() % 1'000'000));
    std::string whole = medtwin::testing_support::MinutesBefore(t, 0);
    return whole.substr(0, whole.size() - 1) + frac;
  };
  const std::string before = now_us();
  ::usleep(20'000);
  std::vector<json> items;
  for (int k = 0; k < 3; ++k) items.push_back(Reading("8867-4", 70 + k, "/min", 60 * 24 * 3 + k));
  ASSERT_EQ(
      Call(port, http::verb::post, "/api/v1/observations", Ndjson(items), "application/x-ndjson")
          .status,
      200u);
  ::usleep(20'000);
  const std::string between = now_us();
  ::usleep(20'000);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/observations",
                 Ndjson({Reading("2708-6", 96, "%", 60 * 24 * 3)}), "application/x-ndjson")
                .status,
            200u);
  auto get = [&](const std::string& target) {
    auto r = Call(port, http::verb::get, target);
    EXPECT_EQ(r.status, 200u) << target << " " << r.body;
    return r.Json();
  };
  const std::string base = "/fhir/r4/Observation?patient=obs-1";
  const json all = get(base + "&_lastUpdated=ge" + before);
  EXPECT_EQ(all["total"], 4);
  for (const auto& e : all["entry"]) {
    const std::string stored = e["resource"]["meta"]["lastUpdated"];
    EXPECT_GE(stored, before.substr(0, 19)) << e.dump();  // (to the second, as formatted)
  }
  EXPECT_EQ(get(base + "&_lastUpdated=lt" + between)["total"], 3);
  EXPECT_EQ(get(base + "&_lastUpdated=ge" + between)["total"], 1);
  EXPECT_EQ(get(base + "&_lastUpdated=lt" + before)["total"], 0);
  // ANDed with the measurement date: measured three days ago, stored now.
  EXPECT_EQ(get(base + "&date=lt" + before + "&_lastUpdated=ge" + before)["total"], 4);
  EXPECT_EQ(Call(port, http::verb::get, base + "&_lastUpdated=recently").status, 400u);
}

TEST_F(FhirSearch, ObservationDatePrefixesFollowThePeriodOfTheValue) {
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"obs-1"})").status, 201u);
  std::vector<json> items;
  int k = 0;
  for (const char* t : {"2025-12-31T23:00:00Z", "2026-01-01T10:00:00Z", "2026-01-31T10:00:00Z",
                        "2026-02-01T00:30:00Z"}) {
    json r = Reading("8867-4", 60 + k++, "/min", 0);
    r["time"] = t;
    items.push_back(r);
  }
  ASSERT_EQ(
      Call(port, http::verb::post, "/api/v1/observations", Ndjson(items), "application/x-ndjson")
          .status,
      200u);
  auto total = [&](const std::string& dates) {
    auto r =
        Call(port, http::verb::get, "/fhir/r4/Observation?patient=obs-1&_summary=count" + dates);
    EXPECT_EQ(r.status, 200u) << dates << " " << r.body;
    return r.Json().value("total", -1);
  };
  EXPECT_EQ(total("&date=2026-01"), 2);
  EXPECT_EQ(total("&date=2026"), 3);
  EXPECT_EQ(total("&date=2026-01-31"), 1);
  EXPECT_EQ(total("&date=le2026-01-31"), 3);
  EXPECT_EQ(total("&date=lt2026-01-31"), 2);
  EXPECT_EQ(total("&date=gt2026-01-01"), 2);
  EXPECT_EQ(total("&date=ge2026-01-01"), 3);
  EXPECT_EQ(total("&date=ge2026-01-01&date=lt2026-02"), 2);
  EXPECT_EQ(total("&date=lt2026-02&date=ge2026-01-01"), 2);  // order does not matter
  EXPECT_EQ(total("&date=ge2026-01-31T10:00:00Z"), 2);
  EXPECT_EQ(Call(port, http::verb::get, "/fhir/r4/Observation?patient=obs-1&date=ne2026").status,
            400u);
}

// A conditional create decides which patient data lands on: only identifier=system|value, only
// for callers who may create patients, and its answers name no count.
TEST_F(FhirSearch, ConditionalCreateIsNoProbe) {
  const json patient = {{"resourceType", "Patient"},
                        {"identifier", {{{"system", "urn:mrn"}, {"value", "X-1"}}}},
                        {"name", {{{"family", "Doe"}}}}};
  auto post = [&](const std::string& condition, const std::string& token) {
    return Call(port, http::verb::post, "/fhir/r4/Patient", patient.dump(), "application/fhir+json",
                token, {{"If-None-Exist", condition}});
  };
  const std::string admin = medtwin::testing_support::TestAuth::Admin();
  ASSERT_EQ(post("identifier=urn:mrn|X-1", admin).status, 201u);
  for (const char* condition :
       {"family=Doe", "identifier=X-1", "identifier=|X-1", "identifier=urn:mrn|",
        "identifier=urn:mrn|X-1,urn:mrn|X-2", "identifier=urn:mrn|X-1&gender=male"}) {
    EXPECT_EQ(post(condition, admin).status, 400u) << condition;
  }
  // A device may not create patients, so it learns nothing from a condition.
  const std::string device = medtwin::testing_support::TestAuth::Token(
      medtwin::security::Role::kDevice, "monitor-7", "someone");
  Reply probe = post("identifier=urn:mrn|X-1", device);
  EXPECT_EQ(probe.status, 403u) << probe.body;
  EXPECT_EQ(probe.body.find("X-1"), std::string::npos);
}

}  // namespace

// A patient with more readings than one store page (a year of CGM is 105,000): the search
// reads them all — total, newest and oldest are the record's, whether the store filters by
// code or the search does.
TEST_F(FhirSearch, APatientWithMoreReadingsThanOneStorePage) {
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"obs-1"})").status, 201u);
  constexpr int kReadings = 120'000;
  for (int chunk = 0; chunk < kReadings; chunk += 40'000) {
    std::string body;
    for (int k = chunk; k < chunk + 40'000; ++k) {
      body += Reading("8867-4", 50 + k % 150, "/min", k).dump() + "\n";
    }
    auto r = Call(port, http::verb::post, "/api/v1/observations", body, "application/x-ndjson");
    ASSERT_EQ(r.status, 200u) << r.body.substr(0, 300);
  }
  auto get = [&](const std::string& target) {
    auto r = Call(port, http::verb::get, "/fhir/r4/Observation?patient=obs-1" + target);
    EXPECT_EQ(r.status, 200u) << target << " " << r.body.substr(0, 300);
    return r.Json();
  };
  for (const char* filter : {"&code=http://loinc.org|8867-4", "&category=vital-signs"}) {
    SCOPED_TRACE(filter);
    EXPECT_EQ(get(std::string(filter) + "&_summary=count")["total"], kReadings);
    EXPECT_EQ(get(std::string(filter) +
                  "&_sort=-date&_count=1")["entry"][0]["resource"]["valueQuantity"]["value"],
              50);  // 0 minutes ago
    EXPECT_EQ(get(std::string(filter) +
                  "&_sort=date&_count=1")["entry"][0]["resource"]["valueQuantity"]["value"],
              50 + (kReadings - 1) % 150);  // the oldest
  }
}

// The resources the twin derives and a patient's doses search as R4 has them too: each
// parameter the CapabilityStatement lists (dates with prefixes, tokens with or without the
// system), sorted either way, _count pages whose links reach every match once, _summary=count;
// AuditEvent by patient, date and action, newest first.
TEST_F(FhirSearch, DosesAlertsAndAuditRecordsSearchByTheirOwnParameters) {
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients",
                 R"({"id":"ld-1","models":["vancomycin"],"weight_kg":80})")
                .status,
            201u);
  // Five doses, 12 h apart, the newest 1 h ago.
  json doses = json::array();
  for (int k = 0; k < 5; ++k) {
    doses.push_back({{"type", "dose"},
                     {"drug", "vancomycin"},
                     {"amount", 1000 + 250 * k},
                     {"unit", "mg"},
                     {"duration_h", 1},
                     {"time", Now(60 + 720 * (4 - k))}});
  }
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/ld-1/events", doses.dump()).status,
            200u);
  // A low SpO2 raises an alert (a DetectedIssue).
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/observations",
                 json{{"patient", "ld-1"},
                      {"code", "2708-6"},
                      {"value", 84},
                      {"unit", "%"},
                      {"time", Now(5)},
                      {"source", "e2e"}}
                     .dump())
                .status,
            200u);
  auto get = [&](const std::string& target) {
    auto r = Call(port, http::verb::get, target);
    EXPECT_EQ(r.status, 200u) << target << " " << r.body;
    return r.Json();
  };
  const std::string ma = "/fhir/r4/MedicationAdministration?patient=ld-1";
  EXPECT_EQ(get(ma)["total"], 5);
  // The two newest by date (ge: given at or after 20 h ago: 1 h and 13 h ago), none in the
  // future.
  EXPECT_EQ(get(ma + "&effective-time=ge" + Now(60 * 20))["total"], 2);
  EXPECT_EQ(get(ma + "&effective-time=lt" + Now(60 * 20))["total"], 3);
  EXPECT_EQ(get(ma + "&effective-time=gt" + Now(-60))["total"], 0);
  // By the medication's RxNorm code, with and without the system; another drug finds none.
  EXPECT_EQ(get(ma + "&code=http://www.nlm.nih.gov/research/umls/rxnorm%7C11124")["total"], 5);
  EXPECT_EQ(get(ma + "&code=11124")["total"], 5);
  EXPECT_EQ(get(ma + "&code=11289")["total"], 0);
  EXPECT_EQ(get(ma + "&status=completed,not-done")["total"], 5);
  EXPECT_EQ(get(ma + "&_summary=count").count("entry"), 0u);
  // Newest first, two per page, every dose once by following next to the end; previous comes
  // back to the first page.
  std::vector<double> amounts;
  std::string next = ma + "&_sort=-effective-time&_count=2";
  std::string first_page_next;
  json page;
  for (int hops = 0; !next.empty() && hops < 10; ++hops) {
    page = get(next.substr(next.find("/fhir/r4")));
    for (const auto& e : page["entry"]) {
      amounts.push_back(e["resource"]["dosage"]["dose"]["value"].get<double>());
    }
    next.clear();
    for (const auto& l : page.value("link", json::array())) {
      if (l["relation"] == "next") next = l["url"];
    }
    if (hops == 0) first_page_next = next;
  }
  EXPECT_EQ(amounts, (std::vector<double>{2000, 1750, 1500, 1250, 1000}));
  json second = get(first_page_next.substr(first_page_next.find("/fhir/r4")));
  std::string previous;
  for (const auto& l : second["link"]) {
    if (l["relation"] == "previous") previous = l["url"];
  }
  ASSERT_FALSE(previous.empty()) << second.dump();
  json back = get(previous.substr(previous.find("/fhir/r4")));
  ASSERT_EQ(back["entry"].size(), 2u);
  EXPECT_EQ(back["entry"][0]["resource"]["dosage"]["dose"]["value"], 2000);

  // The alert: open (preliminary), identified in the last hour.
  const std::string di = "/fhir/r4/DetectedIssue?patient=ld-1";
  ASSERT_GE(get(di)["total"].get<int>(), 1);
  EXPECT_EQ(get(di + "&status=preliminary")["total"], get(di)["total"]);
  EXPECT_EQ(get(di + "&status=final")["total"], 0);
  EXPECT_EQ(get(di + "&identified=ge" + Now(60))["total"], get(di)["total"]);
  EXPECT_EQ(get(di + "&identified=lt" + Now(60))["total"], 0);
  // One by its id.
  const std::string issue_id = get(di)["entry"][0]["resource"]["id"];
  EXPECT_EQ(get(di + "&_id=" + issue_id)["total"], 1);

  // The ledger: records naming the patient, in the last hour, newest first; the searches
  // (action E) among them, the create (C) too.
  const json audit = get("/fhir/r4/AuditEvent?patient=ld-1&date=ge" + Now(60) + "&_count=50");
  ASSERT_GE(audit["total"].get<int>(), 3);
  std::string newer = "9999";
  for (const auto& e : audit["entry"]) {
    const std::string recorded = e["resource"]["recorded"];
    EXPECT_LE(recorded, newer);
    newer = recorded;
    bool names_patient = false;
    for (const auto& entity : e["resource"]["entity"]) {
      names_patient = names_patient || entity["what"]["reference"] == "Patient/ld-1";
    }
    EXPECT_TRUE(names_patient) << e.dump();
  }
  const json searches = get("/fhir/r4/AuditEvent?patient=Patient/ld-1&action=E&_summary=count");
  EXPECT_GE(searches["total"].get<int>(), 1);
  EXPECT_LT(searches["total"].get<int>(), audit["total"].get<int>());
  EXPECT_GE(get("/fhir/r4/AuditEvent?patient=ld-1&action=C")["total"].get<int>(), 1);
}
