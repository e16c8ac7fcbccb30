// MQTT against a real Mosquitto broker started by the test: observations published on
// medtwin/obs/{patient} are stored and applied, answered on medtwin/ack/{patient}, and alerts
// come back on medtwin/alerts/{patient}; a closed-loop glucose twin's insulin commands go out on
// medtwin/cmd/{patient}.
#include <gtest/gtest.h>
#include <mosquitto.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "../support/auth.h"
#include "../support/free_port.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using medtwin::testing_support::TestAuth;

// Stops a child it was given, by pid, however the test ends (a failed ASSERT returns early).
struct Reaper {
  explicit Reaper(pid_t p) : pid(p) {}
  pid_t pid;
  Reaper(const Reaper&) = delete;
  Reaper& operator=(const Reaper&) = delete;
  ~Reaper() {
    if (pid <= 0) return;
    ::kill(pid, SIGTERM);
    ::waitpid(pid, nullptr, 0);
  }
};

pid_t Spawn(std::vector<std::string> args, int* stdout_fd = nullptr) {
  int out[2];
  if (stdout_fd != nullptr && ::pipe(out) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    if (stdout_fd != nullptr) {
      ::dup2(out[1], 1);
      ::close(out[0]);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  if (stdout_fd != nullptr) {
    ::close(out[1]);
    *stdout_fd = out[0];
  }
  return pid;
}

unsigned short ReadPort(int fd) {
  std::string line;
  char c;
  while (::read(fd, &c, 1) == 1) {
    if (c == '\n') {
      const auto at = line.find("http://127.0.0.1:");
      if (at != std::string::npos)
        return static_cast<unsigned short>(std::stoi(line.substr(at + 17)));
      line.clear();
    } else {
      line += c;
    }
  }
  return 0;
}

// One request with the test's admin token; the reply's body.
std::string HttpGet(unsigned short port, const std::string& target) {
  return medtwin::testing_support::Call(port, boost::beast::http::verb::get, target).body;
}
std::string HttpPost(unsigned short port, const std::string& target, const std::string& body) {
  return medtwin::testing_support::Call(port, boost::beast::http::verb::post, target, body).body;
}

struct Inbox {
  std::mutex mu;
  std::condition_variable cv;
  std::vector<std::pair<std::string, std::string>> messages;  // (topic, payload)
  bool WaitFor(const std::string& topic, const std::string& needle, std::string* payload) {
    std::unique_lock<std::mutex> lock(mu);
    return cv.wait_for(lock, std::chrono::seconds(5), [&] {
      for (const auto& [t, p] : messages) {
        if (t == topic && p.find(needle) != std::string::npos) {
          *payload = p;
          return true;
        }
      }
      return false;
    });
  }
};

TEST(MqttE2e, ObservationsInAcksAndAlertsOut) {
  const fs::path dir = fs::temp_directory_path() / ("medtwin_mqtt_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const int broker_port = medtwin::testing_support::FreePortBelowEphemeral(1);
  ASSERT_NE(broker_port, 0);
  std::ofstream(dir / "mosquitto.conf") << "listener " << broker_port << " 127.0.0.1\n"
                                        << "allow_anonymous true\n"
                                        << "persistence false\n";
  const pid_t broker = Spawn({"/usr/sbin/mosquitto", "-c", (dir / "mosquitto.conf").string()});
  ASSERT_GT(broker, 0);
  const Reaper broker_reaper{broker};
  ASSERT_TRUE(medtwin::testing_support::WaitListening(broker_port)) << "mosquitto did not start";
  const std::string key_file = TestAuth::KeyFile();  // before any fork
  (void)TestAuth::Admin();
  int server_out = -1;
  const pid_t server =
      Spawn({std::string(MEDTWIN_BINARY_DIR) + "/medtwin", "serve", "--listen", "127.0.0.1:0",
             "--store", "sqlite:" + (dir / "t.db").string(), "--mqtt",
             "mqtt://127.0.0.1:" + std::to_string(broker_port), "--allow-anonymous-mqtt",
             "--auth-key", key_file, "--audit-key", TestAuth::AuditKeyFile()},
            &server_out);
  const Reaper server_reaper{server};
  const unsigned short port = ReadPort(server_out);
  ASSERT_NE(port, 0) << "server did not start";
  HttpPost(port, "/api/v1/patients", R"({"id":"m1"})");
  HttpPost(port, "/api/v1/patients",
           R"({"id":"g1","models":["glucose"],"virtual_patient":"adult#002","closed_loop":"pid"})");

  mosquitto_lib_init();
  Inbox inbox;
  mosquitto* client = mosquitto_new("medtwin-test", true, &inbox);
  mosquitto_message_callback_set(client, [](mosquitto*, void* ctx, const mosquitto_message* m) {
    auto* box = static_cast<Inbox*>(ctx);
    std::lock_guard<std::mutex> lock(box->mu);
    box->messages.emplace_back(m->topic, std::string(static_cast<const char*>(m->payload),
                                                     static_cast<std::size_t>(m->payloadlen)));
    box->cv.notify_all();
  });
  ASSERT_EQ(mosquitto_connect(client, "127.0.0.1", broker_port, 30), MOSQ_ERR_SUCCESS);
  mosquitto_subscribe(client, nullptr, "medtwin/ack/#", 1);
  mosquitto_subscribe(client, nullptr, "medtwin/alerts/#", 1);
  mosquitto_subscribe(client, nullptr, "medtwin/cmd/#", 1);
  ASSERT_EQ(mosquitto_loop_start(client), MOSQ_ERR_SUCCESS);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  const auto now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char time[32];
  std::strftime(time, sizeof time, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&now));
  const auto burst_at = now - 1200;
  char earlier_burst[32];
  std::strftime(earlier_burst, sizeof earlier_burst, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&burst_at));
  const std::string obs =
      json::array(
          {{{"code", "2708-6"},
            {"value", 84},
            {"unit", "%"},
            {"time", time},
            {"source", "pulse-ox"}},
           {{"code", "2708-6"}, {"value", 140}, {"unit", "%"}, {"time", time}, {"source", "bad"}}})
          .dump();
  mosquitto_publish(client, nullptr, "medtwin/obs/m1", static_cast<int>(obs.size()), obs.data(), 1,
                    false);
  std::string ack, alert;
  ASSERT_TRUE(inbox.WaitFor("medtwin/ack/m1", "accepted", &ack));
  const json a = json::parse(ack);
  EXPECT_EQ(a["accepted"].size(), 1u);
  ASSERT_EQ(a["rejected"].size(), 1u);
  EXPECT_EQ(a["rejected"][0]["field"], "value");
  // Each entry says which reading it is about: no id was sent, so its time and source.
  EXPECT_EQ(a["accepted"][0]["source"], "pulse-ox");
  EXPECT_EQ(a["accepted"][0]["time"], time);
  EXPECT_EQ(a["rejected"][0]["source"], "bad");
  ASSERT_TRUE(inbox.WaitFor("medtwin/alerts/m1", "spo2-low", &alert));
  EXPECT_EQ(json::parse(alert)["severity"], "critical");
  // Stored: the history has it.
  const json history = json::parse(HttpGet(port, "/api/v1/patients/m1/observations"));
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0]["source"], "pulse-ox");
  // Unknown patient and malformed payloads get an error ack, and nothing breaks.
  mosquitto_publish(client, nullptr, "medtwin/obs/ghost", 2, "{}", 1, false);
  mosquitto_publish(client, nullptr, "medtwin/obs/m1", 5, "{oops", 1, false);
  std::string err1, err2;
  EXPECT_TRUE(inbox.WaitFor("medtwin/ack/ghost", "no patient 'ghost'", &err1));
  EXPECT_TRUE(inbox.WaitFor("medtwin/ack/m1", "malformed JSON", &err2));
  // A payload nested 200,000 arrays deep (it crashed the bridge's dump()) and a patient that
  // is not a string: error acks, and the server lives on.
  const std::string deep =
      "{\"patient\":" + std::string(200'000, '[') + std::string(200'000, ']') + "}";
  mosquitto_publish(client, nullptr, "medtwin/obs/m1", static_cast<int>(deep.size()), deep.data(),
                    1, false);
  std::string err3, err4;
  EXPECT_TRUE(inbox.WaitFor("medtwin/ack/m1", "deeper than 64", &err3));
  const std::string not_string =
      R"({"patient":["m1"],"code":"8867-4","value":80,"unit":"/min","time":")" + std::string(time) +
      R"("})";
  mosquitto_publish(client, nullptr, "medtwin/obs/m1", static_cast<int>(not_string.size()),
                    not_string.data(), 1, false);
  EXPECT_TRUE(inbox.WaitFor("medtwin/ack/m1", "must be a string", &err4));
  // A topic that is not a patient id is dropped before it reaches anything.
  mosquitto_publish(client, nullptr, "medtwin/obs/a b", 2, "{}", 1, false);
  EXPECT_NE(HttpGet(port, "/healthz").find("ok"), std::string::npos);

  // A burst: messages are stored in groups, but each gets its own ack with its own indices.
  for (int k = 0; k < 40; ++k) {
    const std::string burst = json::array({{{"code", "8867-4"},
                                            {"value", 60 + k},
                                            {"unit", "/min"},
                                            {"time", earlier_burst},
                                            {"source", "burst-" + std::to_string(k)}},
                                           {{"patient", "someone-else"},
                                            {"code", "8867-4"},
                                            {"value", 70},
                                            {"unit", "/min"},
                                            {"time", earlier_burst}}})
                                  .dump();
    mosquitto_publish(client, nullptr, "medtwin/obs/m1", static_cast<int>(burst.size()),
                      burst.data(), 1, false);
  }
  {
    std::unique_lock<std::mutex> lock(inbox.mu);
    ASSERT_TRUE(inbox.cv.wait_for(lock, std::chrono::seconds(10), [&] {
      int acks = 0;
      for (const auto& [t, p] : inbox.messages) {
        if (t == "medtwin/ack/m1" &&
            p.find("differs from the patient in the topic") != std::string::npos)
          ++acks;
      }
      return acks == 40;
    }));
    for (const auto& [t, p] : inbox.messages) {
      if (t != "medtwin/ack/m1" ||
          p.find("differs from the patient in the topic") == std::string::npos)
        continue;
      const json r = json::parse(p);
      ASSERT_EQ(r["accepted"].size(), 1u) << p;
      EXPECT_EQ(r["accepted"][0]["index"], 0);
      ASSERT_EQ(r["rejected"].size(), 1u);
      EXPECT_EQ(r["rejected"][0]["index"], 1);
      EXPECT_EQ(r["rejected"][0]["field"], "patient");
    }
  }
  EXPECT_EQ(json::parse(HttpGet(port, "/api/v1/patients/m1/observations?code=8867-4")).size(), 40u);

  // A FHIR R4 Observation (a blood-pressure panel) with the device's own message id: both
  // readings stored, each ack entry echoing the id.
  const json panel = {
      {"resourceType", "Observation"},
      {"id", "bp-msg-7"},
      {"status", "final"},
      {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "85354-9"}}}}}},
      {"subject", {{"reference", "Patient/m1"}}},
      {"effectiveDateTime", earlier_burst},
      {"component",
       {{{"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8480-6"}}}}}},
         {"valueQuantity",
          {{"value", 131},
           {"unit", "mmHg"},
           {"system", "http://unitsofmeasure.org"},
           {"code", "mm[Hg]"}}}},
        {{"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8462-4"}}}}}},
         {"valueQuantity",
          {{"value", 82},
           {"unit", "mmHg"},
           {"system", "http://unitsofmeasure.org"},
           {"code", "mm[Hg]"}}}}}}};
  const std::string fhir_payload = panel.dump();
  mosquitto_publish(client, nullptr, "medtwin/obs/m1", static_cast<int>(fhir_payload.size()),
                    fhir_payload.data(), 1, false);
  std::string fhir_ack;
  ASSERT_TRUE(inbox.WaitFor("medtwin/ack/m1", "bp-msg-7", &fhir_ack));
  const json fa = json::parse(fhir_ack);
  ASSERT_EQ(fa["accepted"].size(), 2u) << fhir_ack;
  for (const auto& e : fa["accepted"]) {
    EXPECT_EQ(e["id"], "bp-msg-7");
    EXPECT_EQ(e["index"], 0);
  }
  const json bp = json::parse(HttpGet(port, "/api/v1/patients/m1/observations?code=8480-6"));
  ASSERT_EQ(bp.size(), 1u);
  EXPECT_EQ(bp[0]["value"], 131);
  // A subject that is not the topic's patient is refused, with the id.
  json other = panel;
  other["id"] = "bp-msg-8";
  other["subject"]["reference"] = "Patient/g1";
  const std::string other_payload = other.dump();
  mosquitto_publish(client, nullptr, "medtwin/obs/m1", static_cast<int>(other_payload.size()),
                    other_payload.data(), 1, false);
  std::string other_ack;
  ASSERT_TRUE(inbox.WaitFor("medtwin/ack/m1", "bp-msg-8", &other_ack));
  EXPECT_EQ(json::parse(other_ack)["rejected"][0]["field"], "Observation.subject");

  // Closed loop: each CGM reading is answered with an insulin command; below 70 mg/dL the
  // command suspends insulin.
  std::string cmd_normal, cmd_low;
  const auto earlier = now - 600;  // the first reading 10 min ago, the second now
  char earlier_time[32];
  std::strftime(earlier_time, sizeof earlier_time, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&earlier));
  const std::string cgm = json::array({{{"code", "99504-3"},
                                        {"value", 150},
                                        {"unit", "mg/dL"},
                                        {"time", earlier_time},
                                        {"source", "cgm"}}})
                              .dump();
  mosquitto_publish(client, nullptr, "medtwin/obs/g1", static_cast<int>(cgm.size()), cgm.data(), 1,
                    false);
  ASSERT_TRUE(inbox.WaitFor("medtwin/cmd/g1", "\"cgm_mg_dl\":150", &cmd_normal));
  const json c1 = json::parse(cmd_normal);
  EXPECT_EQ(c1["kind"], "insulin");
  EXPECT_EQ(c1["controller"], "pid");
  EXPECT_EQ(c1["suspended"], false);
  EXPECT_GT(c1["basal_u_per_h"].get<double>(), 0.0);
  json low = json::parse(cgm);
  low[0]["value"] = 62;
  low[0]["time"] = time;
  const std::string low_text = low.dump();
  mosquitto_publish(client, nullptr, "medtwin/obs/g1", static_cast<int>(low_text.size()),
                    low_text.data(), 1, false);
  ASSERT_TRUE(inbox.WaitFor("medtwin/cmd/g1", "\"cgm_mg_dl\":62", &cmd_low));
  EXPECT_EQ(json::parse(cmd_low)["suspended"], true);
  EXPECT_EQ(json::parse(cmd_low)["basal_u_per_h"], 0.0);

  mosquitto_disconnect(client);
  mosquitto_loop_stop(client, false);
  mosquitto_destroy(client);
  mosquitto_lib_cleanup();
  fs::remove_all(dir);
}

}  // namespace
