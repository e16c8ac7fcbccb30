#include "medtwin/cli/devices_command.h"

#include <CLI/CLI.hpp>

#include <mosquitto.h>
#include <cstdlib>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include "medtwin/cli/command.h"
#include "medtwin/cli/demo_devices.h"
#include "medtwin/cli/http_client.h"

namespace medtwin::cli {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

Status RunDevices(const DevicesArgs& args) {
  if (args.to.empty()) return InvalidArgument("--to", "http://HOST:PORT or mqtt://HOST:PORT");
  const bool mqtt = args.to.starts_with("mqtt://");
  if (!mqtt && !args.to.starts_with("http://")) {
    return InvalidArgument("--to",
                           "'" + args.to + "' is neither http://HOST:PORT nor mqtt://HOST:PORT");
  }
  std::string api = args.api;
  if (api.empty() && !mqtt) api = args.to;
  if (api.empty()) return InvalidArgument("--api", "give http://HOST:PORT to create the patients");
  MEDTWIN_TRY(HostPort api_hp, ParseUrl(api, "http", 80, "--api"));
  std::string token = args.token;
  if (token.empty()) {
    if (const char* env = std::getenv("MEDTWIN_TOKEN")) token = env;
  }
  if (token.empty()) {
    return InvalidArgument("--token", "the server needs a bearer token (or set MEDTWIN_TOKEN)");
  }
  auto http_client = std::make_shared<HttpClient>(api_hp, token);

  DeviceSink sink;
  sink.create_patient = [http_client](const nlohmann::json& p) -> Status {
    MEDTWIN_TRY(auto reply, http_client->Post("/api/v1/patients", p.dump(), "application/json"));
    if (reply.first != 201 && reply.first != 409) {
      return Error{ErrorCode::kIoError, "--api",
                   "creating a patient answered " + std::to_string(reply.first) + ": " +
                       reply.second.substr(0, 200)};
    }
    return Ok{};
  };
  // Events always go over HTTP (the API), grouped per patient.
  sink.send_events = [http_client](const std::vector<nlohmann::json>& events) -> Status {
    std::map<std::string, nlohmann::json> per_patient;
    for (const auto& e : events) {
      auto& arr = per_patient[e["patient"].get<std::string>()];
      if (arr.is_null()) arr = nlohmann::json::array();
      arr.push_back(e);
    }
    for (const auto& [patient, arr] : per_patient) {
      MEDTWIN_TRY(auto reply, http_client->Post("/api/v1/patients/" + patient + "/events",
                                                arr.dump(), "application/json"));
      if (reply.first != 200) {
        return Error{ErrorCode::kIoError, "--api",
                     "events answered " + std::to_string(reply.first)};
      }
    }
    return Ok{};
  };
  mosquitto* client = nullptr;
  if (mqtt) {
    MEDTWIN_TRY(HostPort hp, ParseUrl(args.to, "mqtt", 1883, "--to"));
    mosquitto_lib_init();
    client = mosquitto_new(nullptr, true, nullptr);
    if (client == nullptr || mosquitto_connect(client, hp.host.c_str(), hp.port, 30) != 0 ||
        mosquitto_loop_start(client) != 0) {
      return Error{ErrorCode::kIoError, "--to", "cannot connect to the MQTT broker " + args.to};
    }
    sink.send = [client](const std::vector<nlohmann::json>& batch) -> Result<std::size_t> {
      std::map<std::string, nlohmann::json> per_patient;
      for (const auto& o : batch) {
        auto& arr = per_patient[o["patient"].get<std::string>()];
        if (arr.is_null()) arr = nlohmann::json::array();
        arr.push_back(o);
      }
      for (const auto& [patient, arr] : per_patient) {
        const std::string payload = arr.dump();
        const std::string topic = "medtwin/obs/" + patient;
        mosquitto_publish(client, nullptr, topic.c_str(), static_cast<int>(payload.size()),
                          payload.data(), 1, false);
      }
      return batch.size();  // published (the server acknowledges on medtwin/ack/…)
    };
  } else {
    MEDTWIN_TRY(HostPort to_hp, ParseUrl(args.to, "http", 80, "--to"));
    auto to_client = std::make_shared<HttpClient>(to_hp, token);
    sink.send = [to_client](const std::vector<nlohmann::json>& batch) -> Result<std::size_t> {
      std::string ndjson;
      for (const auto& o : batch) ndjson += o.dump() + "\n";
      MEDTWIN_TRY(auto reply, to_client->Post("/api/v1/observations", std::move(ndjson),
                                              "application/x-ndjson"));
      const auto j = nlohmann::json::parse(reply.second, nullptr, false);
      if (!j.is_object() || !j.contains("accepted")) {
        return Error{ErrorCode::kIoError, "--to", "server answered " + std::to_string(reply.first)};
      }
      return j["accepted"].size();
    };
  }
  DemoOptions o;
  o.ward_patients = args.patients;
  o.glucose_patients = args.glucose_patients;
  o.vancomycin_patients = args.vancomycin_patients;
  o.warfarin_patients = args.warfarin_patients;
  o.speed = args.speed;
  o.seed = args.seed;
  MEDTWIN_TRY(auto feeder, DemoFeeder::Start(std::move(sink), o));
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  std::fprintf(stderr,
               "medtwin devices: %d ward + %d CGM + %d vancomycin + %d warfarin patients → %s at "
               "%gx\n",
               args.patients, args.glucose_patients, args.vancomycin_patients,
               args.warfarin_patients, args.to.c_str(), args.speed);
  const auto start = std::chrono::steady_clock::now();
  auto last_report = start;
  while (g_stop == 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const auto now = std::chrono::steady_clock::now();
    if (args.duration_s > 0 &&
        std::chrono::duration<double>(now - start).count() >= args.duration_s) {
      break;
    }
    if (now - last_report >= std::chrono::seconds(5)) {
      last_report = now;
      std::fprintf(stderr, "medtwin devices: %llu observations sent, %llu failed batches\n",
                   static_cast<unsigned long long>(feeder->sent()),
                   static_cast<unsigned long long>(feeder->failed_batches()));
    }
  }
  const auto sent = feeder->sent();
  feeder.reset();
  if (client != nullptr) {
    mosquitto_disconnect(client);
    mosquitto_loop_stop(client, false);
    mosquitto_destroy(client);
  }
  std::printf("medtwin devices: %llu observations sent\n", static_cast<unsigned long long>(sent));
  return Ok{};
}

void AddDevicesCommand(CLI::App& app) {
  auto args = std::make_shared<DevicesArgs>();
  auto* devices = app.add_subcommand(
      "devices",
      "Device simulator: streams ward monitors' vital signs (every fourth patient deteriorates,\n"
      "sepsis-like) and CGMs of UVA/Padova virtual patients under basal-bolus therapy to a\n"
      "running server, over HTTP (bulk NDJSON) or MQTT (medtwin/obs/{patient}). Patients are\n"
      "created through the HTTP API first. Runs until --duration or Ctrl-C.");
  devices->add_option("--patients", args->patients, "Ward patients")->capture_default_str();
  devices->add_option("--glucose-patients", args->glucose_patients, "CGM patients")
      ->capture_default_str();
  devices
      ->add_option("--vancomycin-patients", args->vancomycin_patients,
                   "Patients on vancomycin (doses every 12 h and drug levels)")
      ->capture_default_str();
  devices
      ->add_option("--warfarin-patients", args->warfarin_patients,
                   "Patients on warfarin (5 mg a day, INRs, CYP2C9/VKORC1 genotype)")
      ->capture_default_str();
  devices->add_option("--speed", args->speed, "Physiology speed (x real time)")
      ->capture_default_str();
  devices->add_option("--to", args->to, "http://HOST:PORT or mqtt://HOST:PORT")->required();
  devices->add_option("--api", args->api,
                      "http://HOST:PORT of the server's API (to create patients; default --to)");
  devices->add_option("--duration", args->duration_s, "Seconds to run (0: until Ctrl-C)")
      ->capture_default_str();
  devices->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  devices->add_option("--token", args->token,
                      "Bearer token for the HTTP API (default: $MEDTWIN_TOKEN); e.g. an admin "
                      "token, or a clinician's whose care team the patients join");

  OnChosen(devices, [args] { return Report("devices", RunDevices(*args)); });
}

}  // namespace medtwin::cli
