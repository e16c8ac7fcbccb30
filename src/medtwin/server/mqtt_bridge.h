// server/mqtt_bridge.h — devices over MQTT (libmosquitto, a real broker such as Mosquitto):
// the server subscribes to `medtwin/obs/{patient}` (one observation object or an array; the
// topic names the patient), ingests through the same path as HTTP (validated, stored, applied),
// and answers each message on `medtwin/ack/{patient}` with the same accepted/rejected report,
// each entry echoing what the device can match it with: the item's `id` if it sent one, else
// its `time` and `source` (with `index`, its position in the message). Items may also be FHIR
// R4 Observation resources (converted as the FHIR endpoint converts them).
// Messages are ingested in groups: the client thread only queues them; one worker takes all
// that have arrived, stores them in one commit and then acks each (a device sending one vital
// set per message would otherwise wait for an fsync per message).
// Alerts go out on `medtwin/alerts/{patient}`; recommendations and closed-loop commands on
// `medtwin/cmd/{patient}` (PublishCommand).
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "medtwin/core/result.h"
#include "medtwin/server/service.h"

struct mosquitto;
struct mosquitto_message;

namespace medtwin::server {

struct MqttOptions {
  std::string ca_file;  // for mqtts://: the CA that signed the broker's certificate
  // A broker without credentials lets anyone publish observations and read alerts: refused
  // unless this is set, and then only for a broker on loopback (tests, a single machine).
  bool allow_anonymous = false;
};

class MqttBridge {
 public:
  // `url`: mqtt://[USER@]HOST[:PORT] (1883) or mqtts://[USER@]HOST[:PORT] (TLS, 8883); the
  // password comes from $MEDTWIN_MQTT_PASSWORD (never the command line). Without USER the
  // bridge refuses to start unless options.allow_anonymous and HOST is loopback. The audit
  // trail records what arrives as written by "mqtt:USER" (the identity the broker checked).
  static Result<std::unique_ptr<MqttBridge>> Start(const std::string& url, TwinService& service,
                                                   const MqttOptions& options = {});
  ~MqttBridge();
  // Stops taking messages and ingests what is queued (their acks cannot be sent any more: the
  // client is disconnected, so devices resend; duplicates are recognised). Idempotent.
  void Stop();

  void PublishAlert(const std::string& patient, const std::string& json);
  void PublishCommand(const std::string& patient, const nlohmann::json& command);
  [[nodiscard]] std::uint64_t messages() const { return messages_.load(); }
  // Messages dropped because their topic did not name a valid patient id.
  [[nodiscard]] std::uint64_t dropped() const { return dropped_.load(); }

 private:
  explicit MqttBridge(TwinService& service) : service_(service) {}
  static void OnConnect(struct mosquitto* m, void* self, int rc);
  static void OnMessage(struct mosquitto* m, void* self, const ::mosquitto_message* msg);
  void Publish(const std::string& topic, const std::string& payload);
  struct Message {
    std::string patient, payload;
  };
  void IngestLoop();
  void IngestGroup(std::vector<Message> group);

  TwinService& service_;
  std::string identity_ = "mqtt:anonymous";  // who the audit trail says wrote
  struct mosquitto* client_ = nullptr;
  std::atomic<std::uint64_t> messages_{0}, dropped_{0};
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Message> queue_;
  bool stopping_ = false;
  bool stopped_ = false;
  std::thread worker_;
};

}  // namespace medtwin::server
