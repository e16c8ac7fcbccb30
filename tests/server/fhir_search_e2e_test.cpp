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

TEST(FhirSearch, ObservationPagesSortsFiltersAndRefusesWhatItDoesNotKnow) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_search_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
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
  // The twin's outputs and doses search by patient only: anything else is named too.
  for (const char* other :
       {"/fhir/r4/DetectedIssue?patient=obs-1&status=open",
        "/fhir/r4/RiskAssessment?patient=obs-1&date=ge2020",
        "/fhir/r4/MedicationAdministration?patient=obs-1&code=x",
        "/fhir/r4/MedicationRequest?patient=obs-1&intent=order", "/fhir/r4/AuditEvent?agent=x"}) {
    EXPECT_EQ(Call(port, http::verb::get, other).status, 400u) << other;
  }
  for (const char* bad : {"&flavour=sweet", "&_count=0", "&_count=5000", "&_sort=value",
                          "&_summary=text", "&_include=Observation:device", "&_cursor=%21%21"}) {
    auto r = Call(port, http::verb::get, std::string("/fhir/r4/Observation?patient=obs-1") + bad);
    EXPECT_EQ(r.status, 400u) << bad << " " << r.body;
    EXPECT_EQ(r.Json()["resourceType"], "OperationOutcome") << bad;
  }
  fs::remove_all(dir);
}

// R4 §3.1.0.1.10: this server speaks FHIR in JSON; asking for XML is 406, sending it 415, and a
// method the resource does not allow is an OperationOutcome too.
TEST(FhirSearch, FormatsOtherThanJsonAreRefusedAsTheSpecificationSays) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_fmt_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
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
  fs::remove_all(dir);
}

}  // namespace

namespace {

// Body weight, height and serum creatinine are accepted (in the units EHRs send) and set the
// patient's covariates for the drug twins, with the time they were measured; an older
// measurement does not replace a newer one, and a value entered by hand has no such time.
TEST(FhirCovariates, MeasurementsSetTheRecordsCovariates) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_cov_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
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
  fs::remove_all(dir);
}

}  // namespace

namespace {

// R4 search.html "date": a value stands for the period its precision gives; eq is within it,
// ge/gt from its start/after its end, le/lt up to its end/before its start; repeats AND.
TEST(FhirSearch, ObservationDatePrefixesFollowThePeriodOfTheValue) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_date_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
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
  fs::remove_all(dir);
}

// A conditional create decides which patient data lands on: only identifier=system|value, only
// for callers who may create patients, and its answers name no count.
TEST(FhirSearch, ConditionalCreateIsNoProbe) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_probe_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
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
  fs::remove_all(dir);
}

}  // namespace

// A patient with more readings than one store page (a year of CGM is 105,000): the search
// reads them all — total, newest and oldest are the record's, whether the store filters by
// code or the search does.
TEST(FhirSearch, APatientWithMoreReadingsThanOneStorePage) {
  const fs::path dir =
      fs::temp_directory_path() / ("medtwin_fhir_search_big_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "twin.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
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
  fs::remove_all(dir);
}
