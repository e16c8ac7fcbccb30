// twin/twin_kind.h — the seam every kind of twin implements (ward monitoring, glucose, the drug
// twins, prescription checks; next oncology). A LiveTwin holds one instance of each kind that
// applies to the patient's record and drives them through one lifecycle, in the spirit of
// Pulse's system seams: each kind assimilates the observations and events it takes, raising
// and resolving alerts through the patient's one AlertBook; contributes its part of the twin's
// view and its advice; answers what-ifs on a copy of its state (so they run off the shard
// thread); and hands out the work too slow for the shard thread (fits), whose outcome the shard
// installs later. docs/twins.md explains the lifecycle and how to add a kind.
//
// Kinds are listed by name in twin_registry.cpp; a kind lives in its own files.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/core/time.h"
#include "medtwin/monitor/alerts.h"
#include "medtwin/monitor/rules.h"
#include "medtwin/record/advice.h"
#include "medtwin/record/event.h"
#include "medtwin/record/observation.h"
#include "medtwin/record/patient.h"

namespace medtwin::twin {

using monitor::Alert;
using monitor::AlertIdSource;
using monitor::AlertStatus;
using monitor::Severity;
using monitor::SeverityName;

// The newest value of one observed code.
struct LatestValue {
  double value = 0;
  std::string text;  // coded values (ACVPU)
  Instant time;
  std::string source;  // the device or system that sent it
};
using LatestValues = std::map<std::string, LatestValue>;

// What one observation or event changed, for the live stream.
struct TwinUpdate {
  std::vector<Alert> alerts;  // raised, escalated, de-escalated or resolved by it
  bool news2_changed = false;
  bool fit_needed = false;                        // a kind has new off-shard work (TakeOffShardJob)
  std::optional<record::InsulinCommand> command;  // a closed loop's command for the pump
};

// What a kind sees of the whole twin.
struct TwinFacts {
  const record::PatientRecord& record;
  const LatestValues& latest;
  const std::vector<std::string>& drugs;  // drugs given or ordered so far (lower case)
};

// ... and, while it assimilates, how it raises alerts: through the patient's one AlertBook,
// each change noted in the update.
class TwinContext : public TwinFacts, public monitor::AlertSink {
 public:
  TwinContext(const TwinFacts& facts, monitor::AlertBook& alerts, AlertIdSource next_alert_id,
              bool is_live, TwinUpdate& changes)
      : TwinFacts(facts),
        live(is_live),
        update(changes),
        alerts_(alerts),
        next_alert_id_(next_alert_id) {}

  const bool live;  // false while history is replayed at start-up: no refits are asked for
  TwinUpdate& update;

  // New alerts need an id source; without one (events replayed) only existing alerts change.
  [[nodiscard]] bool can_raise() const { return next_alert_id_ != nullptr; }
  void Raise(std::string_view kind, Severity severity, Instant t, std::string message) override;
  void Resolve(std::string_view kind, Instant t) override;

 private:
  monitor::AlertBook& alerts_;
  AlertIdSource next_alert_id_;
};

// A kind's part of the twin's view (its model state), a typed value the kind defines in its
// own header; the server formats it by the kind's name. Views are snapshots: they share nothing
// with the twin, so they may be read on any thread.
struct KindView {
  virtual ~KindView() = default;
};

// A what-if asked of the twin: `model` names the kind that answers it (TwinKinds()
// what_if_models); each kind defines its plan (parsed at the edge) and its outcome.
struct WhatIfPlan {
  virtual ~WhatIfPlan() = default;
  std::string model;
};
struct WhatIfOutcome {
  virtual ~WhatIfOutcome() = default;
  std::string model;
  bool refitting = false;  // the kind had work pending that may change the answer
};

// A what-if prepared from a copy of a kind's state: runs on any thread.
using WhatIfTask = std::function<Result<std::unique_ptr<WhatIfOutcome>>()>;

class TwinKind;
// Work a kind hands out to run off the shard thread (a population-model fit): `run` may run on
// any thread and returns `install`, which the shard thread calls on the same kind; `install`
// returns advice to publish (none when there is none, or the job was not to be announced).
struct OffShardJob {
  using Install = std::function<std::optional<record::Recommendation>(TwinKind&)>;
  std::function<Install()> run;
};

class TwinKind {
 public:
  virtual ~TwinKind() = default;
  [[nodiscard]] virtual std::string_view name() const = 0;

  // Assimilates one observation, the newest of its code (older ones go to history only).
  virtual void Observe(const record::Observation& /*o*/, TwinContext& /*ctx*/) {}
  // Takes one event (meal, insulin, basal, dose, order; every kind sees every event and
  // ignores what is not its own).
  virtual void OnEvent(const record::Event& /*e*/, TwinContext& /*ctx*/) {}
  // The record changed (`before` is the old one; ctx.record the new).
  virtual void OnRecordChanged(const record::PatientRecord& /*before*/, TwinContext& /*ctx*/) {}

  // Its part of the twin's view (none: it shows nothing); `forecast_bands` asks for the
  // costlier forecasts.
  [[nodiscard]] virtual std::shared_ptr<const KindView> View(const TwinFacts& /*facts*/,
                                                             bool /*forecast_bands*/) {
    return nullptr;
  }
  // Its current advice, if any (the view lists every kind's).
  [[nodiscard]] virtual std::optional<record::Recommendation> Advice() const {
    return std::nullopt;
  }

  // The what-if models it answers ("glucose", "vancomycin", …), and a what-if on a copy of its
  // state (`now` is the wall clock). `plan` is the kind's own plan type (the edge parses it by
  // the kind's name).
  [[nodiscard]] virtual bool AnswersWhatIf(const TwinFacts& /*facts*/,
                                           std::string_view /*model*/) const {
    return false;
  }
  [[nodiscard]] virtual Result<WhatIfTask> PrepareWhatIf(const TwinFacts& /*facts*/,
                                                         const WhatIfPlan& /*plan*/,
                                                         Instant /*now*/) {
    return InvalidArgument("model", "this twin answers no what-if");
  }

  // Off-shard work: one job at a time; `announce` publishes its advice when installed.
  [[nodiscard]] virtual std::optional<OffShardJob> TakeOffShardJob(const TwinFacts& /*facts*/,
                                                                   bool /*announce*/) {
    return std::nullopt;
  }
  // Work queued, running, or due (inputs newer than the installed outcome).
  [[nodiscard]] virtual bool OffShardPending(const TwinFacts& /*facts*/) const { return false; }

  [[nodiscard]] virtual std::size_t ApproxBytes() const { return 0; }
};

// One kind of twin: its name, whether a record calls for it, and how to make it.
struct TwinKindEntry {
  std::string_view name;
  bool (*applies)(const record::PatientRecord& record);
  std::unique_ptr<TwinKind> (*make)(const record::PatientRecord& record);
  // The what-if models it answers, for errors naming what a patient lacks.
  std::array<std::string_view, 4> what_if_models;
};

// Every kind, in the order a twin consults them (twin_registry.cpp).
[[nodiscard]] std::span<const TwinKindEntry> TwinKinds();
// The kind answering what-if `model`, or null.
[[nodiscard]] const TwinKindEntry* KindAnsweringWhatIf(std::string_view model);
// Every what-if model, for errors: "vancomycin, warfarin, glucose".
[[nodiscard]] std::string WhatIfModelList();

}  // namespace medtwin::twin
