#include "medtwin/server/mqtt_bridge.h"

#include <mosquitto.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

#include "medtwin/core/text.h"
#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"

namespace medtwin::server {
namespace {

constexpr const char* kObsPrefix = "medtwin/obs/";

std::once_flag g_lib_init;

}  // namespace

Result<std::unique_ptr<MqttBridge>> MqttBridge::Start(const std::string& url, TwinService& service,
                                                      const MqttOptions& options) {
  const bool tls = url.starts_with("mqtts://");
  if (!url.starts_with("mqtt://") && !tls) {
    return InvalidArgument("--mqtt", "mqtt://[USER@]HOST[:PORT] or mqtts://[USER@]HOST[:PORT]");
  }
  std::string host = url.substr(tls ? 8 : 7);
  std::string user;
  if (const auto at = host.rfind('@'); at != std::string::npos) {
    user = host.substr(0, at);
    host = host.substr(at + 1);
    if (user.find(':') != std::string::npos) {
      return InvalidArgument("--mqtt", "no password in the URL: use $MEDTWIN_MQTT_PASSWORD");
    }
  }
  int port = tls ? 8883 : 1883;
  if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    const auto parsed = ParsePort(host.substr(colon + 1));
    if (!parsed) return InvalidArgument("--mqtt", "port is not a number 1–65535");
    port = *parsed;
    host = host.substr(0, colon);
  }
  if (host.empty() || port <= 0 || port > 65535)
    return InvalidArgument("--mqtt", "mqtt://[USER@]HOST[:PORT] or mqtts://[USER@]HOST[:PORT]");
  if (user.empty()) {
    const bool loopback =
        host == "localhost" || host == "::1" || host == "[::1]" || host.starts_with("127.");
    if (!options.allow_anonymous) {
      return InvalidArgument(
          "--mqtt",
          "no MQTT user: a broker without credentials lets anyone publish observations and read "
          "alerts. Give mqtt://USER@HOST with $MEDTWIN_MQTT_PASSWORD (and per-device ACLs on the "
          "broker), or --allow-anonymous-mqtt for a broker on loopback");
    }
    if (!loopback) {
      return InvalidArgument("--allow-anonymous-mqtt",
                             "only for a broker on loopback, not '" + host + "'");
    }
    std::fprintf(stderr,
                 "medtwin serve: WARNING: anonymous MQTT (--allow-anonymous-mqtt): anyone who "
                 "can reach %s:%d can publish observations and read alerts\n",
                 host.c_str(), port);
  }
  if (tls && options.ca_file.empty()) {
    return InvalidArgument("--mqtt-ca",
                           "mqtts:// needs the CA certificate that signed the broker's");
  }
  std::call_once(g_lib_init, [] { mosquitto_lib_init(); });
  std::unique_ptr<MqttBridge> b(new MqttBridge(service));
  if (!user.empty()) b->identity_ = "mqtt:" + user;
  b->worker_ = std::thread([bridge = b.get()] { bridge->IngestLoop(); });
  b->client_ = mosquitto_new("medtwin-serve", true, b.get());
  if (b->client_ == nullptr)
    return Error{ErrorCode::kIoError, "--mqtt", "cannot create an MQTT client"};
  if (tls && mosquitto_tls_set(b->client_, options.ca_file.c_str(), nullptr, nullptr, nullptr,
                               nullptr) != MOSQ_ERR_SUCCESS) {
    return InvalidArgument("--mqtt-ca", "cannot use " + options.ca_file);
  }
  if (!user.empty()) {
    const char* password = std::getenv("MEDTWIN_MQTT_PASSWORD");
    mosquitto_username_pw_set(b->client_, user.c_str(), password);
  }
  mosquitto_connect_callback_set(b->client_, &MqttBridge::OnConnect);
  mosquitto_message_callback_set(b->client_, &MqttBridge::OnMessage);
  mosquitto_reconnect_delay_set(b->client_, 1, 10, true);
  const int rc = mosquitto_connect(b->client_, host.c_str(), port, 30);
  if (rc != MOSQ_ERR_SUCCESS) {
    return Error{
        ErrorCode::kIoError, "--mqtt",
        "cannot connect to " + host + ":" + std::to_string(port) + ": " + mosquitto_strerror(rc)};
  }
  if (mosquitto_loop_start(b->client_) != MOSQ_ERR_SUCCESS) {
    return Error{ErrorCode::kIoError, "--mqtt", "cannot start the MQTT loop"};
  }
  return b;
}

void MqttBridge::Stop() {
  if (client_ != nullptr && !stopped_) {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
  }
  stopped_ = true;
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (worker_.joinable()) worker_.join();  // what was queued is still ingested
}

MqttBridge::~MqttBridge() {
  Stop();
  if (client_ != nullptr) mosquitto_destroy(client_);
}

void MqttBridge::OnConnect(struct mosquitto* m, void* /*self*/, int rc) {
  if (rc == 0) {
    mosquitto_subscribe(m, nullptr, "medtwin/obs/+", 1);
  } else {
    std::fprintf(stderr, "medtwin serve: the MQTT broker refused the connection: %s\n",
                 mosquitto_connack_string(rc));
  }
}

void MqttBridge::OnMessage(struct mosquitto* /*m*/, void* self_ptr,
                           const ::mosquitto_message* msg) {
  auto* self = static_cast<MqttBridge*>(self_ptr);
  ++self->messages_;
  const std::string topic = msg->topic != nullptr ? msg->topic : "";
  if (!topic.starts_with(kObsPrefix)) return;
  // The topic names the patient: anything that is not an id is dropped here, before it can
  // reach a reply topic, the audit trail or the store.
  if (!IsValidId(std::string_view(topic).substr(std::string_view(kObsPrefix).size()))) {
    ++self->dropped_;
    return;
  }
  Message m{topic.substr(std::string_view(kObsPrefix).size()),
            std::string(static_cast<const char*>(msg->payload),
                        static_cast<std::size_t>(msg->payloadlen))};
  {
    std::lock_guard<std::mutex> lock(self->mu_);
    self->queue_.push_back(std::move(m));
  }
  self->cv_.notify_one();
}

void MqttBridge::IngestLoop() {
  constexpr std::size_t kMaxGroup = 4096;  // messages per commit
  for (;;) {
    std::vector<Message> group;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, nothing left
      while (!queue_.empty() && group.size() < kMaxGroup) {
        group.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
    }
    IngestGroup(std::move(group));
  }
}

void MqttBridge::IngestGroup(std::vector<Message> group) {
  using nlohmann::json;
  std::vector<json> reports(group.size());
  // All messages' items in one ingest call; `origin[k]` = (message, index in it).
  std::vector<json> items;
  std::vector<std::pair<std::size_t, std::size_t>> origin;
  std::vector<json> correlations;  // per item: what its ack entry echoes
  for (std::size_t m = 0; m < group.size(); ++m) {
    const std::string& patient = group[m].patient;
    auto parsed = io::ParseUntrustedJson(group[m].payload, "payload");
    if (!parsed.ok()) {
      reports[m] = {{"error",
                     {{"code", "invalid"},
                      {"field", parsed.error().field},
                      {"message", parsed.error().message}}}};
      continue;
    }
    json body = std::move(*parsed);
    if (!service_.Patient(patient)) {
      reports[m] = {{"error",
                     {{"code", "not_found"},
                      {"field", "patient"},
                      {"message", "no patient '" + patient + "'"}}}};
      continue;
    }
    reports[m] = {{"accepted", json::array()}, {"rejected", json::array()}};
    std::vector<json> own = JsonItems(std::move(body));
    if (own.size() > kMaxIngestItems) {
      reports[m] = {{"error",
                     {{"code", "too_many_items"},
                      {"field", "payload"},
                      {"message", "send at most " + std::to_string(kMaxIngestItems) +
                                      " observations per message"}}}};
      continue;
    }
    for (std::size_t i = 0; i < own.size(); ++i) {
      json& item = own[i];
      // What the device can match this item's ack with: its own id, else its time and source
      // (with "index", the item's position in the message, always there).
      json correlation = json::object();
      if (item.is_object()) {
        auto id = item.find("id");
        if (id != item.end() && (id->is_string() || id->is_number())) {
          correlation["id"] = *id;
        } else {
          for (const char* key : {"time", "source"}) {
            if (item.contains(key) && item[key].is_string()) correlation[key] = item[key];
          }
        }
      }
      auto reject = [&](const std::string& field, const std::string& reason) {
        json entry = {{"index", i}, {"field", field}, {"reason", reason}};
        entry.update(correlation);
        reports[m]["rejected"].push_back(std::move(entry));
      };
      // A FHIR Observation (R4 JSON) as a device or gateway may publish it: converted as the FHIR
      // endpoint converts it (a blood-pressure panel gives its two readings).
      if (item.is_object() && item.contains("resourceType")) {
        if (item["resourceType"] != "Observation") {
          reject("resourceType", "only Observation resources are taken on MQTT");
          continue;
        }
        auto obs = io::FromFhirObservation(item, LimitsNow());
        if (!obs.ok()) {
          reject(obs.error().field, obs.error().message);
          continue;
        }
        if (obs->front().patient != patient) {
          reject("Observation.subject", "differs from the patient in the topic");
          continue;
        }
        if (!correlation.contains("id")) {
          correlation = {{"time", FormatRfc3339(obs->front().time)},
                         {"source", obs->front().source}};
        }
        for (const auto& o : *obs) {
          items.push_back(io::ObservationToJson(o));
          origin.emplace_back(m, i);
          correlations.push_back(correlation);
        }
        continue;
      }
      // The topic names the patient, as the URL does over HTTP.
      if (item.is_object()) {
        auto p = item.find("patient");
        if (p != item.end() && !p->is_null() && !p->is_string()) {
          reject("patient", "must be a string");
          continue;
        }
        if (p != item.end() && !p->is_null() && *p != patient) {
          reject("patient", "differs from the patient in the topic");
          continue;
        }
        item["patient"] = patient;
      }
      items.push_back(std::move(item));
      origin.emplace_back(m, i);
      correlations.push_back(std::move(correlation));
    }
  }
  if (!items.empty()) {
    // The broker authenticated the devices; the ledger records what they wrote.
    security::AuditEntry audit;
    audit.time_us = std::chrono::duration_cast<std::chrono::microseconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
    audit.who = identity_;
    audit.role = "device";
    audit.action = "MQTT medtwin/obs/{patient}";
    audit.resource = "Observation";
    audit.interaction = 'c';
    audit.from = "mqtt medtwin/obs/{patient}";
    std::set<std::string> patients;
    for (const auto& [m, i] : origin) patients.insert(group[m].patient);
    audit.patients.assign(patients.begin(), patients.end());
    audit.outcome = 200;
    service_.Audit(std::move(audit));
    auto r = service_.Ingest(items, "");
    if (!r.ok()) {
      for (const auto& [m, i] : origin) {
        reports[m] = {
            {"error",
             {{"code", "storage"}, {"field", r.error().field}, {"message", r.error().message}}}};
      }
    } else {
      // Each entry back to its message, with the index it has there.
      auto route = [&](const json& entries, const char* kind) {
        for (json entry : entries) {
          const auto k = entry["index"].get<std::size_t>();
          const auto [m, i] = origin[k];
          entry["index"] = i;
          entry.update(correlations[k]);
          reports[m][kind].push_back(std::move(entry));
        }
      };
      route(r->accepted, "accepted");
      route(r->rejected, "rejected");
    }
  }
  for (std::size_t m = 0; m < group.size(); ++m) {
    if (reports[m].contains("rejected")) {
      // In item order, as an HTTP reply lists them.
      auto& rej = reports[m]["rejected"];
      std::stable_sort(rej.begin(), rej.end(), [](const json& a, const json& b) {
        return a["index"].get<std::size_t>() < b["index"].get<std::size_t>();
      });
    }
    Publish("medtwin/ack/" + group[m].patient, io::DumpJson(reports[m]));
  }
}

void MqttBridge::Publish(const std::string& topic, const std::string& payload) {
  mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                    payload.data(), 1, false);
}

void MqttBridge::PublishAlert(const std::string& patient, const std::string& json) {
  Publish("medtwin/alerts/" + patient, json);
}

void MqttBridge::PublishCommand(const std::string& patient, const nlohmann::json& command) {
  Publish("medtwin/cmd/" + patient, io::DumpJson(command));
}

}  // namespace medtwin::server
