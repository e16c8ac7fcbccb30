// Transport security against the running binary: HTTPS with a certificate made by openssl
// (curl verifies it; plain HTTP and an unknown CA are refused; tokens work as over HTTP), and
// MQTT over TLS to a real Mosquitto with per-device passwords and topic ACLs: a device writes
// only its own patient's topic, a wrong password is refused, and the server's bridge connects
// with its own credentials.
#include <gtest/gtest.h>
#include <mosquitto.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "../support/free_port.h"
#include "../support/pg_server.h"
#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;
using medtwin::testing_support::ReadAll;
using medtwin::testing_support::Shell;
using medtwin::testing_support::StartLogged;
using medtwin::testing_support::TestAuth;

class Tls : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_tls_" + std::to_string(::getpid()));
    fs::create_directories(dir_);
    // A self-signed certificate for 127.0.0.1 (its own CA).
    const std::string made = Shell(
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -days 2 -keyout " +
        (dir_ / "key.pem").string() + " -out " + (dir_ / "cert.pem").string() +
        " >/dev/null 2>&1; echo $?");
    ASSERT_EQ(made, "0");
    (void)TestAuth::KeyFile();
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

TEST_F(Tls, HttpsServesVerifiedClientsOnly) {
  const std::string bin = std::string(MEDTWIN_BINARY_DIR) + "/medtwin";
  const std::string text =
      StartLogged(bin + " serve --listen 127.0.0.1:0 --store sqlite:" + (dir_ / "t.db").string() +
                      " --auth-key " + TestAuth::KeyFile() + " --audit-key " +
                      TestAuth::AuditKeyFile() + " --tls-cert " + (dir_ / "cert.pem").string() +
                      " --tls-key " + (dir_ / "key.pem").string(),
                  dir_ / "serve.log", dir_ / "serve.pid", "https://127.0.0.1:");
  const auto at = text.find("https://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << text;
  const std::string port = std::to_string(std::stoi(text.substr(at + 18)));
  const std::string base = "https://127.0.0.1:" + port;
  const std::string ca = " --cacert " + (dir_ / "cert.pem").string();
  EXPECT_EQ(Shell("curl -s" + ca + " " + base + "/healthz"),
            R"({"status":"ok","store":"sqlite","twins":0})");
  EXPECT_EQ(Shell("curl -s" + ca + " -H 'Authorization: Bearer " + TestAuth::Admin() +
                  "' -X POST -d '{\"id\":\"tls-1\"}' -o /dev/null -w '%{http_code}' " + base +
                  "/api/v1/patients"),
            "201");
  EXPECT_EQ(Shell("curl -s" + ca + " -o /dev/null -w '%{http_code}' " + base + "/api/v1/patients"),
            "401");
  // Without the CA the client refuses the server; plain HTTP gets no answer.
  EXPECT_NE(Shell("curl -s -o /dev/null " + base + "/healthz; echo $?"), "0");
  EXPECT_NE(Shell("curl -s -m 3 -o /dev/null http://127.0.0.1:" + port + "/healthz; echo $?"), "0");
  // Old protocol versions are refused.
  EXPECT_NE(Shell("curl -s" + ca + " --tls-max 1.1 -o /dev/null " + base + "/healthz; echo $?"),
            "0");
  medtwin::testing_support::StopLogged(dir_ / "serve.pid");
  // A key that does not match: a clear error.
  const std::string bad =
      Shell(bin + " serve --listen 127.0.0.1:0 --store sqlite::memory: --auth-key " +
            TestAuth::KeyFile() + " --audit-key " + TestAuth::AuditKeyFile() + " --tls-cert " +
            (dir_ / "cert.pem").string() + " --tls-key " + (dir_ / "cert.pem").string() +
            " 2>&1; echo rc=$?");
  EXPECT_NE(bad.find("--tls-key"), std::string::npos) << bad;
  EXPECT_NE(bad.find("rc=2"), std::string::npos) << bad;
}

TEST_F(Tls, MqttOverTlsWithPerDeviceCredentials) {
  const int broker_port = medtwin::testing_support::FreePortBelowEphemeral(2);
  ASSERT_EQ(Shell("mosquitto_passwd -b -c " + (dir_ / "passwd").string() +
                  " medtwin-server s3rver-pw >/dev/null 2>&1 && mosquitto_passwd -b " +
                  (dir_ / "passwd").string() + " monitor-a dev1ce-pw >/dev/null 2>&1; echo $?"),
            "0");
  std::ofstream(dir_ / "acl") << "user medtwin-server\ntopic readwrite medtwin/#\n"
                              << "user monitor-a\ntopic write medtwin/obs/mq-a\n"
                              << "topic read medtwin/ack/mq-a\n";
  std::ofstream(dir_ / "mosquitto.conf") << "listener " << broker_port << " 127.0.0.1\n"
                                         << "certfile " << (dir_ / "cert.pem").string() << "\n"
                                         << "keyfile " << (dir_ / "key.pem").string() << "\n"
                                         << "tls_version tlsv1.2\n"
                                         << "allow_anonymous false\n"
                                         << "password_file " << (dir_ / "passwd").string() << "\n"
                                         << "acl_file " << (dir_ / "acl").string() << "\n"
                                         << "persistence false\n";
  (void)Shell("chmod 644 " + (dir_ / "key.pem").string() + " " + (dir_ / "passwd").string() + " " +
              (dir_ / "acl").string() + "; chmod 755 " + dir_.string());
  StartLogged("/usr/sbin/mosquitto -v -c " + (dir_ / "mosquitto.conf").string(),
              dir_ / "broker.log", dir_ / "broker.pid", "running");
  const std::string bin = std::string(MEDTWIN_BINARY_DIR) + "/medtwin";
  const std::string text = StartLogged(
      "MEDTWIN_MQTT_PASSWORD=s3rver-pw " + bin +
          " serve --listen 127.0.0.1:0 --store sqlite:" + (dir_ / "m.db").string() +
          " --auth-key " + TestAuth::KeyFile() + " --audit-key " + TestAuth::AuditKeyFile() +
          " --mqtt mqtts://medtwin-server@127.0.0.1:" + std::to_string(broker_port) +
          " --mqtt-ca " + (dir_ / "cert.pem").string(),
      dir_ / "serve.log", dir_ / "serve.pid", "http://127.0.0.1:");
  const auto at = text.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << text << ReadAll(dir_ / "broker.log");
  const auto port = static_cast<unsigned short>(std::stoi(text.substr(at + 17)));
  namespace http = boost::beast::http;
  for (const char* id : {"mq-a", "mq-b"}) {
    ASSERT_EQ(medtwin::testing_support::Call(port, http::verb::post, "/api/v1/patients",
                                             json({{"id", id}}).dump())
                  .status,
              201u);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  mosquitto_lib_init();
  struct Box {
    std::mutex mu;
    std::vector<std::string> acks;
    int connack = -1;
  } box;
  auto connect = [&](const char* user, const char* password) {
    mosquitto* c = mosquitto_new(nullptr, true, &box);
    mosquitto_tls_set(c, (dir_ / "cert.pem").c_str(), nullptr, nullptr, nullptr, nullptr);
    mosquitto_username_pw_set(c, user, password);
    mosquitto_connect_callback_set(c, [](mosquitto*, void* ctx, int rc) {
      auto* b = static_cast<Box*>(ctx);
      std::lock_guard<std::mutex> lock(b->mu);
      b->connack = rc;
    });
    mosquitto_message_callback_set(c, [](mosquitto*, void* ctx, const mosquitto_message* m) {
      auto* b = static_cast<Box*>(ctx);
      std::lock_guard<std::mutex> lock(b->mu);
      b->acks.emplace_back(static_cast<const char*>(m->payload),
                           static_cast<std::size_t>(m->payloadlen));
    });
    EXPECT_EQ(mosquitto_connect(c, "127.0.0.1", broker_port, 30), MOSQ_ERR_SUCCESS);
    mosquitto_loop_start(c);
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    return c;
  };
  // A wrong password: refused.
  mosquitto* intruder = connect("monitor-a", "guess");
  {
    std::lock_guard<std::mutex> lock(box.mu);
    EXPECT_NE(box.connack, 0);
    box.connack = -1;
  }
  mosquitto_disconnect(intruder);
  mosquitto_loop_stop(intruder, true);
  mosquitto_destroy(intruder);
  // The device: its own topic works and is acknowledged; another patient's is dropped by the
  // broker's ACL.
  mosquitto* device = connect("monitor-a", "dev1ce-pw");
  {
    std::lock_guard<std::mutex> lock(box.mu);
    ASSERT_EQ(box.connack, 0);
  }
  mosquitto_subscribe(device, nullptr, "medtwin/ack/mq-a", 1);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const std::string obs = json({{"code", "8867-4"},
                                {"value", 77},
                                {"unit", "/min"},
                                {"time", medtwin::testing_support::Now(1)}})
                              .dump();
  mosquitto_publish(device, nullptr, "medtwin/obs/mq-a", static_cast<int>(obs.size()), obs.data(),
                    1, false);
  mosquitto_publish(device, nullptr, "medtwin/obs/mq-b", static_cast<int>(obs.size()), obs.data(),
                    1, false);
  bool acked = false;
  for (int i = 0; i < 50 && !acked; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    std::lock_guard<std::mutex> lock(box.mu);
    for (const auto& a : box.acks) acked = acked || a.find("accepted") != std::string::npos;
  }
  EXPECT_TRUE(acked) << ReadAll(dir_ / "serve.log");
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto history = [&](const std::string& id) {
    return medtwin::testing_support::Call(port, http::verb::get,
                                          "/api/v1/patients/" + id + "/observations")
        .Json();
  };
  EXPECT_EQ(history("mq-a").size(), 1u);
  EXPECT_EQ(history("mq-b").size(), 0u);
  mosquitto_disconnect(device);
  mosquitto_loop_stop(device, true);
  mosquitto_destroy(device);
  mosquitto_lib_cleanup();
  medtwin::testing_support::StopLogged(dir_ / "serve.pid");
  medtwin::testing_support::StopLogged(dir_ / "broker.pid");
}

}  // namespace
