// Authorization against the running binary: a table-driven walk over every route the server
// registers (`medtwin routes --json`) with every role, asserting who is let through; broken
// object-level authorization (clinician B reaching patient A by any route: REST, lists, bulk
// items, FHIR search and Bundles, the live stream); and bad tokens, missing scopes, rate limits.
#include <gtest/gtest.h>

#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "../support/pg_server.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
namespace net = boost::asio;
using json = nlohmann::json;
using medtwin::security::Role;
using medtwin::testing_support::Call;
using medtwin::testing_support::Now;
using medtwin::testing_support::Reply;
using medtwin::testing_support::Server;
using medtwin::testing_support::Shell;
using medtwin::testing_support::TestAuth;

// The status of a live-stream request (the stream itself is left unread and closed).
unsigned StreamStatus(unsigned short port, const std::string& target, const std::string& token) {
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), port});
  std::string req = "GET " + target + " HTTP/1.1\r\nHost: x\r\n";
  if (!token.empty()) req += "Authorization: Bearer " + token + "\r\n";
  req += "\r\n";
  net::write(s, net::buffer(req));
  std::string head;
  boost::system::error_code ec;
  net::read_until(s, net::dynamic_buffer(head), "\r\n\r\n", ec);
  if (head.size() < 12) return 0;
  return static_cast<unsigned>(std::stoi(head.substr(9, 3)));
}

struct Outcome {
  unsigned status = 0;
  std::string body;
  bool Denied() const {
    return status == 401 || status == 403 || body.find("forbidden") != std::string::npos;
  }
};

class Authz : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_authz_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // Every route × role sends many refused requests from one address: a higher failure budget
    // than the default (which the flood test checks).
    // And an HL7 feed, so p-a has a stay (an Encounter) whose read can be authorized.
    std::ofstream(dir_ / "senders.json")
        << R"({"senders": [{"facility": "EHR", "all_patients": true, "adt": true}]})";
    server_ = std::make_unique<Server>(
        "sqlite:" + (dir_ / "a.db").string(),
        std::vector<std::string>{"--auth-failure-limit", "1000", "--hl7", "127.0.0.1:0",
                                 "--hl7-senders", (dir_ / "senders.json").string()});
    port_ = server_->port();
    ASSERT_NE(port_, 0);
    for (const auto& [id, team] : {std::pair{"p-a", "dr-a"}, std::pair{"p-b", "dr-b"}}) {
      ASSERT_EQ(Call(port_, http::verb::post, "/api/v1/patients",
                     json({{"id", id}, {"care_team", {team}}}).dump())
                    .status,
                201);
      // A low SpO2 raises an alert on each.
      ASSERT_EQ(
          Call(port_, http::verb::post, std::string("/api/v1/patients/") + id + "/observations",
               json({{"code", "2708-6"}, {"value", 84}, {"unit", "%"}, {"time", Now(5)}}).dump())
              .status,
          200);
    }
    for (const auto& a : Call(port_, http::verb::get, "/api/v1/alerts").Json()) {
      alert_of_[a["patient"].get<std::string>()] = a["id"].get<std::string>();
    }
    ASSERT_EQ(alert_of_.size(), 2u);
    {  // p-a admitted to bed W1 1-A (visit V-PA) over MLLP.
      const int fd = medtwin::testing_support::ConnectLoopback(server_->hl7_port());
      ASSERT_GE(fd, 0);
      const std::string ack = medtwin::testing_support::MllpExchange(
          fd,
          "\x0bMSH|^~\\&|EPIC|EHR|MEDTWIN|HOSP|20261201080000+0000||ADT^A01|A-1|P|2.5\r"
          "PID|1||p-a^^^MEDTWIN\rPV1|1|I|W1^1^A||||||||||||||||V-PA\r\x1c\r");
      ::close(fd);
      ASSERT_NE(ack.find("MSA|AA|A-1"), std::string::npos) << ack;
    }
    // A dose of p-a's, by the id FHIR gives it (for MedicationAdministration/{id}).
    {
      const json dose = {{"resourceType", "MedicationAdministration"},
                         {"status", "completed"},
                         {"medicationCodeableConcept", {{"text", "paracetamol"}}},
                         {"subject", {{"reference", "Patient/p-a"}}},
                         {"effectiveDateTime", Now(30)},
                         {"dosage", {{"dose", {{"value", 1000}, {"code", "mg"}}}}}};
      const auto made = Call(port_, http::verb::post, "/fhir/r4/MedicationAdministration",
                             dose.dump(), "application/fhir+json");
      ASSERT_EQ(made.status, 201u) << made.body;
      dose_of_pa_ = made.Json()["id"];
    }
    // A stored reading of p-a's, by the id FHIR gives it (for Observation/{id}).
    const json found =
        Call(port_, http::verb::get, "/fhir/r4/Observation?patient=p-a&_count=1").Json();
    ASSERT_TRUE(found.contains("entry")) << found.dump();
    observation_of_pa_ = found["entry"][0]["resource"]["id"];
  }
  void TearDown() override {
    server_.reset();
    fs::remove_all(dir_);
  }

  // One request on `route` aimed at patient p-a, as `token`.
  Outcome Send(const json& route, const std::string& token, int n) {
    std::string path = route["path"];
    const std::string method = route["method"];
    const std::string from = route["patient_from"];
    if (const auto at = path.find("{id}"); at != std::string::npos) {
      // Ids of p-a's resources (the twin's outputs and doses name their patient).
      const std::map<std::string, std::string> ids = {
          {"/api/v1/alerts/", alert_of_["p-a"]},
          {"/fhir/r4/Observation/", observation_of_pa_},
          {"/fhir/r4/Encounter/", "V-PA"},
          {"/fhir/r4/MedicationAdministration/", dose_of_pa_},
          {"/fhir/r4/MedicationRequest/", "p-a-advice"},
          {"/fhir/r4/RiskAssessment/", "p-a-news2"},
          {"/fhir/r4/DetectedIssue/", alert_of_["p-a"]},
          {"/fhir/r4/AuditEvent/", "audit-1"}};
      std::string id = "p-a";
      for (const auto& [prefix, value] : ids) {
        if (path.starts_with(prefix)) id = value;
      }
      path.replace(at, 4, id);
    }
    if (const auto at = path.find("{path*}"); at != std::string::npos)
      path.replace(at, 7, "style.css");
    if (from == "query") path += "?patient=p-a";
    if (path.starts_with("/api/v1/stream")) {
      return {StreamStatus(port_, path, token), ""};
    }
    const std::string t = Now(1);
    const json obs = {
        {"patient", "p-a"}, {"code", "8867-4"}, {"value", 80 + n % 20},
        {"unit", "/min"},   {"time", t},        {"source", "authz-" + std::to_string(n)}};
    const json fhir_obs = {
        {"resourceType", "Observation"},
        {"status", "final"},
        {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
        {"subject", {{"reference", "Patient/p-a"}}},
        {"effectiveDateTime", Now(2)},
        {"valueQuantity",
         {{"value", 70 + n % 20}, {"system", "http://unitsofmeasure.org"}, {"code", "/min"}}}};
    const json fhir_dose = {{"resourceType", "MedicationAdministration"},
                            {"status", "completed"},
                            {"medicationCodeableConcept", {{"text", "paracetamol"}}},
                            {"subject", {{"reference", "Patient/p-a"}}},
                            {"effectiveDateTime", Now(3 + n % 50)},
                            {"dosage", {{"dose", {{"value", 500}, {"code", "mg"}}}}}};
    std::string body, type = "application/json";
    if (path == "/api/v1/patients") body = json({{"id", "new-" + std::to_string(n)}}).dump();
    if (path == "/api/v1/patients/p-a" && method != "GET") body = R"({"scr_mg_dl":1.1})";
    if (path == "/api/v1/trials" && method == "POST") {
      body = R"({"cohort":"children","days":1,"alerts":false,"ideal_sensor":true})";
    }
    if (path.ends_with("/observations") && method == "POST") body = obs.dump();
    if (path == "/api/v1/observations") {
      body = obs.dump() + "\n";
      type = "application/x-ndjson";
    }
    if (path.ends_with("/events") && method == "POST") {
      body =
          json({{"type", "meal"}, {"amount", 40}, {"unit", "g"}, {"time", Now(4 + n % 50)}}).dump();
    }
    if (path.ends_with("/whatif")) body = R"({"model":"glucose","horizon_min":60})";
    if (path.ends_with("/accept") || path.ends_with("/ack") || path.ends_with("/acknowledge")) {
      body = "{}";
    }
    if (path == "/fhir/r4") {
      body = json({{"resourceType", "Bundle"},
                   {"type", "batch"},
                   {"entry", {{{"resource", fhir_obs}}}}})
                 .dump();
      type = "application/fhir+json";
    }
    if (path == "/fhir/r4/Patient" && method == "POST") {
      body = json({{"resourceType", "Patient"}, {"gender", "female"}}).dump();
      type = "application/fhir+json";
    }
    if (path == "/fhir/r4/Patient/p-a" && method == "PUT") {
      body = json({{"resourceType", "Patient"}, {"gender", "male"}}).dump();
      type = "application/fhir+json";
    }
    if (path == "/fhir/r4/Observation" && method == "POST") {
      body = fhir_obs.dump();
      type = "application/fhir+json";
    }
    if (path == "/fhir/r4/MedicationAdministration" && method == "POST") {
      body = fhir_dose.dump();
      type = "application/fhir+json";
    }
    if (path.starts_with("/fhir/r4/Encounter") && method != "GET") {
      body = json({{"resourceType", "Encounter"},
                   {"status", "finished"},
                   {"class", {{"code", "AMB"}}},
                   {"subject", {{"reference", "Patient/p-a"}}}})
                 .dump();
      type = "application/fhir+json";
    }
    if (path.starts_with("/fhir/r4/Location") && method != "GET") {
      body = json({{"resourceType", "Location"}, {"name", "Ward " + std::to_string(n)}}).dump();
      type = "application/fhir+json";
    }
    auto r = Call(port_, http::string_to_verb(method), path, body, type, token);
    return {r.status, r.body};
  }

  fs::path dir_;
  std::unique_ptr<Server> server_;
  unsigned short port_ = 0;
  std::map<std::string, std::string> alert_of_;
  std::string observation_of_pa_;
  std::string dose_of_pa_;
};

TEST_F(Authz, EveryRouteEveryRole) {
  const json routes =
      json::parse(Shell(std::string(MEDTWIN_BINARY_DIR) + "/medtwin routes --json"));
  ASSERT_GT(routes.size(), 30u);
  // What the test itself expects (written from the issue's role definitions, not from the
  // server's policy code). Everything aims at patient p-a, on dr-a's care team.
  const std::set<std::string> device_may = {"POST /api/v1/patients/{id}/observations",
                                            "POST /api/v1/patients/{id}/events",
                                            "POST /api/v1/observations",
                                            "POST /fhir/r4",
                                            "POST /fhir/r4/Observation",
                                            "POST /fhir/r4/MedicationAdministration"};
  struct Who {
    const char* name;
    std::string token;
  };
  const std::vector<Who> roles = {
      {"admin", TestAuth::Admin()},
      {"clinician on the care team", TestAuth::Token(Role::kClinician, "dr-a")},
      {"clinician off the care team", TestAuth::Token(Role::kClinician, "dr-b")},
      {"patient p-a", TestAuth::Token(Role::kPatient, "anna", "p-a")},
      {"device of p-a", TestAuth::Token(Role::kDevice, "monitor-a", "p-a")},
      {"researcher", TestAuth::Token(Role::kResearcher, "res")},
      {"no token", ""}};
  int n = 0, walked = 0;
  for (const auto& route : routes) {
    const std::string key =
        route["method"].get<std::string>() + " " + route["path"].get<std::string>();
    const bool is_public = route["public"];
    const std::string from = route["patient_from"];
    const bool reads = route["method"] == "GET" || key == "POST /api/v1/patients/{id}/whatif";
    const bool audit_trail = route["resource"] == "AuditEvent";  // administrators only
    const bool research = route["resource"] == "ResearchStudy";  // de-identified: researchers
    // In-silico trials hold virtual patients only: clinicians (any) and researchers too.
    const bool virtual_trial = route["resource"] == "InSilicoTrial";
    // The hospital's places: clinical staff read them, administrators set them up.
    const bool place = route["resource"] == "Location";
    for (const auto& who : roles) {
      bool expect_allowed = false;
      const std::string role = who.name;
      if (is_public) {
        expect_allowed = true;
      } else if (role == "admin") {
        expect_allowed = true;
      } else if (research) {
        expect_allowed = role == "researcher";
      } else if (virtual_trial) {
        expect_allowed = role == "researcher" || role.starts_with("clinician");
      } else if (audit_trail) {
        expect_allowed = false;
      } else if (place) {
        expect_allowed = role.starts_with("clinician") && reads;
      } else if (role == "clinician on the care team") {
        expect_allowed = true;
      } else if (role == "clinician off the care team") {
        expect_allowed = from == "none";  // lists (filtered) and creating patients
      } else if (role == "patient p-a") {
        // Reads their own record, and decides their own consent (grant or withdraw).
        expect_allowed = reads || route["resource"] == "Consent";
      } else if (role == "device of p-a") {
        expect_allowed = device_may.count(key) > 0;
      }
      Outcome got = Send(route, who.token, ++n);
      // p-a has no dose advice for MedicationRequest/p-a-advice to name: an id that names
      // nothing is 404 whoever asks (no answer tells a patient exists), which refuses nothing.
      if (!expect_allowed && key == "GET /fhir/r4/MedicationRequest/{id}" && got.status == 404) {
        got.status = 403;
      }
      if (expect_allowed) {
        EXPECT_FALSE(got.Denied())
            << key << " as " << role << ": " << got.status << " " << got.body.substr(0, 300);
      } else {
        EXPECT_TRUE(got.Denied()) << key << " as " << role << ": " << got.status << " "
                                  << got.body.substr(0, 300);
        if (role == "no token") {
          EXPECT_EQ(got.status, 401u) << key;
        }
      }
      ++walked;
    }
  }
  EXPECT_EQ(walked, static_cast<int>(routes.size() * roles.size()));
  EXPECT_EQ(Call(port_, http::verb::get, "/healthz", "", "", "").status, 200u);
}

TEST_F(Authz, ClinicianBCannotReachPatientAByAnyRoute) {
  const std::string b = TestAuth::Token(Role::kClinician, "dr-b");
  const std::string a = TestAuth::Token(Role::kClinician, "dr-a");
  auto get = [&](const std::string& target, const std::string& token) {
    return Call(port_, http::verb::get, target, "", "", token);
  };
  // Lists show only B's own patient.
  const json patients = get("/api/v1/patients", b).Json();
  ASSERT_EQ(patients.size(), 1u);
  EXPECT_EQ(patients[0]["id"], "p-b");
  for (const auto& al : get("/api/v1/alerts", b).Json()) EXPECT_EQ(al["patient"], "p-b");
  EXPECT_EQ(get("/api/v1/alerts?patient=p-a", b).status, 403u);
  const json fhir_patients = get("/fhir/r4/Patient", b).Json();
  ASSERT_EQ(fhir_patients["total"], 1);
  EXPECT_EQ(fhir_patients["entry"][0]["resource"]["id"], "p-b");
  // Direct reads and searches of A, REST and FHIR (with the Patient/ prefix too).
  for (const char* target :
       {"/api/v1/patients/p-a", "/api/v1/patients/p-a/observations", "/api/v1/patients/p-a/twin",
        "/api/v1/patients/p-a/events", "/fhir/r4/Patient/p-a", "/fhir/r4/Observation?patient=p-a",
        "/fhir/r4/Observation?subject=Patient/p-a", "/fhir/r4/RiskAssessment?patient=p-a",
        "/fhir/r4/DetectedIssue?patient=p-a", "/fhir/r4/MedicationRequest?patient=p-a",
        "/fhir/r4/MedicationAdministration?patient=Patient/p-a"}) {
    const auto r = get(target, b);
    EXPECT_EQ(r.status, 403u) << target << " " << r.body;
    EXPECT_EQ(r.body.find(":84"), std::string::npos) << target;  // no data leaks in errors
  }
  // Writes into A hidden in bulk bodies: rejected per item, nothing stored.
  const std::string line = json({{"patient", "p-a"},
                                 {"code", "8867-4"},
                                 {"value", 199},
                                 {"unit", "/min"},
                                 {"time", Now(1)}})
                               .dump();
  auto bulk =
      Call(port_, http::verb::post, "/api/v1/observations", line + "\n", "application/x-ndjson", b);
  EXPECT_EQ(bulk.status, 422u) << bulk.body;
  EXPECT_NE(bulk.body.find("forbidden"), std::string::npos);
  auto ack = Call(port_, http::verb::post, "/api/v1/alerts/" + alert_of_["p-a"] + "/ack", "{}",
                  "application/json", b);
  EXPECT_EQ(ack.status, 403u);
  const json tx = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       {{{"resource",
          {{"resourceType", "Observation"},
           {"status", "final"},
           {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
           {"subject", {{"reference", "Patient/p-a"}}},
           {"effectiveDateTime", Now(1)},
           {"valueQuantity", {{"value", 199}, {"code", "/min"}}}}}}}}};
  EXPECT_EQ(Call(port_, http::verb::post, "/fhir/r4", tx.dump(), "application/fhir+json", b).status,
            403u);
  // Reads of A hidden in a batch's GET entries: each refused in its place (403), nothing of A
  // in the answer; B's own patient is read.
  json reads = {{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", json::array()}};
  for (const char* url : {"Patient/p-a", "Observation?patient=p-a", "Observation?subject=p-a",
                          "DetectedIssue?patient=Patient/p-a", "Patient/p-b"}) {
    reads["entry"].push_back({{"request", {{"method", "GET"}, {"url", url}}}});
  }
  const auto batch =
      Call(port_, http::verb::post, "/fhir/r4", reads.dump(), "application/fhir+json", b);
  ASSERT_EQ(batch.status, 200u) << batch.body;
  const json answered = batch.Json();
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(answered["entry"][k]["response"]["status"], "403") << answered["entry"][k].dump();
    EXPECT_FALSE(answered["entry"][k].contains("resource"));
  }
  EXPECT_EQ(answered["entry"][4]["response"]["status"], "200");
  EXPECT_EQ(answered["entry"][4]["resource"]["id"], "p-b");
  // Each GET entry leaves its own audit record, as the read alone would: the refused ones name
  // the patient asked for, the read one the patient read.
  bool refused_recorded = false, read_recorded = false;
  for (const auto& rec : get("/api/v1/audit?limit=30", TestAuth::Admin()).Json()) {
    if (rec.value("who", "") != "dr-b") continue;
    const json named = rec.value("patients", json::array());
    const bool names_a = std::find(named.begin(), named.end(), "p-a") != named.end();
    const bool names_b = std::find(named.begin(), named.end(), "p-b") != named.end();
    if (rec.value("action", "") == "GET /fhir/r4/Patient/{id}" && rec.value("outcome", 0) == 403 &&
        names_a) {
      refused_recorded = true;
    }
    if (rec.value("action", "") == "GET /fhir/r4/Patient/{id}" && rec.value("outcome", 0) == 200 &&
        names_b) {
      read_recorded = true;
    }
  }
  EXPECT_TRUE(refused_recorded);
  EXPECT_TRUE(read_recorded);
  // In a transaction a read the caller may not make refuses the whole bundle, before any write.
  json tx_read = {
      {"resourceType", "Bundle"},
      {"type", "transaction"},
      {"entry",
       {{{"resource",
          {{"resourceType", "Observation"},
           {"status", "final"},
           {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8867-4"}}}}}},
           {"subject", {{"reference", "Patient/p-b"}}},
           {"effectiveDateTime", Now(1)},
           {"valueQuantity", {{"value", 177}, {"code", "/min"}}}}}},
        {{"request", {{"method", "GET"}, {"url", "Patient/p-a"}}}}}}};
  const auto tx_refused =
      Call(port_, http::verb::post, "/fhir/r4", tx_read.dump(), "application/fhir+json", b);
  EXPECT_EQ(tx_refused.status, 403u) << tx_refused.body;
  EXPECT_NE(tx_refused.body.find("Bundle.entry[1].request.url"), std::string::npos);
  for (const auto& o : get("/api/v1/patients/p-b/observations", TestAuth::Admin()).Json()) {
    EXPECT_NE(o["value"], 177) << "a refused transaction's reading was stored";
  }
  // At most 100 GET entries in one Bundle.
  json many = {{"resourceType", "Bundle"}, {"type", "batch"}, {"entry", json::array()}};
  for (int k = 0; k < 101; ++k) {
    many["entry"].push_back({{"request", {{"method", "GET"}, {"url", "Patient/p-b"}}}});
  }
  EXPECT_EQ(
      Call(port_, http::verb::post, "/fhir/r4", many.dump(), "application/fhir+json", b).status,
      400u);
  EXPECT_EQ(batch.body.find(":84"), std::string::npos);  // A's readings are 84 (SpO2)
  for (const auto& o : get("/api/v1/patients/p-a/observations", TestAuth::Admin()).Json()) {
    EXPECT_NE(o["value"], 199) << "a forbidden write was stored";
  }
  // The live stream: B's unfiltered stream gets nothing of A; A's clinician does.
  EXPECT_EQ(StreamStatus(port_, "/api/v1/stream?patient=p-a", b), 403u);
  auto open_stream = [&](const std::string& token, std::string* got, std::atomic<bool>* done) {
    return std::thread([=, this] {
      net::io_context ioc;
      net::ip::tcp::socket s(ioc);
      s.connect({net::ip::make_address("127.0.0.1"), port_});
      const std::string req =
          "GET /api/v1/stream HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token + "\r\n\r\n";
      net::write(s, net::buffer(req));
      char buf[4096];
      const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(3);
      s.non_blocking(true);
      while (std::chrono::steady_clock::now() < end && !*done) {
        boost::system::error_code ec;
        const std::size_t k = s.read_some(net::buffer(buf), ec);
        if (k > 0) got->append(buf, k);
        if (ec && ec != net::error::would_block) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    });
  };
  std::string seen_by_a, seen_by_b;
  std::atomic<bool> done{false};
  std::thread ta = open_stream(a, &seen_by_a, &done);
  std::thread tb = open_stream(b, &seen_by_b, &done);
  std::this_thread::sleep_for(std::chrono::milliseconds(400));
  ASSERT_EQ(
      Call(port_, http::verb::post, "/api/v1/patients/p-a/observations",
           json({{"code", "8867-4"}, {"value", 141}, {"unit", "/min"}, {"time", Now(0)}}).dump())
          .status,
      200u);
  ASSERT_EQ(
      Call(port_, http::verb::post, "/api/v1/patients/p-b/observations",
           json({{"code", "8867-4"}, {"value", 142}, {"unit", "/min"}, {"time", Now(0)}}).dump())
          .status,
      200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  done = true;
  ta.join();
  tb.join();
  EXPECT_NE(seen_by_a.find("\"value\":141"), std::string::npos) << seen_by_a;
  EXPECT_EQ(seen_by_a.find("\"value\":142"), std::string::npos);
  EXPECT_NE(seen_by_b.find("\"value\":142"), std::string::npos) << seen_by_b;
  EXPECT_EQ(seen_by_b.find("\"patient\":\"p-a\""), std::string::npos) << seen_by_b;
}

TEST_F(Authz, BadTokensMissingScopesAndRateLimits) {
  auto status = [&](const std::string& token) {
    return Call(port_, http::verb::get, "/api/v1/patients", "", "", token).status;
  };
  EXPECT_EQ(status(TestAuth::Token(Role::kAdmin, "old", "", {}, -10)), 401u);  // expired
  EXPECT_EQ(status("not.a.token"), 401u);
  EXPECT_EQ(status("garbage"), 401u);
  std::string tampered = TestAuth::Admin();
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_EQ(status(tampered), 401u);
  // alg none with an admin payload.
  const std::string admin = TestAuth::Admin();
  const std::string payload =
      admin.substr(admin.find('.') + 1, admin.rfind('.') - admin.find('.') - 1);
  EXPECT_EQ(status(medtwin::security::Base64UrlEncode(R"({"alg":"none","typ":"JWT"})") + "." +
                   payload + "."),
            401u);
  // Signed with another key.
  medtwin::security::Claims c;
  c.subject = "mallory";
  c.role = Role::kAdmin;
  c.expires_at_s = TestAuth::NowS() + 600;
  EXPECT_EQ(status(medtwin::security::IssueToken(c, *medtwin::security::GenerateKey())), 401u);
  auto unauthorized = Call(port_, http::verb::get, "/api/v1/patients", "", "", "");
  EXPECT_EQ(unauthorized.status, 401u);
  EXPECT_EQ(unauthorized.Json()["error"]["code"], "unauthorized");
  // FHIR answers with an OperationOutcome.
  auto fhir = Call(port_, http::verb::get, "/fhir/r4/Patient", "", "", "");
  EXPECT_EQ(fhir.status, 401u);
  EXPECT_EQ(fhir.Json()["resourceType"], "OperationOutcome");
  // A scope that reads observations only: writing is 403.
  const std::string read_only =
      TestAuth::Token(Role::kClinician, "dr-a", "", {"user/Observation.rs"});
  EXPECT_EQ(
      Call(port_, http::verb::get, "/api/v1/patients/p-a/observations", "", "", read_only).status,
      200u);
  auto write =
      Call(port_, http::verb::post, "/api/v1/patients/p-a/observations",
           json({{"code", "8867-4"}, {"value", 90}, {"unit", "/min"}, {"time", Now(0)}}).dump(),
           "application/json", read_only);
  EXPECT_EQ(write.status, 403u);
  EXPECT_NE(write.body.find("no scope grants c on Observation"), std::string::npos) << write.body;
  EXPECT_EQ(Call(port_, http::verb::get, "/api/v1/patients/p-a", "", "", read_only).status, 403u);
  // The twin (an Observation read) does not smuggle out the record it embeds: name, birth
  // date, consent, genotype and care team need Patient (and Consent) scopes.
  const Reply twin = Call(port_, http::verb::get, "/api/v1/patients/p-a/twin", "", "", read_only);
  ASSERT_EQ(twin.status, 200u) << twin.body;
  EXPECT_EQ(twin.Json()["patient"]["id"], "p-a");
  for (const char* hidden : {"name", "birth_date", "consent", "genotype", "care_team"}) {
    EXPECT_FALSE(twin.Json()["patient"].contains(hidden)) << hidden << ": " << twin.body;
  }
  const std::string with_patient =
      TestAuth::Token(Role::kClinician, "dr-a", "", {"user/Observation.rs", "user/Patient.r"});
  const json full =
      Call(port_, http::verb::get, "/api/v1/patients/p-a/twin", "", "", with_patient).Json();
  EXPECT_TRUE(full["patient"].contains("care_team")) << full.dump();
  EXPECT_FALSE(full["patient"].contains("consent")) << "Consent needs its own scope";
  EXPECT_TRUE(Call(port_, http::verb::get, "/api/v1/patients/p-a/twin")
                  .Json()["patient"]
                  .contains("consent"));
}

TEST(AuthzRateLimit, ATokenOverItsBudgetGets429) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_rate_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  Server server("sqlite:" + (dir / "r.db").string(), {"--rate-limit", "5"});
  ASSERT_NE(server.port(), 0);
  const std::string greedy = TestAuth::Token(Role::kAdmin, "greedy");
  int limited = 0;
  for (int i = 0; i < 30; ++i) {
    const auto r = Call(server.port(), http::verb::get, "/api/v1/patients", "", "", greedy);
    if (r.status == 429) ++limited;
  }
  EXPECT_GE(limited, 15);  // a burst of 10, then about 5 per second
  // Another token is unaffected.
  EXPECT_EQ(Call(server.port(), http::verb::get, "/api/v1/patients").status, 200u);
  fs::remove_all(dir);
}

}  // namespace
