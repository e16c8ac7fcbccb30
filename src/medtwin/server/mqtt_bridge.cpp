#include "medtwin/server/mqtt_bridge.h"

#include <mosquitto.h>

#include <mutex>

namespace medtwin::server {
namespace {

constexpr const char* kObsPrefix = "medtwin/obs/";

std::once_flag g_lib_init;

}  // namespace

Result<std::unique_ptr<MqttBridge>> MqttBridge::Start(const std::string& url,
                                                      TwinService& service) {
  if (!url.starts_with("mqtt://")) return InvalidArgument("--mqtt", "mqtt://HOST[:PORT]");
  std::string host = url.substr(7);
  int port = 1883;
  if (const auto colon = host.rfind(':'); colon != std::string::npos) {
    try {
      port = std::stoi(host.substr(colon + 1));
    } catch (const std::exception&) {
      return InvalidArgument("--mqtt", "port is not a number");
    }
    host = host.substr(0, colon);
  }
  if (host.empty() || port <= 0 || port > 65535)
    return InvalidArgument("--mqtt", "mqtt://HOST[:PORT]");
  std::call_once(g_lib_init, [] { mosquitto_lib_init(); });
  std::unique_ptr<MqttBridge> b(new MqttBridge(service));
  b->client_ = mosquitto_new("medtwin-serve", true, b.get());
  if (b->client_ == nullptr)
    return Error{ErrorCode::kIoError, "--mqtt", "cannot create an MQTT client"};
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

MqttBridge::~MqttBridge() {
  if (client_ != nullptr) {
    mosquitto_disconnect(client_);
    mosquitto_loop_stop(client_, false);
    mosquitto_destroy(client_);
  }
}

void MqttBridge::OnConnect(struct mosquitto* m, void* /*self*/, int rc) {
  if (rc == 0) mosquitto_subscribe(m, nullptr, "medtwin/obs/+", 1);
}

void MqttBridge::OnMessage(struct mosquitto* /*m*/, void* self_ptr,
                           const ::mosquitto_message* msg) {
  auto* self = static_cast<MqttBridge*>(self_ptr);
  ++self->messages_;
  const std::string topic = msg->topic != nullptr ? msg->topic : "";
  if (!topic.starts_with(kObsPrefix)) return;
  const std::string patient = topic.substr(std::string_view(kObsPrefix).size());
  nlohmann::json report;
  const std::string_view payload(static_cast<const char*>(msg->payload),
                                 static_cast<std::size_t>(msg->payloadlen));
  nlohmann::json body = nlohmann::json::parse(payload, nullptr, false);
  if (body.is_discarded()) {
    report = {
        {"error", {{"code", "invalid"}, {"field", "payload"}, {"message", "malformed JSON"}}}};
  } else if (!self->service_.Patient(patient)) {
    report = {{"error",
               {{"code", "not_found"},
                {"field", "patient"},
                {"message", "no patient '" + patient + "'"}}}};
  } else {
    auto r = self->service_.Ingest(JsonItems(std::move(body)), patient);
    if (r.ok()) {
      report = {{"accepted", r->accepted}, {"rejected", r->rejected}};
    } else {
      report = {
          {"error",
           {{"code", "storage"}, {"field", r.error().field}, {"message", r.error().message}}}};
    }
  }
  self->Publish("medtwin/ack/" + patient, report.dump());
}

void MqttBridge::Publish(const std::string& topic, const std::string& payload) {
  mosquitto_publish(client_, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                    payload.data(), 1, false);
}

void MqttBridge::PublishAlert(const std::string& patient, const std::string& json) {
  Publish("medtwin/alerts/" + patient, json);
}

void MqttBridge::PublishCommand(const std::string& patient, const nlohmann::json& command) {
  Publish("medtwin/cmd/" + patient, command.dump());
}

}  // namespace medtwin::server
