// twin/engine.h — the live twins of every patient, partitioned into shards by patient id:
// each shard is one thread that owns its twins and works through a queue, so twin state needs
// no locks and one patient's observations are applied in arrival order. Readers ask the owning
// shard and wait for its answer. Everything a twin does is published to an event sink (the live
// stream): accepted observations, NEWS2 changes, alerts raised, escalated, acknowledged or
// resolved. Drug-twin refits (seconds for warfarin) run on a small worker pool instead of the
// shard thread; their outcome is installed by the shard, and readers of a twin whose refit is
// pending wait for it on their own thread, so they see every level already accepted.
#pragma once

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
#include <variant>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/core/worker_pool.h"
#include "medtwin/record/advice.h"
#include "medtwin/record/alert.h"
#include "medtwin/record/observation.h"
#include "medtwin/record/patient.h"
#include "medtwin/twin/live_twin.h"
#include "medtwin/twin/twin_view.h"

namespace medtwin::twin {

// What the engine tells the live stream as it happens: an observation accepted, an event
// applied, NEWS2 changed, an alert raised or changed, a closed loop's command, new advice.
using News2Changed = News2View;
using TwinEventData = std::variant<record::Observation, record::Event, News2Changed, record::Alert,
                                   record::InsulinCommand, record::Recommendation>;
// Called from shard threads with the patient and what happened.
using EventSink = std::function<void(const std::string& patient, const TwinEventData& data)>;

struct AlertFilter {
  std::optional<record::AlertStatus> status;     // none: any
  std::optional<record::Severity> min_severity;  // none: any
  std::string patient;                           // empty: any
};

class TwinEngine {
 public:
  // `listening` (optional) says whether anyone receives a patient's observation and event
  // stream now; when it returns false the engine does not build them (alerts, commands and
  // advice always go out). `fit_threads` 0: half the hardware threads, at least one.
  TwinEngine(int shards, EventSink sink, std::function<bool(const std::string&)> listening = {},
             int fit_threads = 0);
  ~TwinEngine();
  TwinEngine(const TwinEngine&) = delete;
  TwinEngine& operator=(const TwinEngine&) = delete;

  void UpsertPatient(record::PatientRecord record);
  // Applies observations of known patients (unknown ones are ignored); `publish` false while
  // replaying history at start-up. `publish_observations` false: the caller publishes the
  // observations themselves (once stored) and the engine only what they change.
  void Apply(std::vector<record::Observation> batch, bool publish = true,
             bool publish_observations = true);
  void ApplyEvents(std::vector<record::Event> batch, bool publish = true);

  // The patient's twin as the API shows it (`forecast_bands`: LiveTwin::View). Never waits for
  // a drug refit: a twin whose refit is pending answers with its last complete fit and
  // `refitting` (an I/O thread must not be held by a fit of seconds).
  [[nodiscard]] std::optional<TwinView> View(const std::string& patient,
                                             bool forecast_bands = true);
  // The patient's current advice and whether a refit that may change it is pending (never
  // waits); nullopt for an unknown patient.
  struct CurrentAdvice {
    std::optional<record::Recommendation> recommendation;
    bool refitting = false;
  };
  [[nodiscard]] std::optional<CurrentAdvice> Advice(const std::string& patient);
  // Waits on the caller's own thread, at most `max_wait`, until the patient's pending refit (if
  // any) is installed; true when none is pending any more. For tools and tests, never for a
  // request thread.
  bool AwaitDrugFit(const std::string& patient, std::chrono::milliseconds max_wait);
  // A what-if on the patient's twin, prepared on its shard from a copy of the kind's state and
  // run on the caller's thread (LiveTwin::PrepareWhatIf); `refitting` when a refit that may
  // change the answer is pending.
  [[nodiscard]] Result<std::unique_ptr<WhatIfOutcome>> WhatIf(const std::string& patient,
                                                              const WhatIfPlan& plan);
  // The alerts that pass `filter`, most recently changed first.
  [[nodiscard]] std::vector<record::Alert> Alerts(const AlertFilter& filter);
  // Alert `alert_id` as it is now, wherever it lives.
  [[nodiscard]] std::optional<record::Alert> FindAlert(std::uint64_t alert_id);
  // Acknowledges an open alert (others are returned unchanged); not found: kNotFound. With
  // `patient` (the alert's, from FindAlert) only that patient's twin is asked.
  [[nodiscard]] Result<record::Alert> Acknowledge(std::uint64_t alert_id, const std::string& by,
                                                  const std::string& patient = "");

  // Waits until every queue is empty and every drug refit started is installed (tests,
  // shutdown, start-up replay).
  void Drain();
  [[nodiscard]] std::size_t QueueDepth() const;
  // Drug refits queued or running.
  [[nodiscard]] std::size_t DrugFitsInFlight() const;
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
    // Readers waiting for a patient's drug refit (shard thread only).
    std::unordered_map<std::string, std::vector<std::shared_ptr<std::promise<void>>>> fit_waiters;
  };
  Shard& ShardOf(const std::string& patient);
  void Post(Shard& s, std::function<void()> task);
  void Run(Shard& s);
  // On the shard thread: every twin's alerts left unacknowledged too long, escalated and
  // published.
  void EscalateOverdue(Shard& s, Instant now);
  template <typename T>
  T Ask(Shard& s, std::function<T()> question);
  // On the shard thread: hands the twin's due off-shard work (a refit; one at a time per kind)
  // to the pool.
  void StartFit(Shard& s, const std::string& patient, LiveTwin& twin, bool announce);
  // On the shard thread: installs a finished job, publishes its advice, starts the next.
  void FinishFit(Shard& s, const std::string& patient, std::size_t kind,
                 const OffShardJob::Install& install);
  // On the shard thread: starts a refit deferred on replay; true while one is pending.
  bool KickFit(Shard& s, const std::string& patient);

  EventSink sink_;
  std::function<bool(const std::string&)> listening_;
  std::vector<std::unique_ptr<Shard>> shards_;
  std::atomic<std::size_t> twin_count_{0};
  std::unique_ptr<WorkerPool> fits_;
  std::atomic<bool> stopping_{false};  // no new refits once destruction begins
  mutable std::mutex fit_mu_;
  std::condition_variable fit_cv_;
  std::size_t fits_in_flight_ = 0;  // started and not installed (guarded by fit_mu_)
};

}  // namespace medtwin::twin
