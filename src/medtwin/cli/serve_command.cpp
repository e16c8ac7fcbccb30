#include "medtwin/cli/serve_command.h"

#include <csignal>
#include <cstdio>
#include <thread>

#include "medtwin/server/demo.h"
#include "medtwin/server/http_server.h"
#include "medtwin/server/mqtt_bridge.h"
#include "medtwin/server/service.h"

namespace medtwin::cli {
namespace {

volatile std::sig_atomic_t g_stop = 0;
void OnSignal(int) { g_stop = 1; }

}  // namespace

Status RunServe(const ServeArgs& args) {
  const auto colon = args.listen.rfind(':');
  if (colon == std::string::npos)
    return InvalidArgument("--listen", "HOST:PORT, e.g. 127.0.0.1:8080");
  int port = 0;
  try {
    port = std::stoi(args.listen.substr(colon + 1));
  } catch (const std::exception&) {
    port = -1;
  }
  if (port < 0 || port > 65535) return InvalidArgument("--listen", "port must be 0..65535");
  if (args.shards < 1 || args.shards > 64) return InvalidArgument("--shards", "1..64");
  MEDTWIN_TRY(auto store, store::OpenStore(args.store));
  auto broadcaster = std::make_shared<server::Broadcaster>();
  std::fprintf(stderr, "medtwin serve: loading twins from %s ...\n", store->Kind().data());
  MEDTWIN_TRY(auto service, server::TwinService::Open(std::move(store), args.shards, broadcaster));
  std::unique_ptr<server::MqttBridge> mqtt;
  if (!args.mqtt.empty()) {
    MEDTWIN_TRY(mqtt, server::MqttBridge::Start(args.mqtt, *service));
    server::MqttBridge* bridge = mqtt.get();
    service->SetAlertListener([bridge](const std::string& patient, const std::string& json) {
      bridge->PublishAlert(patient, json);
    });
    service->SetCommandListener([bridge](const std::string& patient, const nlohmann::json& cmd) {
      bridge->PublishCommand(patient, cmd);
    });
  }
  server::HttpOptions http;
  http.address = args.listen.substr(0, colon);
  http.port = static_cast<unsigned short>(port);
  http.threads = args.http_threads;
  http.body_limit = args.body_limit_mb * 1024 * 1024;
  if (args.read_timeout_s < 1 || args.read_timeout_s > 3600) {
    return InvalidArgument("--read-timeout-s", "1..3600");
  }
  http.read_timeout = std::chrono::seconds(args.read_timeout_s);
  MEDTWIN_TRY(auto server,
              server::HttpServer::Start(http, server::MakeApiHandler(*service), broadcaster));
  std::unique_ptr<server::DemoFeeder> demo;
  if (args.demo) {
    server::DemoOptions d;
    d.speed = args.speed;
    MEDTWIN_TRY(demo, server::DemoFeeder::Start(*service, d));
  }
  // The one line a script waits for: where to connect.
  std::printf("medtwin serve: listening on http://%s:%u (store %s, %zu twins%s%s)\n",
              http.address.c_str(), server->port(), service->store().Kind().data(),
              service->engine().TwinCount(), args.demo ? ", demo running" : "",
              mqtt ? ", MQTT connected" : "");
  std::fflush(stdout);
  std::signal(SIGINT, OnSignal);
  std::signal(SIGTERM, OnSignal);
  while (g_stop == 0) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::fprintf(stderr, "medtwin serve: stopping\n");
  demo.reset();
  server->Stop();
  if (mqtt) mqtt->Stop();
  // Twins finish what they were given (and may still publish through the bridge), then the
  // bridge goes.
  service->engine().Drain();
  service->SetAlertListener({});
  service->SetCommandListener({});
  mqtt.reset();
  return Ok{};
}

}  // namespace medtwin::cli
