// cli/demo_devices.h — the built-in demo of `medtwin serve --demo`: a ward of virtual patients
// whose monitors send vital signs (three of them drift into sepsis-like deterioration) and two
// type-1 diabetes patients (UVA/Padova virtual patients under basal-bolus therapy) whose CGMs
// report every 5 min with their meals and insulin as events. Ward physiology runs `speed`
// times faster than the clock; the CGM patients live in real time (their twins' models must
// match the clock) after a backfill of the last 24 h. Everything carries real timestamps and
// goes through the same ingest path as HTTP (validated, stored, applied).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <thread>
#include <vector>

#include "medtwin/server/service.h"

namespace medtwin::cli {

// The demo clinician: on every demo patient's care team (`medtwin serve --demo` prints a token
// for them).
inline constexpr const char* kDemoClinician = "dr-demo";

struct DemoOptions {
  int ward_patients = 12;
  int glucose_patients = 2;
  int vancomycin_patients = 1;  // 1 g q12h with drug levels, so the drug twin has advice
  int warfarin_patients = 1;    // 5 mg a day for a week with INRs: IWPC start, fit, advice
  double speed = 60;            // simulated seconds per real second
  std::uint64_t seed = 1;
};

// Where the simulated devices' data goes: patient documents to create (an existing patient is
// not an error) and batches of observation objects (each naming its patient). Returns how many
// observations were accepted.
struct DeviceSink {
  std::function<Status(const nlohmann::json& patient)> create_patient;
  std::function<Result<std::size_t>(const std::vector<nlohmann::json>& batch)> send;
  // Events (meals, insulin, basal changes), each naming its patient; optional.
  std::function<Status(const std::vector<nlohmann::json>& events)> send_events;
};

// The demo's patients as documents (ward then glucose patients).
std::vector<nlohmann::json> DemoPatients(const DemoOptions& o);

// Who demo vancomycin patient `index` (vanco-NN, from 0) truly is: a draw from the population
// model its twin fits (η ~ N(0, Ω) of vancomycin_goti2018, seeded by the index) with the
// covariates of its record as the twin derives them (age at `first_dose_us`), so the twin's
// advice can be checked against the truth.
struct DemoDrugTruth {
  std::string population_model;
  std::vector<double> eta;         // in the model's η order
  std::vector<double> covariates;  // in the model's data-column order
};
[[nodiscard]] Result<DemoDrugTruth> DemoVancomycinTruth(int index, long long first_dose_us);

// The demo vancomycin therapy as of `now_us`: 1 g over 1 h on a fixed 12-h grid for the last
// four weeks (so a restart re-sends the same doses, which the store recognizes, and the levels
// are simulated from every dose the twin can have: a dose older than four weeks leaves less
// than 1e-6 of itself), and two levels around the dose before the last (a trough and a peak,
// or, by the dose's place on the grid, two later times in its interval), simulated from the
// patient's truth with the model's residual error and rounded to 0.1 mg/L as a lab reports.
void DemoVancomycinHistory(int index, long long now_us, std::vector<nlohmann::json>& events,
                           std::vector<nlohmann::json>& levels);

class DemoFeeder {
 public:
  // Creates the demo patients (if the store does not have them yet) and starts feeding the
  // service in-process.
  static Result<std::unique_ptr<DemoFeeder>> Start(server::TwinService& service,
                                                   const DemoOptions& o);
  // The same devices, feeding any sink (HTTP, MQTT: `medtwin devices`).
  static Result<std::unique_ptr<DemoFeeder>> Start(DeviceSink sink, const DemoOptions& o);
  ~DemoFeeder();
  [[nodiscard]] std::uint64_t sent() const { return sent_.load(); }
  [[nodiscard]] std::uint64_t failed_batches() const { return failed_.load(); }

 private:
  DemoFeeder(DeviceSink sink, DemoOptions o) : sink_(std::move(sink)), options_(o) {}
  void Run();

  DeviceSink sink_;
  std::atomic<std::uint64_t> failed_{0};
  DemoOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

}  // namespace medtwin::cli
