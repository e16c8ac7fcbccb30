// server/trials.h — in-silico trials run by the server for the dashboard and API. Each request
// becomes a job run on the runner's own thread, one at a time (the twins' shards and the HTTP
// threads are never held up), with progress per patient. Trials use virtual patients only (no
// patient data); the last 20 jobs are listed, and finished ones are saved in the store, so
// they are still there after a restart (queued or running ones are not: they start again).
#pragma once

#include <nlohmann/json.hpp>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "medtwin/core/result.h"
#include "medtwin/store/store.h"

namespace medtwin::server {

class TrialRunner {
 public:
  // `store` (may be null: memory only) must outlive the runner; its kept trials are loaded.
  explicit TrialRunner(store::Store* store = nullptr);
  ~TrialRunner();  // finishes the running patient, drops queued jobs
  TrialRunner(const TrialRunner&) = delete;
  TrialRunner& operator=(const TrialRunner&) = delete;

  // Validates {"cohort", "controller", "days", "meals", "seed", "ideal_sensor", "alerts"}
  // (every member optional) and queues the trial: the job as first listed ({"id", "status":
  // "queued", "settings", …}). At most 4 jobs wait; more is an error on "trial".
  [[nodiscard]] Result<nlohmann::json> Submit(const nlohmann::json& body, const std::string& by);
  // Every kept job, newest first, without per-patient results.
  [[nodiscard]] nlohmann::json List() const;
  // One job: status, progress {"done", "total"}; when done, "results" (TrialSummaryToJson) and
  // "profile" (the ambulatory glucose profile: hour_of_day, p05, p25, p50, p75, p95 in mg/dL).
  [[nodiscard]] std::optional<nlohmann::json> Get(const std::string& id) const;

 private:
  void Work();
  // Saves a finished job (logged, not fatal, if the store refuses: the job stays listed).
  void Save(const nlohmann::json& job);

  mutable std::mutex mu_;
  std::condition_variable wake_;
  std::deque<nlohmann::json> jobs_;  // newest first
  std::deque<std::string> queue_;
  std::uint64_t next_id_ = 1;
  bool stopping_ = false;
  store::Store* store_ = nullptr;
  std::thread worker_;
};

}  // namespace medtwin::server
