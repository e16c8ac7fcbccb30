// End-to-end, against the real binary, of what the dashboard's planning pages use: a glucose
// plan accepted from the what-if (a draft insulin order; in a closed loop also the pump command,
// taken by the twin as delivered), NEWS2 over time, and in-silico trials run by the server with
// progress, checked against the same trial run by `medtwin trial`.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../support/pg_server.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::FittedTwin;
using medtwin::testing_support::Now;
using medtwin::testing_support::Server;
using medtwin::testing_support::Shell;

class Planning : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_planning_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    server_ = std::make_unique<Server>("sqlite:" + (dir_ / "twin.db").string());
    port_ = server_->port();
    ASSERT_NE(port_, 0);
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }
  json Post(const std::string& target, const json& body, unsigned expect = 200) {
    auto r = Call(port_, http::verb::post, target, body.dump());
    EXPECT_EQ(r.status, expect) << target << " " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  json Get(const std::string& target) {
    auto r = Call(port_, http::verb::get, target);
    EXPECT_EQ(r.status, 200u) << target << " " << r.body;
    return json::parse(r.body, nullptr, false);
  }
  // CGM every 5 min for the last hour at `mg_dl`.
  void SteadyCgm(const std::string& patient, double mg_dl) {
    json batch = json::array();
    for (int ago = 60; ago >= 0; ago -= 5) {
      batch.push_back({{"code", "99504-3"},
                       {"value", mg_dl},
                       {"unit", "mg/dL"},
                       {"time", Now(ago)},
                       {"source", "cgm"}});
    }
    Post("/api/v1/patients/" + patient + "/observations", batch);
  }

  fs::path dir_;
  std::unique_ptr<Server> server_;
  unsigned short port_ = 0;
};

TEST_F(Planning, GlucosePlanBecomesADraftOrderAndInAClosedLoopAPumpCommand) {
  Post("/api/v1/patients",
       {{"id", "open"}, {"models", {"glucose"}}, {"virtual_patient", "adult#002"}}, 201);
  Post("/api/v1/patients",
       {{"id", "loop"},
        {"models", {"glucose"}},
        {"virtual_patient", "adult#002"},
        {"closed_loop", "pid"}},
       201);
  Post("/api/v1/patients", {{"id", "vitals-only"}, {"models", {"news2"}}}, 201);
  SteadyCgm("open", 150);
  SteadyCgm("loop", 150);

  // The what-if the clinician looks at: a 3 U bolus now lowers the 4-h trough.
  const json plan = {{"model", "glucose"}, {"insulin", {{{"in_min", 0}, {"units", 3}}}}};
  const json before = Post("/api/v1/patients/loop/whatif", plan);
  ASSERT_TRUE(before.contains("proposed")) << before.dump();
  const double trough_now = before["current"]["lowest_mg_dl"];
  const double trough_with_bolus = before["proposed"]["lowest_mg_dl"];
  EXPECT_LT(trough_with_bolus, trough_now - 10);

  // Bad plans: named fields, nothing stored.
  const auto events_before = Get("/api/v1/patients/open/events").size();
  auto bad = [&](const std::string& patient, const json& body, const char* field) {
    const json r = Post("/api/v1/patients/" + patient + "/recommendations/accept", body, 400);
    EXPECT_EQ(r["error"]["field"], field) << body.dump() << " " << r.dump();
  };
  bad("open", {{"model", "glucose"}}, "bolus_u");
  bad("open", {{"model", "glucose"}, {"bolus_u", 40}}, "bolus_u");
  bad("open", {{"model", "glucose"}, {"bolus_u", "3"}}, "bolus_u");
  bad("open", {{"model", "glucose"}, {"basal_u_per_h", -1}}, "basal_u_per_h");
  bad("open", {{"model", "insulin"}, {"bolus_u", 1}}, "model");
  bad("vitals-only", {{"model", "glucose"}, {"bolus_u", 1}}, "model");
  EXPECT_EQ(Get("/api/v1/patients/open/events").size(), events_before);

  // Open loop: a draft order for a person to give; no command, no insulin in the twin.
  const json open_order = Post("/api/v1/patients/open/recommendations/accept",
                               {{"model", "glucose"}, {"basal_u_per_h", 1.5}, {"by", "dr-x"}}, 201);
  EXPECT_EQ(open_order["kind"], "order");
  EXPECT_EQ(open_order["status"], "draft");
  EXPECT_EQ(open_order["drug"], "insulin");
  EXPECT_EQ(open_order["basal_u_per_h"], 1.5);
  // The body's "by" is not believed: the order's author is who signed in.
  EXPECT_EQ(open_order["accepted_by"], "test-admin");
  EXPECT_FALSE(open_order.contains("command"));
  const json open_events = Get("/api/v1/patients/open/events");
  ASSERT_EQ(open_events.size(), events_before + 1);
  EXPECT_EQ(open_events.back()["type"], "order");

  // Closed loop: the order, the pump command, and the twin takes the bolus as delivered.
  const json loop_order = Post("/api/v1/patients/loop/recommendations/accept",
                               {{"model", "glucose"}, {"bolus_u", 3}, {"by", "dr-x"}}, 201);
  EXPECT_TRUE(loop_order["basal_u_per_h"].is_null());  // the rate is left to the controller
  EXPECT_EQ(loop_order["bolus_u"], 3);
  ASSERT_TRUE(loop_order.contains("command")) << loop_order.dump();
  EXPECT_EQ(loop_order["command"]["bolus_u"], 3);
  EXPECT_EQ(loop_order["command"]["source"], "clinician");
  int insulin_events = 0;
  for (const auto& e : Get("/api/v1/patients/loop/events")) {
    if (e["type"] == "insulin" && e["amount"] == 3) ++insulin_events;
  }
  EXPECT_EQ(insulin_events, 1);
  const json after = Post("/api/v1/patients/loop/whatif", {{"model", "glucose"}});
  // The twin now forecasts with the bolus on board: its own trough falls to where the what-if
  // said it would (not exactly: the bolus is given a few minutes after the what-if's start).
  EXPECT_LT(after["current"]["lowest_mg_dl"].get<double>(), trough_now - 10);
  EXPECT_NEAR(after["current"]["lowest_mg_dl"].get<double>(), trough_with_bolus, 15);

  // The orders are FHIR MedicationRequests (intent order, status draft) in units.
  const json bundle = Get("/fhir/r4/MedicationRequest?patient=loop");
  bool found = false;
  for (const auto& entry : bundle["entry"]) {
    const json& r = entry["resource"];
    if (r["intent"] != "order") continue;
    found = true;
    EXPECT_EQ(r["status"], "draft");
    EXPECT_EQ(r["medicationCodeableConcept"]["text"], "insulin");
    const json& dose = r["dosageInstruction"][0]["doseAndRate"][0]["doseQuantity"];
    EXPECT_EQ(dose["value"], 3);
    EXPECT_EQ(dose["code"], "U");
  }
  EXPECT_TRUE(found) << bundle.dump();
}

// NEWS2 over time, checked against totals worked out by hand from the RCP 2017 chart.
TEST_F(Planning, News2OverTimeScoresEachInstantLikeTheChart) {
  Post("/api/v1/patients", {{"id", "w1"}, {"models", {"news2"}}}, 201);
  auto set = [&](int ago, double rr, double spo2, double o2, double sbp, double hr, double temp) {
    const std::string t = Now(ago);
    auto o = [&](const char* code, json value, const char* unit) {
      json j = {{"code", code}, {"value", value}, {"time", t}, {"source", "chart"}};
      if (unit != nullptr) j["unit"] = unit;
      return j;
    };
    Post("/api/v1/patients/w1/observations",
         json::array({o("9279-1", rr, "/min"), o("2708-6", spo2, "%"), o("3151-8", o2, "L/min"),
                      o("8480-6", sbp, "mm[Hg]"), o("8867-4", hr, "/min"),
                      o("80288-4", "A", nullptr), o("8310-5", temp, "Cel")}));
  };
  set(60, 16, 97, 0, 120, 70, 37.0);        // 0
  set(30, 22, 94, 2, 105, 95, 38.5);        // RR 2, SpO2 1, O2 2, SBP 1, HR 1, T 1 = 8 (high)
  set(10, 25, 96, 0, 118, 88, 36.5);        // RR 3 alone = 3 (low-medium: a single 3)
  Post("/api/v1/patients/w1/observations",  // HR 135 scores 3: 6 (medium)
       {{"code", "8867-4"}, {"value", 135}, {"unit", "/min"}, {"time", Now(5)}, {"source", "hr"}});
  const json series = Get("/api/v1/patients/w1/news2");
  ASSERT_EQ(series.size(), 4u) << series.dump();
  const int totals[] = {0, 8, 3, 6};
  const char* risks[] = {"low", "high", "low-medium", "medium"};
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(series[k]["total"], totals[k]) << k;
    EXPECT_EQ(series[k]["risk"], risks[k]) << k;
    EXPECT_TRUE(series[k]["complete"]);
  }
  EXPECT_EQ(series[1]["parts"]["air_or_oxygen"], 2);
  // The last point is the live twin's score.
  EXPECT_EQ(Get("/api/v1/patients/w1/twin")["news2"]["total"], series[3]["total"]);
  // A window: only the instants inside it.
  const json recent = Get("/api/v1/patients/w1/news2?from=" + Now(20));
  ASSERT_EQ(recent.size(), 2u);
  EXPECT_EQ(recent[0]["total"], 3);
  const auto r = Call(port_, http::verb::get, "/api/v1/patients/w1/news2?from=yesterday");
  EXPECT_EQ(r.status, 400u);
  EXPECT_NE(r.body.find("\"from\""), std::string::npos);
  EXPECT_EQ(Call(port_, http::verb::get, "/api/v1/patients/nobody/news2").status, 404u);
}

// Genotype on the twin: a VCF or calls uploaded to the patient, CPIC guidance for every covered
// drug, and a "pgx-<drug>" alert when the genotype argues against a drug the patient was given
// (before or after the genotype arrived).
TEST_F(Planning, GenotypeGuidesAndAlertsOnConflictingPrescriptions) {
  Post("/api/v1/patients", {{"id", "pgx1"}, {"models", {"news2"}}}, 201);
  Post("/api/v1/patients", {{"id", "pgx2"}, {"models", {"news2"}}}, 201);
  auto dose = [&](const std::string& patient, const std::string& drug, double mg) {
    Post("/api/v1/patients/" + patient + "/events", json::array({{{"type", "dose"},
                                                                  {"drug", drug},
                                                                  {"amount", mg},
                                                                  {"unit", "mg"},
                                                                  {"time", Now(30)}}}));
  };
  auto pgx_alerts = [&](const std::string& patient) {
    json out = json::array();
    for (const auto& a : Get("/api/v1/alerts?patient=" + patient)) {
      if (a["kind"].get<std::string>().starts_with("pgx-")) out.push_back(a);
    }
    return out;
  };
  dose("pgx1", "Clopidogrel", 75);
  EXPECT_TRUE(pgx_alerts("pgx1").empty());  // no genotype yet
  // Calls as JSON (what `medtwin pgx call` writes for one sample).
  const json calls = {
      {"genes",
       {{"CYP2C19",
         {{"called", true},
          {"diplotypes", {"*2/*2"}},
          {"phenotype", "Poor Metabolizer"},
          {"activity_score", nullptr}}},
        {"TPMT", {{"called", false}, {"diplotypes", json::array()}, {"reason", "no data"}}}}}};
  auto put = Call(port_, http::verb::put, "/api/v1/patients/pgx1/genotype", calls.dump());
  ASSERT_EQ(put.status, 200u) << put.body;
  const json g = json::parse(put.body);
  ASSERT_EQ(g["genotype"].size(), 1u);
  EXPECT_EQ(g["genotype"][0]["diplotype"], "*2/*2");
  EXPECT_EQ(g["not_called"]["TPMT"], "no data");
  bool clopidogrel = false;
  for (const auto& x : g["guidance"]) {
    if (x["drug"] != "clopidogrel") continue;
    clopidogrel = true;
    EXPECT_EQ(x["action"], "alternative");
    EXPECT_EQ(x["conflicts_with_standard_prescribing"], true);
  }
  EXPECT_TRUE(clopidogrel);
  // The earlier clopidogrel dose now conflicts: an alert.
  json alerts;
  for (int i = 0; i < 50 && alerts.empty(); ++i) {
    alerts = pgx_alerts("pgx1");
    if (alerts.empty()) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0]["kind"], "pgx-clopidogrel");
  EXPECT_EQ(alerts[0]["severity"], "high");
  EXPECT_NE(alerts[0]["message"].get<std::string>().find("prasugrel"), std::string::npos);
  // A VCF body (the reference tool's example: reference alleles) for the other patient:
  // clopidogrel is standard there, so a dose raises nothing; the record keeps all 11 genes.
  std::ifstream vcf(std::string(MEDTWIN_SOURCE_DIR) + "/tests/data/pgx/pharmcat.example.vcf");
  std::stringstream text;
  text << vcf.rdbuf();
  auto put_vcf =
      Call(port_, http::verb::put, "/api/v1/patients/pgx2/genotype", text.str(), "text/vcf");
  ASSERT_EQ(put_vcf.status, 200u) << put_vcf.body.substr(0, 300);
  EXPECT_EQ(json::parse(put_vcf.body)["genotype"].size(), 11u);
  dose("pgx2", "clopidogrel", 75);
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_TRUE(pgx_alerts("pgx2").empty());
  EXPECT_EQ(Get("/api/v1/patients/pgx2")["genotype"].size(), 11u);
  // Bad uploads: named fields, nothing changed.
  auto bad = Call(port_, http::verb::put, "/api/v1/patients/pgx2/genotype", "hello");
  EXPECT_EQ(bad.status, 400u);
  EXPECT_NE(bad.body.find("\"body\""), std::string::npos) << bad.body;
  // The same file with a second sample: which one is the patient's must be said.
  std::string two;
  std::istringstream lines(text.str());
  for (std::string line; std::getline(lines, line);) {
    if (line.starts_with("#CHROM")) {
      line += "\tSample_2";
    } else if (!line.starts_with("#")) {
      line += "\t0/0";
    }
    two += line + "\n";
  }
  auto ambiguous = Call(port_, http::verb::put, "/api/v1/patients/pgx2/genotype", two, "text/vcf");
  EXPECT_EQ(ambiguous.status, 400u) << ambiguous.body.substr(0, 300);
  EXPECT_NE(ambiguous.body.find("\"sample\""), std::string::npos) << ambiguous.body.substr(0, 300);
  EXPECT_EQ(Get("/api/v1/patients/pgx2/genotype")["genotype"].size(), 11u);
  // Named: only that sample is called (the others cost nothing); an absent name is refused.
  auto named = Call(port_, http::verb::put, "/api/v1/patients/pgx2/genotype?sample=Sample_2", two,
                    "text/vcf");
  EXPECT_EQ(named.status, 200u) << named.body.substr(0, 300);
  auto absent =
      Call(port_, http::verb::put, "/api/v1/patients/pgx2/genotype?sample=Nobody", two, "text/vcf");
  EXPECT_EQ(absent.status, 400u);
  EXPECT_NE(absent.body.find("\"sample\""), std::string::npos) << absent.body.substr(0, 300);
}

// The warfarin twin: the IWPC starting dose from the record and genotype before any INR; then
// daily doses and INR values individualize the Hamberg model by MAP and the twin proposes the
// daily dose for INR 2-3, which a what-if can compare and a clinician accept.
TEST_F(Planning, WarfarinTwinStartsFromIwpcAndFollowsTheInr) {
  auto patient = [&](const std::string& id, const char* cyp2c9, const char* cyp_pheno,
                     const char* vkorc1, const char* vk_pheno) {
    Post("/api/v1/patients",
         {{"id", id},
          {"models", {"news2", "warfarin"}},
          {"birth_date", "1960-05-01"},
          {"height_cm", 175},
          {"weight_kg", 80},
          {"genotype",
           {{{"gene", "CYP2C9"}, {"diplotype", cyp2c9}, {"phenotype", cyp_pheno}},
            {{"gene", "VKORC1"}, {"diplotype", vkorc1}, {"phenotype", vk_pheno}}}}},
         201);
  };
  const std::string ref = "rs9923231 reference (C)", var = "rs9923231 variant (T)";
  patient("w11", "*1/*1", "Normal Metabolizer", (ref + "/" + ref).c_str(), "-1639 GG");
  patient("w33", "*3/*3", "Poor Metabolizer", (var + "/" + var).c_str(), "-1639 AA");
  const json iwpc11 = Get("/api/v1/patients/w11/twin")["model_state"]["warfarin"]["iwpc"];
  const json iwpc33 = Get("/api/v1/patients/w33/twin")["model_state"]["warfarin"]["iwpc"];
  ASSERT_TRUE(iwpc11.contains("daily_mg")) << iwpc11.dump();
  EXPECT_EQ(iwpc11["cyp2c9"], "*1/*1");
  EXPECT_EQ(iwpc33["vkorc1"], "A/A");
  EXPECT_LT(iwpc33["daily_mg"].get<double>(), 0.5 * iwpc11["daily_mg"].get<double>());
  // w33 on 5 mg/day for a week: the INR overshoots.
  json doses = json::array();
  for (int day = 7; day >= 1; --day) {
    doses.push_back({{"type", "dose"},
                     {"drug", "warfarin"},
                     {"amount", 5},
                     {"unit", "mg"},
                     {"time", Now(day * 24 * 60)}});
  }
  Post("/api/v1/patients/w33/events", doses);
  json inr = json::array();
  for (const auto& [days_ago, value] :
       std::vector<std::pair<int, double>>{{4, 1.9}, {2, 3.1}, {0, 4.3}}) {
    inr.push_back({{"code", "6301-6"},
                   {"value", value},
                   {"unit", "{INR}"},
                   {"time", Now(days_ago * 24 * 60 + 30)},
                   {"source", "lab"}});
  }
  Post("/api/v1/patients/w33/observations", inr);
  const json twin = FittedTwin(port_, "w33");
  const json& w = twin["model_state"]["warfarin"];
  ASSERT_TRUE(w.contains("parameters")) << w.dump();
  EXPECT_EQ(w["levels"], 3);
  ASSERT_EQ(twin["recommendations"].size(), 1u) << twin.dump();
  const json& rec = twin["recommendations"][0];
  EXPECT_EQ(rec["drug"], "warfarin");
  EXPECT_EQ(rec["interval_h"], 24);
  EXPECT_LT(rec["dose_mg"].get<double>(), 3.0);
  EXPECT_GT(rec["predicted_inr_trough"].get<double>(), 1.8);
  EXPECT_LT(rec["predicted_inr_trough"].get<double>(), 3.2);
  // What-if: the current 5 mg/day against the proposal, on INR.
  const json what =
      Post("/api/v1/patients/w33/whatif",
           {{"model", "warfarin"},
            {"regimens",
             {{{"dose_mg", 5}, {"interval_h", 24}, {"infusion_h", 0}},
              {{"dose_mg", rec["dose_mg"]}, {"interval_h", 24}, {"infusion_h", 0}}}}});
  ASSERT_EQ(what["regimens"].size(), 2u) << what.dump();
  EXPECT_GT(what["regimens"][0]["trough_mg_l"].get<double>(), 3.0);  // INR trough on 5 mg
  EXPECT_EQ(what["target"], "INR 2-3");
  // Accepting records an oral draft order (FHIR: by mouth).
  const json order = Post("/api/v1/patients/w33/recommendations/accept", {{"by", "dr-w"}}, 201);
  EXPECT_EQ(order["drug"], "warfarin");
  bool oral = false;
  const json requests = Get("/fhir/r4/MedicationRequest?patient=w33");
  for (const auto& e : requests["entry"]) {
    const json& r = e["resource"];
    if (r["intent"] == "order") {
      oral = r["dosageInstruction"][0]["route"]["coding"][0]["code"] == "26643006";
    }
  }
  EXPECT_TRUE(oral) << requests.dump().substr(0, 1500);
}

TEST_F(Planning, TrialsRunWithProgressAndMatchTheCommandLine) {
  auto bad = [&](const json& body, const char* field) {
    auto r = Call(port_, http::verb::post, "/api/v1/trials", body.dump());
    EXPECT_EQ(r.status, 400u) << body.dump() << " " << r.body;
    EXPECT_EQ(json::parse(r.body)["error"]["field"], field) << r.body;
  };
  bad({{"days", 30}}, "days");
  bad({{"days", "2"}}, "days");
  bad({{"cohort", "elderly"}}, "cohort");
  bad({{"controller", "fuzzy"}}, "controller");
  bad({{"meals", "lunch"}}, "meals");
  bad({{"dose", 3}}, "dose");
  bad(json::array(), "body");

  const json settings = {{"cohort", "children"}, {"controller", "pid"}, {"seed", 7}};
  auto submitted = Call(port_, http::verb::post, "/api/v1/trials", settings.dump());
  ASSERT_EQ(submitted.status, 202u) << submitted.body;
  const std::string id = json::parse(submitted.body)["id"];
  json job;
  int max_done = 0;
  for (int i = 0; i < 600; ++i) {
    job = Get("/api/v1/trials/" + id);
    max_done = std::max(max_done, job["progress"]["done"].get<int>());
    if (job["status"] == "done" || job["status"] == "failed") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["progress"]["done"], 10);
  EXPECT_EQ(job["progress"]["total"], 10);
  const json& patients = job["results"]["patients"];
  ASSERT_EQ(patients.size(), 10u);
  // The ambulatory glucose profile: 288 five-minute bins, percentiles in order.
  const json& agp = job["profile"];
  ASSERT_EQ(agp["hour_of_day"].size(), 288u);
  for (std::size_t k = 0; k < 288; ++k) {
    EXPECT_LE(agp["p05"][k].get<double>(), agp["p50"][k].get<double>());
    EXPECT_LE(agp["p50"][k].get<double>(), agp["p95"][k].get<double>());
  }
  // The same trial from the command line gives the same patients' numbers.
  const fs::path out = dir_ / "cli-trial";
  Shell(std::string(MEDTWIN_BINARY_DIR) +
        "/medtwin trial --cohort children --controller pid --seed 7 --out " + out.string() +
        " 2>/dev/null");
  std::ifstream in(out / "trial.json");
  const json cli = json::parse(in);
  ASSERT_EQ(cli["patients"].size(), 10u);
  for (std::size_t k = 0; k < 10; ++k) {
    EXPECT_EQ(patients[k]["patient"], cli["patients"][k]["patient"]);
    EXPECT_DOUBLE_EQ(patients[k]["tir_70_180_pct"].get<double>(),
                     cli["patients"][k]["tir_70_180_pct"].get<double>());
    EXPECT_DOUBLE_EQ(patients[k]["mean_mg_dl"].get<double>(),
                     cli["patients"][k]["mean_mg_dl"].get<double>());
  }
  EXPECT_DOUBLE_EQ(job["results"]["mean_tir_70_180_pct"].get<double>(),
                   cli["mean_tir_70_180_pct"].get<double>());
  // Listed (newest first, without the per-patient table); an unknown id is 404.
  const json list = Get("/api/v1/trials");
  ASSERT_FALSE(list.empty());
  EXPECT_EQ(list[0]["id"], id);
  EXPECT_FALSE(list[0]["results"].contains("patients"));
  EXPECT_EQ(Call(port_, http::verb::get, "/api/v1/trials/trial-999").status, 404u);
  // Finished trials are in the store: after a restart the same job, results and profile are
  // there, and a new trial gets a new id.
  const json before = Get("/api/v1/trials/" + id);
  server_.reset();
  server_ = std::make_unique<Server>("sqlite:" + (dir_ / "twin.db").string());
  port_ = server_->port();
  ASSERT_NE(port_, 0);
  EXPECT_EQ(Get("/api/v1/trials/" + id), before);
  EXPECT_EQ(Get("/api/v1/trials")[0]["id"], id);
  auto again = Call(port_, http::verb::post, "/api/v1/trials", json{{"cohort", "children"}}.dump());
  ASSERT_EQ(again.status, 202u) << again.body;
  EXPECT_NE(json::parse(again.body)["id"], id);
}

}  // namespace
