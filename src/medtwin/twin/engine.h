// twin/engine.h — the live twins of every patient, partitioned into shards by patient id:
// each shard is one thread that owns its twins and works through a queue, so twin state needs
// no locks and one patient's observations are applied in arrival order. Readers ask the owning
// shard and wait for its answer. Everything a twin does is published to an event sink (the live
// stream): accepted observations, NEWS2 changes, alerts raised, escalated, acknowledged or
// resolved.
#pragma once

#include <nlohmann/json.hpp>

#include <atomic>
#include <condition_variable>
#include <deque>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/io/observation.h"
#include "medtwin/twin/live_twin.h"
#include "medtwin/twin/patient.h"

namespace medtwin::twin {

// (event type, patient id, data) — called from shard threads.
using EventSink = std::function<void(std::string_view, const std::string&, const nlohmann::json&)>;

struct AlertFilter {
  std::string status;    // empty: any
  std::string severity;  // minimum severity name; empty: any
  std::string patient;   // empty: any
};

class TwinEngine {
 public:
  // `listening` (optional) says whether anyone receives events now; when it returns false the
  // engine does not build them.
  TwinEngine(int shards, EventSink sink, std::function<bool()> listening = {});
  ~TwinEngine();
  TwinEngine(const TwinEngine&) = delete;
  TwinEngine& operator=(const TwinEngine&) = delete;

  void UpsertPatient(PatientRecord record);
  // Applies observations of known patients (unknown ones are ignored); `publish` false while
  // replaying history at start-up.
  void Apply(std::vector<io::Observation> batch, bool publish = true);
  void ApplyEvents(std::vector<io::Event> batch, bool publish = true);

  [[nodiscard]] std::optional<nlohmann::json> TwinJson(const std::string& patient);
  // A what-if on the patient's twin (LiveTwin::WhatIf), run on its shard.
  [[nodiscard]] Result<nlohmann::json> WhatIf(const std::string& patient,
                                              const nlohmann::json& plan);
  [[nodiscard]] nlohmann::json Alerts(const AlertFilter& filter);
  [[nodiscard]] Result<nlohmann::json> Acknowledge(std::uint64_t alert_id, const std::string& by);

  // Waits until every queue is empty (tests, shutdown, start-up replay).
  void Drain();
  [[nodiscard]] std::size_t QueueDepth() const;
  [[nodiscard]] std::size_t TwinCount() const;
  [[nodiscard]] std::size_t ApproxTwinBytes();
  [[nodiscard]] int shards() const { return static_cast<int>(shards_.size()); }

 private:
  struct Shard {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<std::function<void()>> queue;
    std::unordered_map<std::string, LiveTwin> twins;  // touched only by the shard's thread
    std::thread thread;
    bool stop = false;
    std::atomic<std::size_t> depth{0};
  };
  Shard& ShardOf(const std::string& patient);
  void Post(Shard& s, std::function<void()> task);
  void Run(Shard& s);
  template <typename T>
  T Ask(Shard& s, std::function<T()> question);

  EventSink sink_;
  std::function<bool()> listening_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::size_t> twin_count_{0};
};

}  // namespace medtwin::twin
