// cli/devices_command.h — `medtwin devices`: the device simulator. Streams what the demo's
// devices measure (ward monitors with some patients deteriorating, CGMs of UVA/Padova virtual
// patients under basal-bolus therapy) to a running server over HTTP (bulk NDJSON) or MQTT.
#pragma once

#include <string>

#include "medtwin/cli/command.h"
#include "medtwin/core/result.h"

namespace medtwin::cli {

struct DevicesArgs {
  int patients = 12;            // ward patients
  int glucose_patients = 2;     // CGM patients
  int vancomycin_patients = 1;  // on vancomycin, with drug levels
  int warfarin_patients = 1;    // on warfarin, with INRs
  double speed = 60;
  std::string to;         // http://HOST:PORT or mqtt://HOST:PORT
  std::string api;        // http://HOST:PORT to create patients (default: `to` if http)
  double duration_s = 0;  // 0: until Ctrl-C
  std::uint64_t seed = 1;
  std::string token;  // bearer token for the HTTP API (default: $MEDTWIN_TOKEN)
};

[[nodiscard]] Status RunDevices(const DevicesArgs& args);

// Adds `medtwin devices`.
void AddDevicesCommand(CLI::App& app);

}  // namespace medtwin::cli
