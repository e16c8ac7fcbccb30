// twin/live_twin.h — one patient's live twin in the server: it orchestrates the kinds of twin
// the patient's record calls for (twin_kind.h: ward monitoring, prescription checks, the drug
// twins, the glucose twin), keeps what they share — the newest value of every observed code,
// the drugs given or ordered, the accepted orders, and the patient's alerts with their one
// lifecycle (monitor::AlertBook) — and assembles the twin's view from their parts.
// Owned by exactly one shard thread: no locks inside.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "medtwin/monitor/news2.h"
#include "medtwin/record/event.h"
#include "medtwin/record/observation.h"
#include "medtwin/record/patient.h"
#include "medtwin/twin/kinds/ward.h"
#include "medtwin/twin/twin_kind.h"
#include "medtwin/twin/twin_view.h"

namespace medtwin::twin {

// A what-if ready to run on any thread, and whether the kind answering it has work pending off
// the shard (a refit whose outcome may change the answer).
struct PreparedWhatIf {
  WhatIfTask task;
  bool refitting = false;
};

// Off-shard work taken from one of the twin's kinds.
struct TwinJob {
  std::size_t kind = 0;  // index of the kind that installs it
  OffShardJob job;
};

class LiveTwin {
 public:
  explicit LiveTwin(record::PatientRecord record);
  LiveTwin(LiveTwin&&) noexcept;
  LiveTwin& operator=(LiveTwin&&) noexcept;
  ~LiveTwin();

  // A changed record: kinds it now calls for are added; kinds see the change (a new genotype
  // checks the drugs given so far). The alerts raised.
  std::vector<Alert> SetRecord(record::PatientRecord record, AlertIdSource next_alert_id);
  [[nodiscard]] const record::PatientRecord& record() const { return record_; }

  // `next_alert_id` hands out globally unique ids. `live` false (a rebuild replaying history)
  // does not ask for refits, so a restart does not refit once per stored level. An observation
  // older than the newest of its code, or at its instant from the same source, changes nothing
  // (the first reading from a source at an instant stands, so a resent one is never taken
  // twice).
  TwinUpdate Apply(const record::Observation& o, AlertIdSource next_alert_id, bool live = true);
  // Meals, insulin and basal changes drive the glucose twin; doses are kept for drug twins;
  // orders are kept (the last 10); a stored acknowledgement is replayed. A dose or order of a
  // drug the genotype argues against raises a "pgx-<drug>" alert (only with `next_alert_id`).
  std::vector<Alert> ApplyEvent(const record::Event& e, AlertIdSource next_alert_id = nullptr);

  [[nodiscard]] monitor::News2Score News2() const;
  // The twin's current advice (null if none).
  [[nodiscard]] std::optional<record::Recommendation> Recommendation() const;

  // Off-shard work (drug-twin fits), one job at a time per kind, run wherever the caller likes:
  // TakeOffShardJob hands out the next job (none while the kind's last runs or nothing is due);
  // its `run` may run on any thread; InstallOffShard puts the outcome in place on this twin's
  // thread and returns advice to announce, if any.
  [[nodiscard]] std::optional<TwinJob> TakeOffShardJob(bool announce);
  std::optional<record::Recommendation> InstallOffShard(std::size_t kind,
                                                        const OffShardJob::Install& install);
  // Inputs not yet reflected by an installed outcome (a job queued, running or due).
  [[nodiscard]] bool OffShardPending() const;
  // Take, run and install every due job on this thread (standalone use and tests).
  void RunOffShardNow();

  // The twin as the API shows it; `forecast_bands` adds the glucose twin's 30/60/120-min
  // forecasts with 5–95 % bands (31 simulations, so only on request).
  [[nodiscard]] TwinView View(bool forecast_bands = false);

  // What-if: predictions for a proposed plan without changing the twin, from the kind that
  // answers `plan.model` ("vancomycin" | "warfarin": DrugWhatIf on the installed fit;
  // "glucose": BG every 15 min for the current inputs and for the plan); `plan` is that kind's
  // plan type. Prepared here, run anywhere; WhatIf runs it at once. `now` is the wall clock.
  [[nodiscard]] Result<PreparedWhatIf> PrepareWhatIf(const WhatIfPlan& plan, Instant now);
  [[nodiscard]] Result<std::unique_ptr<WhatIfOutcome>> WhatIf(const WhatIfPlan& plan, Instant now);

  [[nodiscard]] const std::vector<Alert>& alerts() const { return alerts_.all(); }
  // Open alerts left unacknowledged past the record's escalate_unacknowledged_min at `now`,
  // escalated one severity (none when the record sets no time): the alerts changed.
  std::vector<Alert> EscalateOverdue(Instant now);
  // A clinician acknowledges alert `id`; null if this twin has no such alert.
  const Alert* Acknowledge(std::uint64_t id, const std::string& by);
  [[nodiscard]] std::size_t ApproxBytes() const;

 private:
  // Adds the kinds the record calls for that the twin does not have yet.
  void AddKinds();
  [[nodiscard]] TwinFacts Facts() const { return {record_, latest_, drugs_}; }

  record::PatientRecord record_;
  std::vector<std::unique_ptr<TwinKind>> kinds_;
  LatestValues latest_;
  std::vector<std::string> drugs_;     // drugs given or ordered (lower case), for the pgx check
  std::vector<record::Event> orders_;  // accepted recommendations (the last 10)
  monitor::AlertBook alerts_;
};

}  // namespace medtwin::twin
