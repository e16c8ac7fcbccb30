// server/demo.h — the built-in demo of `medtwin serve --demo`: a ward of virtual patients whose
// monitors send vital signs (three of them drift into sepsis-like deterioration) and two
// type-1 diabetes patients (UVA/Padova virtual patients under basal-bolus therapy) whose CGMs
// report every 5 min. Physiology runs `speed` times faster than the clock; observations carry
// real timestamps and go through the same ingest path as HTTP (validated, stored, applied).
#pragma once

#include <atomic>
#include <cstdint>
#include <thread>

#include "medtwin/server/service.h"

namespace medtwin::server {

struct DemoOptions {
  int ward_patients = 12;
  int glucose_patients = 2;
  double speed = 60;  // simulated seconds per real second
  std::uint64_t seed = 1;
};

class DemoFeeder {
 public:
  // Creates the demo patients (if the store does not have them yet) and starts feeding.
  static Result<std::unique_ptr<DemoFeeder>> Start(TwinService& service, const DemoOptions& o);
  ~DemoFeeder();
  [[nodiscard]] std::uint64_t sent() const { return sent_.load(); }

 private:
  DemoFeeder(TwinService& service, DemoOptions o) : service_(service), options_(o) {}
  void Run();

  TwinService& service_;
  DemoOptions options_;
  std::atomic<bool> stop_{false};
  std::atomic<std::uint64_t> sent_{0};
  std::thread thread_;
};

}  // namespace medtwin::server
