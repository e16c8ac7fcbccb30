// End-to-end against the real binary: `medtwin serve` started by the test on a free port, with
// SQLite or a real PostgreSQL; patients, ingest (JSON, arrays, NDJSON) with per-item errors,
// twin and NEWS2, alerts and acknowledgement, history paging, the live stream, size limits,
// and nothing acknowledged lost across kill -9.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <thread>

#include "../support/auth.h"
#include "../support/mutate.h"
#include "../support/pg_server.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::FittedTwin;
using medtwin::testing_support::Now;
using medtwin::testing_support::PostgresServer;
using medtwin::testing_support::Reply;
using medtwin::testing_support::Server;
using medtwin::testing_support::TestAuth;
const auto* const kPostgres = ::testing::AddGlobalTestEnvironment(new PostgresServer);

json VitalSet(const std::string& patient, const std::string& time, double rr, double spo2,
              double o2, double sbp, double hr, const char* acvpu, double temp) {
  auto o = [&](const char* code, json value, const char* unit) {
    json j = {
        {"patient", patient}, {"code", code}, {"value", value}, {"time", time}, {"source", "e2e"}};
    if (unit != nullptr) j["unit"] = unit;
    return j;
  };
  return json::array({o("9279-1", rr, "/min"), o("2708-6", spo2, "%"), o("3151-8", o2, "L/min"),
                      o("8480-6", sbp, "mm[Hg]"), o("8867-4", hr, "/min"),
                      o("80288-4", acvpu, nullptr), o("8310-5", temp, "Cel")});
}

class ServerE2e : public medtwin::testing_support::StoreTest {
 protected:
  void SetUp() override { OpenStore("medtwin_e2e_", "twin.db"); }
};

TEST_P(ServerE2e, PatientsIngestTwinAlertsHistoryAndErrors) {
  Server server(store_, {"--body-limit-mb", "1"});
  const auto port = server.port();
  ASSERT_NE(port, 0) << "server did not start";
  EXPECT_EQ(Call(port, http::verb::get, "/healthz").Json()["status"], "ok");

  // Patients.
  auto created = Call(port, http::verb::post, "/api/v1/patients",
                      R"({"id":"bed-1","sex":"female","weight_kg":70})");
  ASSERT_EQ(created.status, 201) << created.body;
  EXPECT_EQ(created.Json()["id"], "bed-1");
  auto duplicate = Call(port, http::verb::post, "/api/v1/patients", R"({"id":"bed-1"})");
  EXPECT_EQ(duplicate.status, 409);
  EXPECT_EQ(duplicate.Json()["error"]["code"], "already_exists");
  auto anon = Call(port, http::verb::post, "/api/v1/patients", R"({"sex":"male"})");
  ASSERT_EQ(anon.status, 201);
  EXPECT_FALSE(anon.Json()["id"].get<std::string>().empty());
  auto bad = Call(port, http::verb::post, "/api/v1/patients", R"({"weight_kg":-1})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["error"]["field"], "weight_kg");
  EXPECT_EQ(Call(port, http::verb::post, "/api/v1/patients", "{oops").Json()["error"]["field"],
            "body");
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients/nobody").status, 404);
  auto updated = Call(port, http::verb::put, "/api/v1/patients/bed-1", R"({"scr_mg_dl":1.2})");
  ASSERT_EQ(updated.status, 200);
  EXPECT_EQ(updated.Json()["weight_kg"], 70);

  // Ingest: a full normal set, one bad item among them.
  // One timestamp for the set and its resend: a second boundary between them would make the
  // resend new data rather than a duplicate.
  const std::string normal_time = Now(30);
  json set = VitalSet("bed-1", normal_time, 16, 97, 0, 125, 72, "A", 37.0);
  set.push_back({{"code", "2708-6"}, {"value", 120}, {"unit", "%"}, {"time", normal_time}});
  auto ingest = Call(port, http::verb::post, "/api/v1/patients/bed-1/observations", set.dump());
  ASSERT_EQ(ingest.status, 200) << ingest.body;
  EXPECT_EQ(ingest.Json()["accepted"].size(), 7u);
  ASSERT_EQ(ingest.Json()["rejected"].size(), 1u);
  EXPECT_EQ(ingest.Json()["rejected"][0]["index"], 7);
  EXPECT_EQ(ingest.Json()["rejected"][0]["field"], "value");
  auto twin = Call(port, http::verb::get, "/api/v1/patients/bed-1/twin").Json();
  EXPECT_EQ(twin["news2"]["total"], 0);
  EXPECT_EQ(twin["news2"]["risk"], "low");
  // The same set again: duplicates, not new.
  auto again = Call(port, http::verb::post, "/api/v1/patients/bed-1/observations",
                    VitalSet("bed-1", normal_time, 16, 97, 0, 125, 72, "A", 37.0).dump());
  EXPECT_TRUE(again.Json()["accepted"][0]["duplicate"].get<bool>());

  // NDJSON bulk: a deteriorated set, a malformed line, an unknown patient.
  std::string ndjson;
  for (const auto& o : VitalSet("bed-1", Now(0), 26, 91, 2, 95, 125, "C", 39.2)) {
    ndjson += o.dump() + "\n";
  }
  ndjson += "{not json\n";
  ndjson += json({{"patient", "ghost"},
                  {"code", "8867-4"},
                  {"value", 80},
                  {"unit", "/min"},
                  {"time", Now(0)}})
                .dump() +
            "\n";
  auto bulk = Call(port, http::verb::post, "/api/v1/observations", ndjson, "application/x-ndjson");
  ASSERT_EQ(bulk.status, 200) << bulk.body;
  EXPECT_EQ(bulk.Json()["accepted"].size(), 7u);
  ASSERT_EQ(bulk.Json()["rejected"].size(), 2u);
  EXPECT_EQ(bulk.Json()["rejected"][0]["line"], 8);
  EXPECT_EQ(bulk.Json()["rejected"][0]["reason"], "malformed JSON");
  EXPECT_EQ(bulk.Json()["rejected"][1]["line"], 9);
  EXPECT_EQ(bulk.Json()["rejected"][1]["reason"], "unknown patient");

  // Twin, alerts, acknowledgement.
  twin = Call(port, http::verb::get, "/api/v1/patients/bed-1/twin").Json();
  EXPECT_EQ(twin["news2"]["total"], 3 + 3 + 2 + 2 + 2 + 3 + 2);  // SpO2 91 scores 3
  EXPECT_EQ(twin["news2"]["risk"], "high");
  auto alerts = Call(port, http::verb::get, "/api/v1/alerts?status=open&patient=bed-1").Json();
  std::string news2_id;
  for (const auto& a : alerts) {
    if (a["kind"] == "news2") news2_id = a["id"];
  }
  ASSERT_FALSE(news2_id.empty()) << alerts.dump();
  auto ack =
      Call(port, http::verb::post, "/api/v1/alerts/" + news2_id + "/ack", R"({"by":"rn-7"})");
  ASSERT_EQ(ack.status, 200);
  EXPECT_EQ(ack.Json()["status"], "acknowledged");
  EXPECT_EQ(Call(port, http::verb::post, "/api/v1/alerts/987654321/ack").status, 404);
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/alerts?status=maybe").status, 400);

  // History: paging with a cursor.
  auto page1 = Call(port, http::verb::get, "/api/v1/patients/bed-1/observations?limit=10");
  ASSERT_EQ(page1.status, 200);
  EXPECT_EQ(page1.Json().size(), 10u);
  ASSERT_FALSE(page1.next_cursor.empty());
  auto page2 = Call(port, http::verb::get,
                    "/api/v1/patients/bed-1/observations?limit=10&cursor=" + page1.next_cursor);
  EXPECT_EQ(page2.Json().size(), 4u);
  EXPECT_TRUE(page2.next_cursor.empty());
  auto hr = Call(port, http::verb::get, "/api/v1/patients/bed-1/observations?code=8867-4").Json();
  ASSERT_EQ(hr.size(), 2u);
  EXPECT_EQ(hr[1]["value"], 125);
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients/bed-1/observations?limit=0").status, 400);
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients/bed-1/observations?from=x").status, 400);

  // Oversized body: 413, and the server goes on serving.
  auto big = Call(port, http::verb::post, "/api/v1/observations", std::string(2 << 20, ' '));
  EXPECT_EQ(big.status, 413);
  EXPECT_EQ(Call(port, http::verb::get, "/healthz").status, 200);
  EXPECT_NE(
      Call(port, http::verb::get, "/metrics").body.find("medtwin_observations_accepted_total 14"),
      std::string::npos);
}

TEST_P(ServerE2e, NothingAcknowledgedIsLostOnKillNine) {
  json news2_before;
  {
    Server server(store_);
    const auto port = server.port();
    ASSERT_NE(port, 0);
    ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"k1"})").status, 201);
    ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/k1/observations",
                   VitalSet("k1", Now(1), 22, 94, 0, 105, 105, "A", 38.4).dump())
                  .status,
              200);
    // 500 heart rates, acknowledged in batches of 50.
    for (int b = 0; b < 10; ++b) {
      std::string ndjson;
      for (int i = 0; i < 50; ++i) {
        const int k = b * 50 + i;
        char time[40];
        std::snprintf(time, sizeof time, "2026-01-01T%02d:%02d:%02dZ", k / 3600, (k / 60) % 60,
                      k % 60);
        ndjson += json({{"patient", "k1"},
                        {"code", "8867-4"},
                        {"value", 60 + k % 40},
                        {"unit", "/min"},
                        {"time", time},
                        {"source", "kill"}})
                      .dump() +
                  "\n";
      }
      auto r = Call(port, http::verb::post, "/api/v1/observations", ndjson);
      ASSERT_EQ(r.status, 200);
      ASSERT_EQ(r.Json()["accepted"].size(), 50u);
    }
    news2_before = Call(port, http::verb::get, "/api/v1/patients/k1/twin").Json()["news2"];
    // Acknowledge the NEWS2 alert: the acknowledgement is data too.
    const json open = Call(port, http::verb::get, "/api/v1/alerts?patient=k1&status=open").Json();
    ASSERT_FALSE(open.empty());
    ASSERT_EQ(
        Call(port, http::verb::post, "/api/v1/alerts/" + open[0]["id"].get<std::string>() + "/ack",
             R"({"by":"rn-2"})")
            .status,
        200);
    server.Stop(SIGKILL);
  }
  Server again(store_);
  ASSERT_NE(again.port(), 0);
  auto all = Call(again.port(), http::verb::get,
                  "/api/v1/patients/k1/observations?code=8867-4&limit=100000");
  EXPECT_EQ(all.Json().size(), 501u);
  EXPECT_EQ(Call(again.port(), http::verb::get, "/api/v1/patients/k1/twin").Json()["news2"],
            news2_before);
  const json alerts = Call(again.port(), http::verb::get, "/api/v1/alerts?patient=k1").Json();
  ASSERT_FALSE(alerts.empty());
  EXPECT_EQ(alerts[0]["status"], "acknowledged") << alerts.dump();
  // The body's "by" is not believed: who acknowledged is who signed in.
  EXPECT_EQ(alerts[0]["acknowledged_by"], "test-admin");
  // Acks are not accepted as ordinary events.
  auto fake = Call(
      again.port(), http::verb::post, "/api/v1/patients/k1/events",
      json(
          {{"type", "ack"}, {"alert_kind", "news2"}, {"alert_raised_at", Now(1)}, {"time", Now(0)}})
          .dump());
  EXPECT_EQ(fake.status, 422);
}

TEST_P(ServerE2e, LiveStreamCarriesObservationsAndAlerts) {
  Server server(store_);
  const auto port = server.port();
  ASSERT_NE(port, 0);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"s1"})").status, 201);
  // Open the stream with a raw socket and read what arrives.
  net::io_context ioc;
  net::ip::tcp::socket sock(ioc);
  sock.connect({net::ip::make_address("127.0.0.1"), port});
  const std::string req =
      "GET /api/v1/stream?patient=s1 HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Bearer " +
      TestAuth::Admin() + "\r\n\r\n";
  net::write(sock, net::buffer(req));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/s1/observations",
                 json({{"code", "2708-6"}, {"value", 84}, {"unit", "%"}, {"time", Now(0)}}).dump())
                .status,
            200);
  std::string got;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  sock.non_blocking(true);
  while (std::chrono::steady_clock::now() < deadline &&
         (got.find("event: alert") == std::string::npos ||
          got.find("event: observation") == std::string::npos)) {
    char buf[4096];
    boost::system::error_code ec;
    const std::size_t n = sock.read_some(net::buffer(buf), ec);
    if (n > 0) got.append(buf, n);
    if (ec == net::error::would_block) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(got.find("text/event-stream"), std::string::npos);
  EXPECT_NE(got.find("event: observation"), std::string::npos) << got;
  EXPECT_NE(got.find("event: alert"), std::string::npos) << got;
  EXPECT_NE(got.find("spo2-low"), std::string::npos) << got;
}

// The glucose twin in the server: events (basal, insulin, meals) and CGM readings keep it in
// sync; a steep fall raises a predicted-hypoglycemia alert before any reading is low; the twin
// shows its estimate and 30/60/120-min forecast bands; events come back from the store.
TEST_P(ServerE2e, GlucoseTwinFollowsCgmAndPredictsHypoglycemia) {
  Server server(store_);
  const auto port = server.port();
  ASSERT_NE(port, 0);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients",
                 R"({"id":"g1","models":["news2","glucose"],"virtual_patient":"adult#002"})")
                .status,
            201);
  // Two hours ago: basal running, then a large correction bolus; CGM every 5 min falling.
  json events =
      json::array({{{"type", "basal"}, {"rate", 1.1}, {"unit", "U/h"}, {"time", Now(125)}},
                   {{"type", "insulin"}, {"amount", 6}, {"unit", "U"}, {"time", Now(120)}},
                   {{"type", "meal"}, {"amount", -5}, {"unit", "g"}, {"time", Now(100)}}});
  auto ev = Call(port, http::verb::post, "/api/v1/patients/g1/events", events.dump());
  ASSERT_EQ(ev.status, 200) << ev.body;
  EXPECT_EQ(ev.Json()["accepted"].size(), 2u);
  ASSERT_EQ(ev.Json()["rejected"].size(), 1u);
  EXPECT_EQ(ev.Json()["rejected"][0]["field"], "amount");
  bool predicted_before_low = false;
  for (int k = 0; k <= 24; ++k) {
    const int minutes_ago = 120 - 5 * k;
    const double cgm = 190 - 4.2 * k;  // 190 → 89 mg/dL
    auto r = Call(port, http::verb::post, "/api/v1/patients/g1/observations",
                  json({{"code", "99504-3"},
                        {"value", cgm},
                        {"unit", "mg/dL"},
                        {"time", Now(minutes_ago)},
                        {"source", "cgm"}})
                      .dump());
    ASSERT_EQ(r.status, 200) << r.body;
    auto alerts = Call(port, http::verb::get, "/api/v1/alerts?patient=g1&status=open").Json();
    for (const auto& a : alerts) {
      if (a["kind"] == "hypoglycemia-predicted" && cgm >= 70) predicted_before_low = true;
    }
  }
  EXPECT_TRUE(predicted_before_low);
  const json twin = Call(port, http::verb::get, "/api/v1/patients/g1/twin").Json();
  const json& g = twin["model_state"]["glucose"];
  ASSERT_TRUE(g.is_object()) << twin.dump();
  EXPECT_EQ(g["parameters_from"], "adult#002");
  ASSERT_EQ(g["forecast"].size(), 3u);
  for (const auto& f : g["forecast"]) {
    EXPECT_LE(f["p05_mg_dl"].get<double>(), f["mean_mg_dl"].get<double>());
    EXPECT_GE(f["p95_mg_dl"].get<double>(), f["mean_mg_dl"].get<double>());
  }
  EXPECT_EQ(g["forecast"][2]["minutes_ahead"], 120);
  EXPECT_NEAR(g["bg_estimate_mg_dl"].get<double>(), 89, 30);
  // What-if on the glucose twin: a meal raises the peak, insulin lowers the trough.
  auto meal = Call(port, http::verb::post, "/api/v1/patients/g1/whatif",
                   R"({"model":"glucose","horizon_min":240,"meals":[{"in_min":0,"grams":60}]})")
                  .Json();
  ASSERT_TRUE(meal.contains("proposed")) << meal.dump();
  EXPECT_GT(meal["proposed"]["highest_mg_dl"].get<double>(),
            meal["current"]["highest_mg_dl"].get<double>() + 20);
  EXPECT_EQ(meal["proposed"]["points"].size(), 16u);
  auto insulin = Call(port, http::verb::post, "/api/v1/patients/g1/whatif",
                      R"({"model":"glucose","insulin":[{"in_min":15,"units":4}]})")
                     .Json();
  EXPECT_LT(insulin["proposed"]["lowest_mg_dl"].get<double>(),
            insulin["current"]["lowest_mg_dl"].get<double>() - 5);
  const json stored = Call(port, http::verb::get, "/api/v1/patients/g1/events").Json();
  ASSERT_EQ(stored.size(), 2u);
  EXPECT_EQ(stored[0]["type"], "basal");
  EXPECT_EQ(stored[1]["amount"], 6);
}

// FHIR R4: metadata, a transaction Bundle of official-style resources, all-or-nothing on a bad
// entry, batch with per-entry outcomes, searches, and the twin's outputs as FHIR resources.
TEST_P(ServerE2e, FhirTransactionBatchSearchAndTwinOutputs) {
  Server server(store_);
  const auto port = server.port();
  ASSERT_NE(port, 0);
  auto meta = Call(port, http::verb::get, "/fhir/r4/metadata").Json();
  EXPECT_EQ(meta["resourceType"], "CapabilityStatement");
  EXPECT_EQ(meta["fhirVersion"], "4.0.1");
  auto obs = [](const std::string& code, double value, const std::string& unit,
                const std::string& when) {
    return json{{"resource",
                 {{"resourceType", "Observation"},
                  {"status", "final"},
                  {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}}},
                  {"subject", {{"reference", "Patient/fx"}}},
                  {"effectiveDateTime", when},
                  {"valueQuantity",
                   {{"value", value}, {"system", "http://unitsofmeasure.org"}, {"code", unit}}}}},
                {"request", {{"method", "POST"}, {"url", "Observation"}}}};
  };
  json patient = {{"resource",
                   {{"resourceType", "Patient"},
                    {"id", "fx"},
                    {"gender", "female"},
                    {"birthDate", "1950-03-01"},
                    {"name", {{{"family", "Example"}, {"given", {"Fiona"}}}}}}},
                  {"request", {{"method", "PUT"}, {"url", "Patient/fx"}}}};
  // A transaction with one bad entry: nothing is applied.
  json bad = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry", {patient, obs("8867-4", 88, "/min", Now(10)), obs("2708-6", 140, "%", Now(10))}}};
  auto rejected = Call(port, http::verb::post, "/fhir/r4", bad.dump(), "application/fhir+json");
  EXPECT_EQ(rejected.status, 400);
  EXPECT_EQ(rejected.Json()["resourceType"], "OperationOutcome");
  EXPECT_EQ(rejected.Json()["issue"][0]["expression"][0],
            "Bundle.entry[2].resource.Observation.valueQuantity.value");
  EXPECT_EQ(Call(port, http::verb::get, "/fhir/r4/Patient/fx").status, 404);
  // The good transaction.
  json good = {{"resourceType", "Bundle"},
               {"type", "transaction"},
               {"entry",
                {patient, obs("8867-4", 88, "/min", Now(10)), obs("2708-6", 84, "%", Now(5)),
                 obs("8310-5", 100.4, "[degF]", Now(5))}}};
  auto ok = Call(port, http::verb::post, "/fhir/r4", good.dump(), "application/fhir+json");
  ASSERT_EQ(ok.status, 200) << ok.body;
  EXPECT_EQ(ok.Json()["type"], "transaction-response");
  const json ok_json = ok.Json();  // keep it alive for the loop
  for (const auto& e : ok_json["entry"]) EXPECT_EQ(e["response"]["status"], "201");
  EXPECT_EQ(Call(port, http::verb::get, "/fhir/r4/Patient/fx").Json()["gender"], "female");
  // Batch: entries stand alone.
  json batch = {{"resourceType", "Bundle"},
                {"type", "batch"},
                {"entry", {obs("9279-1", 18, "/min", Now(4)), obs("9279-1", 18, "kg", Now(3))}}};
  auto b = Call(port, http::verb::post, "/fhir/r4", batch.dump(), "application/fhir+json").Json();
  EXPECT_EQ(b["entry"][0]["response"]["status"], "201");
  EXPECT_EQ(b["entry"][1]["response"]["status"], "400");
  // Search by patient and code; temperature came in °F and is stored in Cel.
  auto temp = Call(port, http::verb::get,
                   "/fhir/r4/Observation?patient=Patient/fx&code=http://loinc.org|8310-5")
                  .Json();
  ASSERT_EQ(temp["total"], 1);
  EXPECT_NEAR(temp["entry"][0]["resource"]["valueQuantity"]["value"].get<double>(), 38.0, 1e-9);
  EXPECT_EQ(temp["entry"][0]["resource"]["valueQuantity"]["code"], "Cel");
  auto all = Call(port, http::verb::get, "/fhir/r4/Observation?patient=fx").Json();
  EXPECT_EQ(all["total"], 4);
  auto none =
      Call(port, http::verb::get, "/fhir/r4/Observation?patient=fx&date=le2000-01-01").Json();
  EXPECT_EQ(none["total"], 0);
  // The twin's outputs: NEWS2 (incomplete set: preliminary) and the SpO2 alert.
  auto ra = Call(port, http::verb::get, "/fhir/r4/RiskAssessment?patient=fx").Json();
  EXPECT_EQ(ra["entry"][0]["resource"]["status"], "preliminary");
  auto di = Call(port, http::verb::get, "/fhir/r4/DetectedIssue?patient=fx").Json();
  ASSERT_GE(di["total"].get<int>(), 1);
  EXPECT_EQ(di["entry"][0]["resource"]["severity"], "high");
  EXPECT_TRUE(di["entry"][0]["resource"]["id"].is_string());  // FHIR ids are strings
  EXPECT_EQ(Call(port, http::verb::get, "/fhir/r4/Observation").status, 400);
}

// The vancomycin twin in the server: doses as events, a level arrives, the twin refits by MAP
// and drafts a regimen. Its estimate equals `medtwin fit` on the same records (the CLI path,
// independent of the server's plumbing).
TEST_P(ServerE2e, DrugLevelRefitsTheTwinAndDraftsADose) {
  Server server(store_);
  const auto port = server.port();
  ASSERT_NE(port, 0);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients",
                 R"({"id":"v1","sex":"male","birth_date":"1960-06-01","weight_kg":85,
                     "scr_mg_dl":1.0,"models":["news2","vancomycin"],
                     "population_model":"vancomycin_goti2018"})")
                .status,
            201);
  // Doses of 1 g over 1 h at −26 h, −14 h, −2 h; a trough 30 min before the third.
  json doses = json::array();
  for (int h : {26, 14, 2}) {
    doses.push_back({{"type", "dose"},
                     {"drug", "vancomycin"},
                     {"amount", 1000},
                     {"unit", "mg"},
                     {"duration_h", 1},
                     {"time", Now(h * 60)}});
  }
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/v1/events", doses.dump()).status, 200);
  auto level = Call(port, http::verb::post, "/api/v1/patients/v1/observations",
                    json({{"code", "20578-1"},
                          {"value", 11.5},
                          {"unit", "mg/L"},
                          {"time", Now(150)},
                          {"source", "lab"}})
                        .dump());
  ASSERT_EQ(level.status, 200) << level.body;
  const json twin = FittedTwin(port, "v1");
  const json& v = twin["model_state"]["vancomycin"];
  ASSERT_TRUE(v.contains("parameters")) << twin.dump();
  ASSERT_EQ(twin["recommendations"].size(), 1u);
  const json& rec = twin["recommendations"][0];
  EXPECT_EQ(rec["status"], "draft");
  EXPECT_EQ(std::fmod(rec["dose_mg"].get<double>(), 250.0), 0.0);
  EXPECT_GT(rec["probability_of_target_attainment"].get<double>(), 0.3);
  // The same fit through the CLI: records in hours since the first dose (level at 26 h − 2.5 h).
  std::ofstream(dir_ / "v.csv") << "ID,TIME,EVID,AMT,RATE,DV,AGE,SEX,SCR,WT,DIAL\n"
                                << "v1,0,1,1000,1000,.,66,0,1.0,85,0\n"
                                << "v1,12,1,1000,1000,.,66,0,1.0,85,0\n"
                                << "v1,23.5,0,.,.,11.5,66,0,1.0,85,0\n"
                                << "v1,24,1,1000,1000,.,66,0,1.0,85,0\n";
  const std::string cmd = std::string(MEDTWIN_BINARY_DIR) +
                          "/medtwin fit --model vancomycin_goti2018 --data " +
                          (dir_ / "v.csv").string() + " --out " + (dir_ / "v.json").string();
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  std::ifstream in(dir_ / "v.json");
  const json cli = json::parse(in);
  const double cl_cli = cli["subjects"][0]["params"]["CL"];
  EXPECT_NEAR(v["parameters"]["CL"].get<double>(), cl_cli, 1e-3 * cl_cli);
  // What-if: at steady state AUC24 = daily dose / CL (linear PK), so 1 g q12h gives 2000/CL
  // and 1.5 g q12h 1.5 times that.
  auto what = Call(port, http::verb::post, "/api/v1/patients/v1/whatif",
                   R"({"model":"vancomycin","regimens":[{"dose_mg":1000,"interval_h":12},
                       {"dose_mg":1500,"interval_h":12,"infusion_h":1.5}]})");
  ASSERT_EQ(what.status, 200) << what.body;
  const json what_json = what.Json();
  const json& regs = what_json["regimens"];
  ASSERT_EQ(regs.size(), 2u);
  const double cl = v["parameters"]["CL"];
  EXPECT_NEAR(regs[0]["auc24_mg_h_per_l"].get<double>(), 2000 / cl, 0.01 * 2000 / cl);
  EXPECT_NEAR(regs[1]["auc24_mg_h_per_l"].get<double>() / regs[0]["auc24_mg_h_per_l"].get<double>(),
              1.5, 0.01);
  EXPECT_GT(regs[0]["steady_state_curve"].size(), 40u);
  // The forecast band: the posterior's 5–95 % holds the MAP curve, and (linear PK) the 1.5-g
  // regimen's band is wider than the 1-g regimen's where both are at their peak.
  for (const auto& reg : regs) {
    for (const auto& p : reg["steady_state_curve"]) {
      EXPECT_LE(p["p05_mg_l"].get<double>(), p["mg_l"].get<double>() * 1.0001);
      EXPECT_GE(p["p95_mg_l"].get<double>(), p["mg_l"].get<double>() * 0.9999);
      EXPECT_GT(p["p95_mg_l"].get<double>(), p["p05_mg_l"].get<double>());
    }
  }
  auto band_at_2h = [&](const json& reg) {
    for (const auto& p : reg["steady_state_curve"]) {
      if (std::abs(p["hours"].get<double>() - 2) < 1e-6) {
        return p["p95_mg_l"].get<double>() - p["p05_mg_l"].get<double>();
      }
    }
    return 0.0;
  };
  EXPECT_GT(band_at_2h(regs[1]), band_at_2h(regs[0]));
  auto bad = Call(port, http::verb::post, "/api/v1/patients/v1/whatif",
                  R"({"model":"vancomycin","regimens":[{"dose_mg":-5,"interval_h":12}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["error"]["field"], "regimens[0]");
}

// Doses as FHIR MedicationAdministration (POST and in a transaction, with an official example
// that records nothing) give the same fit as the same doses as events; the advice appears as a
// draft MedicationRequest; accepting it records a draft order that survives a restart.
TEST_P(ServerE2e, FhirDosesAndAcceptedAdviceBecomeADraftOrder) {
  auto server = std::make_unique<Server>(store_);
  auto port = server->port();
  ASSERT_NE(port, 0);
  for (const char* id : {"rest", "fhir"}) {
    ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients",
                   json({{"id", id},
                         {"sex", "female"},
                         {"birth_date", "1955-01-01"},
                         {"weight_kg", 70},
                         {"scr_mg_dl", 1.3},
                         {"models", {"news2", "vancomycin"}},
                         {"population_model", "vancomycin_goti2018"}})
                       .dump())
                  .status,
              201);
  }
  json events = json::array();
  auto medadmin = [](const std::string& start, const std::string& end) {
    return json{
        {"resourceType", "MedicationAdministration"},
        {"status", "completed"},
        {"medicationCodeableConcept",
         {{"coding",
           {{{"system", "http://www.nlm.nih.gov/research/umls/rxnorm"}, {"code", "11124"}}}}}},
        {"subject", {{"reference", "Patient/fhir"}}},
        {"effectivePeriod", {{"start", start}, {"end", end}}},
        {"dosage",
         {{"dose", {{"value", 1}, {"system", "http://unitsofmeasure.org"}, {"code", "g"}}}}}};
  };
  // One base instant: the REST and FHIR infusions must last exactly 1 h each, or the two fits
  // differ (separate Now() calls may straddle a second).
  const auto base = std::chrono::system_clock::now();
  auto at = [&](int minutes_ago) {
    return medtwin::testing_support::MinutesBefore(base, minutes_ago);
  };
  std::vector<std::string> starts;
  for (int h : {26, 14, 2}) {
    starts.push_back(at(h * 60));
    events.push_back({{"type", "dose"},
                      {"drug", "vancomycin"},
                      {"amount", 1000},
                      {"unit", "mg"},
                      {"duration_h", 1},
                      {"time", starts.back()}});
  }
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients/rest/events", events.dump()).status,
            200);
  auto one = Call(port, http::verb::post, "/fhir/r4/MedicationAdministration",
                  medadmin(starts[0], at(25 * 60)).dump(), "application/fhir+json");
  ASSERT_EQ(one.status, 201) << one.body;
  EXPECT_EQ(one.Json()["dosage"]["dose"]["value"], 1000);
  json error_entry;
  {
    std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) +
                     "/tests/data/fhir/medicationadministration0303.json");
    error_entry = json::parse(in);
    error_entry["subject"]["reference"] = "Patient/fhir";
  }
  json bundle = {{"resourceType", "Bundle"},
                 {"type", "transaction"},
                 {"entry",
                  {{{"resource", medadmin(starts[1], at(13 * 60))}},
                   {{"resource", medadmin(starts[2], at(60))}},
                   {{"resource", error_entry}}}}};
  auto tx = Call(port, http::verb::post, "/fhir/r4", bundle.dump(), "application/fhir+json");
  ASSERT_EQ(tx.status, 200) << tx.body;
  const json tx_json = tx.Json();
  EXPECT_EQ(tx_json["entry"][0]["response"]["status"], "201");
  EXPECT_EQ(tx_json["entry"][2]["response"]["status"], "200");  // entered in error: nothing
  auto administered =
      Call(port, http::verb::get, "/fhir/r4/MedicationAdministration?patient=fhir").Json();
  EXPECT_EQ(administered["total"], 3);
  // Nothing to accept before a level.
  auto nothing = Call(port, http::verb::post, "/api/v1/patients/fhir/recommendations/accept", "{}");
  EXPECT_EQ(nothing.status, 409);
  EXPECT_EQ(nothing.Json()["error"]["code"], "failed_precondition");
  for (const char* id : {"rest", "fhir"}) {
    auto level =
        Call(port, http::verb::post, std::string("/api/v1/patients/") + id + "/observations",
             json({{"code", "20578-1"},
                   {"value", 14},
                   {"unit", "mg/L"},
                   {"time", at(150)},
                   {"source", "lab"}})
                 .dump());
    ASSERT_EQ(level.status, 200) << level.body;
  }
  const json rest = FittedTwin(port, "rest");
  const json fhir = FittedTwin(port, "fhir");
  ASSERT_TRUE(fhir["model_state"]["vancomycin"].contains("parameters")) << fhir.dump();
  EXPECT_NEAR(fhir["model_state"]["vancomycin"]["parameters"]["CL"].get<double>(),
              rest["model_state"]["vancomycin"]["parameters"]["CL"].get<double>(), 1e-9);
  ASSERT_EQ(fhir["recommendations"].size(), 1u);
  const json advice = fhir["recommendations"][0];

  auto requests = Call(port, http::verb::get, "/fhir/r4/MedicationRequest?patient=fhir").Json();
  ASSERT_EQ(requests["total"], 1);
  EXPECT_EQ(requests["entry"][0]["resource"]["intent"], "proposal");
  EXPECT_EQ(requests["entry"][0]["resource"]["status"], "draft");
  EXPECT_EQ(requests["entry"][0]["resource"]["dosageInstruction"][0]["doseAndRate"][0]
                    ["doseQuantity"]["value"],
            advice["dose_mg"]);

  auto bad = Call(port, http::verb::post, "/api/v1/patients/fhir/recommendations/accept",
                  R"({"by":"dr-1","dose_mg":-5})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(bad.Json()["error"]["field"], "dose_mg");
  auto accepted = Call(port, http::verb::post, "/api/v1/patients/fhir/recommendations/accept",
                       R"({"by":"dr-1","infusion_h":2})");
  ASSERT_EQ(accepted.status, 201) << accepted.body;
  const json order = accepted.Json();
  EXPECT_EQ(order["status"], "draft");
  EXPECT_EQ(order["dose_mg"], advice["dose_mg"]);
  EXPECT_EQ(order["interval_h"], advice["interval_h"]);
  EXPECT_EQ(order["infusion_h"], 2);
  // The body said "dr-1"; the order's author is who signed in.
  EXPECT_EQ(order["accepted_by"], "test-admin");
  // Orders cannot be posted as ordinary events.
  EXPECT_EQ(Call(port, http::verb::post, "/api/v1/patients/fhir/events",
                 json({{"type", "order"},
                       {"drug", "vancomycin"},
                       {"amount", 1000},
                       {"interval_h", 12},
                       {"time", Now(0)}})
                     .dump())
                .status,
            422);

  // After a restart the order is still there, and the advice is derived again.
  server.reset();
  server = std::make_unique<Server>(store_);
  port = server->port();
  const json again = FittedTwin(port, "fhir");
  ASSERT_EQ(again["orders"].size(), 1u) << again.dump();
  EXPECT_EQ(again["orders"][0]["infusion_h"], 2);
  EXPECT_EQ(again["recommendations"][0]["dose_mg"], advice["dose_mg"]);
  requests = Call(port, http::verb::get, "/fhir/r4/MedicationRequest?patient=fhir").Json();
  ASSERT_EQ(requests["total"], 2);
  EXPECT_EQ(requests["entry"][1]["resource"]["intent"], "order");
  EXPECT_EQ(requests["entry"][1]["resource"]["requester"]["display"], "test-admin");
}

// Attacks: SQL injection through every text field (stored literally: queries are parameterized
// on both stores), path traversal, oversized headers; the server keeps serving and nothing is
// lost.
TEST_P(ServerE2e, InjectionTraversalAndOversizedHeadersAreHarmless) {
  Server server(store_);
  const auto port = server.port();
  ASSERT_NE(port, 0);
  const std::string evil = "x'); DROP TABLE observations; --\" OR 1=1 \\ %s \u00e9";
  auto created = Call(port, http::verb::post, "/api/v1/patients",
                      json({{"id", "inj-1"},
                            {"name", evil},
                            {"conditions", {evil}},
                            {"care_team", {evil}},
                            {"population_model", evil}})
                          .dump());
  ASSERT_EQ(created.status, 201u) << created.body;
  EXPECT_EQ(Call(port, http::verb::post, "/api/v1/patients", json({{"id", evil}}).dump()).status,
            400u);  // ids are restricted to [A-Za-z0-9._-]
  auto obs = Call(
      port, http::verb::post, "/api/v1/patients/inj-1/observations",
      json(
          {{"code", "8867-4"}, {"value", 80}, {"unit", "/min"}, {"time", Now(3)}, {"source", evil}})
          .dump());
  ASSERT_EQ(obs.status, 200u) << obs.body;
  auto ev = Call(port, http::verb::post, "/api/v1/patients/inj-1/events",
                 json({{"type", "dose"},
                       {"drug", evil},
                       {"amount", 5},
                       {"unit", "mg"},
                       {"time", Now(4)},
                       {"source", evil}})
                     .dump());
  ASSERT_EQ(ev.status, 200u) << ev.body;
  // Query parameters too.
  EXPECT_EQ(Call(port, http::verb::get,
                 "/api/v1/patients/inj-1/observations?code=%27%3B%20DROP"
                 "%20TABLE%20patients%3B--")
                .Json()
                .size(),
            0u);
  EXPECT_EQ(
      Call(port, http::verb::get, "/api/v1/patients/inj-1/observations?cursor=%27%20OR%201%3D1")
          .status,
      400u);
  // Everything is there, literally.
  const json p = Call(port, http::verb::get, "/api/v1/patients/inj-1").Json();
  EXPECT_EQ(p["name"], evil);
  EXPECT_EQ(p["conditions"][0], evil);
  const json history = Call(port, http::verb::get, "/api/v1/patients/inj-1/observations").Json();
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["source"], evil);
  const json events = Call(port, http::verb::get, "/api/v1/patients/inj-1/events").Json();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["drug"], evil.substr(0, 64));
  // Path traversal: no file is ever served from a path.
  for (const char* target : {"/../../../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd",
                             "/api/v1/../../etc/passwd", "/fhir/r4/..%2f..%2fetc%2fpasswd"}) {
    const auto r = Call(port, http::verb::get, target);
    EXPECT_EQ(r.status, 404u) << target;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << target;
  }
  // Headers beyond 8 KiB: 431, and the server goes on.
  {
    net::io_context ioc;
    net::ip::tcp::socket s(ioc);
    s.connect({net::ip::make_address("127.0.0.1"), port});
    const std::string req =
        "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(64 * 1024, 'a') + "\r\n\r\n";
    boost::system::error_code ec;
    net::write(s, net::buffer(req), ec);
    std::string got;
    char buf[512];
    for (;;) {
      const std::size_t n = s.read_some(net::buffer(buf), ec);
      if (n > 0) got.append(buf, n);
      if (ec) break;
    }
    EXPECT_NE(got.find("431"), std::string::npos) << got.substr(0, 200);
  }
  EXPECT_EQ(Call(port, http::verb::get, "/healthz").status, 200u);
  EXPECT_EQ(Call(port, http::verb::get, "/api/v1/patients").Json().size(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Stores, ServerE2e, ::testing::Values("sqlite", "postgresql"),
                         [](const auto& param_info) { return param_info.param; });

// A slow client (headers sent, body never finished) gets 408 after the read timeout while
// other clients are served meanwhile.
TEST(ServerSlowClient, StalledRequestTimesOutOthersAreServed) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_slow_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "s.db").string(), {"--read-timeout-s", "1"});
  const auto port = server.port();
  ASSERT_NE(port, 0);
  net::io_context ioc;
  net::ip::tcp::socket slow(ioc);
  slow.connect({net::ip::make_address("127.0.0.1"), port});
  const std::string partial =
      "POST /api/v1/observations HTTP/1.1\r\nHost: x\r\nContent-Length: "
      "100\r\n\r\n{\"pat";  // stalls before authorization matters
  net::write(slow, net::buffer(partial));
  // Meanwhile another client is served at once.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(Call(port, http::verb::get, "/healthz").status, 200);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::milliseconds(500));
  std::string got;
  char buf[1024];
  boost::system::error_code ec;
  for (;;) {
    const std::size_t n = slow.read_some(net::buffer(buf), ec);
    if (n > 0) got.append(buf, n);
    if (ec) break;
  }
  EXPECT_NE(got.find("408"), std::string::npos) << got;
  EXPECT_NE(got.find("timeout"), std::string::npos) << got;
  fs::remove_all(dir);
}

// `medtwin devices` streams the simulated ward and CGMs into a running server over HTTP.
TEST(DevicesCli, StreamsIntoARunningServer) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_dev_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  {
    Server server("sqlite:" + (dir / "d.db").string());
    ASSERT_NE(server.port(), 0);
    const std::string out = medtwin::testing_support::Shell(
        std::string(MEDTWIN_BINARY_DIR) + "/medtwin devices --patients 4 --glucose-patients 1 " +
        "--speed 3000 --duration 2 --to http://127.0.0.1:" + std::to_string(server.port()) +
        " --token " + TestAuth::Admin() + " 2>/dev/null");
    EXPECT_NE(out.find("observations sent"), std::string::npos) << out;
    const auto patients = Call(server.port(), http::verb::get, "/api/v1/patients").Json();
    EXPECT_EQ(patients.size(), 7u);  // 4 ward, 1 CGM, 1 vancomycin, 1 warfarin (the defaults)
    const auto levels =
        Call(server.port(), http::verb::get, "/api/v1/patients/vanco-01/observations?code=20578-1")
            .Json();
    EXPECT_GE(levels.size(), 1u);
    const auto ward =
        Call(server.port(), http::verb::get, "/api/v1/patients/ward-01/observations?code=8867-4")
            .Json();
    EXPECT_GE(ward.size(), 2u);
    const auto cgm =
        Call(server.port(), http::verb::get, "/api/v1/patients/t1d-01/observations?code=99504-3")
            .Json();
    EXPECT_GE(cgm.size(), 10u);
    auto twin = Call(server.port(), http::verb::get, "/api/v1/patients/ward-03/twin").Json();
    EXPECT_TRUE(twin["news2"]["complete"].get<bool>()) << twin.dump();
  }
  const std::string bad = medtwin::testing_support::Shell(
      std::string(MEDTWIN_BINARY_DIR) + "/medtwin devices --to ftp://x 2>&1; echo rc=$?");
  EXPECT_NE(bad.find("--to"), std::string::npos) << bad;
  EXPECT_NE(bad.find("rc=2"), std::string::npos) << bad;
  fs::remove_all(dir);
}

// Random and mutated bodies on every ingest route: each reply is a well-formed accepted/rejected
// report or a JSON error, the server keeps serving, and exactly the accepted observations are
// stored.
TEST(ServerFuzz, MutatedBodiesNeverHurtTheServerOrTheData) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_fuzz_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "f.db").string());
  const auto port = server.port();
  ASSERT_NE(port, 0);
  ASSERT_EQ(Call(port, http::verb::post, "/api/v1/patients", R"({"id":"f1"})").status, 201);
  const std::string seed_obj =
      R"({"patient":"f1","code":"8867-4","value":88,"unit":"/min","time":"2026-01-01T00:00:00Z","source":"s"})";
  std::mt19937 rng(5);
  const std::string alphabet = "{}[]\",:0123456789.-eE+abcdefghijklmnopqrstuvwxyz%/\n ";
  std::size_t accepted_new = 0;
  for (int i = 0; i < 400; ++i) {
    std::string body;
    const int lines = 1 + static_cast<int>(rng() % 4);
    for (int l = 0; l < lines; ++l) {
      std::string m = seed_obj;
      // Distinct times so accepted items are new.
      m.replace(m.find("00:00:00"), 8,
                std::to_string(10 + i % 14) + ":" + std::to_string(10 + l) + ":" +
                    std::to_string(10 + (i / 14) % 50));
      // A quarter of the lines stay intact so that some items are accepted.
      if (rng() % 4 != 0) m = medtwin::testing_support::Mutate(m, rng, alphabet, 3, 6);
      body += m + "\n";
    }
    const bool bulk = i % 2 == 0;
    auto r = Call(port, http::verb::post,
                  bulk ? "/api/v1/observations" : "/api/v1/patients/f1/observations",
                  bulk ? body : body.substr(0, body.find('\n')));
    ASSERT_TRUE(r.status == 200 || r.status == 400 || r.status == 404 || r.status == 422)
        << r.status << " " << r.body;
    const json j = r.Json();
    ASSERT_FALSE(j.is_discarded()) << r.body;
    if (r.status == 200 || r.status == 422) {
      for (const auto& a : j["accepted"]) accepted_new += a["duplicate"].get<bool>() ? 0u : 1u;
      for (const auto& rej : j["rejected"]) EXPECT_FALSE(rej["reason"].get<std::string>().empty());
    } else {
      EXPECT_TRUE(j.contains("error")) << r.body;
    }
  }
  EXPECT_GT(accepted_new, 50u);
  const auto stored = Call(port, http::verb::get, "/api/v1/patients/f1/observations?limit=100000");
  EXPECT_EQ(stored.Json().size(), accepted_new);
  EXPECT_EQ(Call(port, http::verb::get, "/healthz").status, 200);
  fs::remove_all(dir);
}

TEST(ServeCli, BadArgumentsAreOneLineErrors) {
  const std::string bin = std::string(MEDTWIN_BINARY_DIR) + "/medtwin";
  auto run = [&](const std::string& args) {
    return medtwin::testing_support::Shell(bin + " " + args + " 2>&1; echo \"rc=$?\"");
  };
  const std::string key =
      " --auth-key " + TestAuth::KeyFile() + " --audit-key " + TestAuth::AuditKeyFile();
  std::string out = run("serve --store mysql://x --listen 127.0.0.1:0" + key);
  EXPECT_NE(out.find("--store: 'mysql://x' is neither sqlite:PATH nor postgresql://"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("rc=2"), std::string::npos);
  out = run("serve --listen nowhere --store sqlite::memory:" + key);
  EXPECT_NE(out.find("--listen"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=2"), std::string::npos);
  // No key and no demo: refused, with how to make one.
  out = run("serve --listen 127.0.0.1:0 --store sqlite::memory:");
  EXPECT_NE(out.find("--auth-key: required (make one with `medtwin token keygen"),
            std::string::npos)
      << out;
  EXPECT_NE(out.find("rc=2"), std::string::npos);
  out = run("serve --listen 127.0.0.1:0 --store sqlite::memory: --auth-key /nonexistent/key");
  EXPECT_NE(out.find("cannot read the key file"), std::string::npos) << out;
  // Token issuing: a patient token needs its patient; scopes are checked.
  out = run("token issue --key " + TestAuth::KeyFile() + " --role patient --subject x");
  EXPECT_NE(out.find("--patient"), std::string::npos) << out;
  EXPECT_NE(out.find("rc=2"), std::string::npos);
  out = run("token issue --key " + TestAuth::KeyFile() +
            " --role clinician --subject x --scope doctor/all");
  EXPECT_NE(out.find("--scope"), std::string::npos) << out;
  out = run("token issue --key " + TestAuth::KeyFile() + " --role nurse --subject x");
  EXPECT_NE(out.find("role"), std::string::npos) << out;
  out = run("token keygen --out " + TestAuth::KeyFile());
  EXPECT_NE(out.find("exists"), std::string::npos) << out;
}

}  // namespace
