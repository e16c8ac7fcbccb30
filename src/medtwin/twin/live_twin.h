// twin/live_twin.h — one patient's live twin in the server: the latest value of every
// observed code, NEWS2 from the latest vital-sign set, threshold and rate-of-change rules, and
// the patient's alerts with their lifecycle (raised, updated/escalated, acknowledged,
// resolved; one open alert per kind, so a repeated condition updates instead of repeating).
// Owned by exactly one shard thread: no locks inside.
#pragma once

#include <nlohmann/json.hpp>

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "medtwin/decide/glucose_control.h"
#include "medtwin/estimate/glucose_filter.h"
#include "medtwin/estimate/map_estimator.h"
#include "medtwin/io/event.h"
#include "medtwin/io/observation.h"
#include "medtwin/monitor/hypoglycemia.h"
#include "medtwin/monitor/news2.h"
#include "medtwin/twin/drug_twin.h"
#include "medtwin/twin/patient.h"

namespace medtwin::twin {

enum class Severity { kLow = 1, kLowMedium, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);

// The newest value of one observed code.
struct LatestValue {
  double value = 0;
  std::string text;  // coded values (ACVPU)
  Instant time;
};

// The observation codes NEWS2 reads (LOINC).
inline constexpr std::array<std::string_view, 7> kNews2VitalCodes = {
    io::loinc::kRespiratoryRate, io::loinc::kSpo2,      io::loinc::kInhaledO2Flow,
    io::loinc::kSystolicBp,      io::loinc::kHeartRate, io::loinc::kConsciousness,
    io::loinc::kBodyTemperature};

// NEWS2 from the newest value of each vital sign, counting only values at most 4 h older than
// the newest vital sign (the live twin's rule).
[[nodiscard]] monitor::News2Score ScoreLatestVitals(
    const std::map<std::string, LatestValue>& latest, int spo2_scale);

// NEWS2 over time, for a chart: the score after each instant at which a vital sign was
// observed, replaying `observations` (any codes, any order) through ScoreLatestVitals.
struct News2Point {
  Instant time;
  monitor::News2Score score;
};
[[nodiscard]] std::vector<News2Point> News2History(std::vector<io::Observation> observations,
                                                   int spo2_scale);
// One point as JSON: {"time", "total", "complete", "risk", "parts": {…}}.
[[nodiscard]] nlohmann::json News2ToJson(const monitor::News2Score& s);

struct Alert {
  std::uint64_t id = 0;
  std::string patient;
  std::string kind;  // "news2", "spo2-low", "hypoglycemia", "heart-rate-rising", …
  Severity severity = Severity::kLow;
  std::string status = "open";  // open, acknowledged, resolved
  Instant raised_at, updated_at;
  std::string message;
  int escalations = 0;
  std::string acknowledged_by;
};
nlohmann::json AlertToJson(const Alert& a);
// A draft order (an "order" event) as the API shows it.
nlohmann::json OrderToJson(const io::Event& order);

// What one observation changed, for the live stream.
struct TwinUpdate {
  std::vector<Alert> alerts;  // raised, escalated or resolved by it
  bool news2_changed = false;
  bool drug_fit_needed = false;  // a new drug level: the drug twin wants a refit (TakeDrugFitJob)
  // A closed-loop insulin command for the pump (null when none): {"kind": "insulin",
  // "controller", "time", "basal_u_per_h", "bolus_u", "suspended", "valid_for_min", "cgm_mg_dl"}.
  nlohmann::json command;
};

class LiveTwin {
 public:
  explicit LiveTwin(PatientRecord record) : record_(std::move(record)) {}
  void SetRecord(PatientRecord record) { record_ = std::move(record); }
  [[nodiscard]] const PatientRecord& record() const { return record_; }

  // `next_alert_id` hands out globally unique ids. `live` false (a rebuild replaying history)
  // does not ask for drug refits, so a restart does not refit once per stored level.
  TwinUpdate Apply(const io::Observation& o, std::uint64_t (*next_alert_id)(), bool live = true);
  // Meals, insulin and basal changes drive the glucose twin; doses are kept for drug twins.
  // A dose or order of a drug the patient's genotype argues against (CPIC) raises a
  // "pgx-<drug>" alert, returned (with `next_alert_id`; none without, as on replay).
  std::vector<Alert> ApplyEvent(const io::Event& e, std::uint64_t (*next_alert_id)() = nullptr);
  // Every drug given or ordered so far, checked against the current genotype (after the
  // record's genotype changes): the alerts raised.
  std::vector<Alert> CheckPrescriptions(Instant t, std::uint64_t (*next_alert_id)());

  [[nodiscard]] monitor::News2Score News2() const;
  // The drug twin's current draft recommendation (null if none).
  [[nodiscard]] nlohmann::json Recommendation() const {
    return drug_ && drug_->fit ? drug_->fit->recommendation : nlohmann::json();
  }

  // Drug-twin fits, one at a time, wherever the caller runs them: a new level makes the fit
  // stale; TakeDrugFitJob hands out a snapshot (none while one runs or nothing is stale);
  // FitDrugTwin(job) may run on any thread; InstallDrugFit puts its outcome in place (true if
  // the twin now has advice). A failed refit keeps the last good posterior.
  [[nodiscard]] std::optional<DrugFitJob> TakeDrugFitJob(bool announce);
  bool InstallDrugFit(std::shared_ptr<const DrugFit> fit);
  // Levels not yet reflected by the installed fit (a fit queued or running).
  [[nodiscard]] bool DrugFitPending() const;
  // Take, fit and install on this thread (standalone use).
  void RefitDrugTwinNow();
  // The drug twin's spec, installed fit and current doses and levels for a what-if on another
  // thread; an error (field "model") when the patient has no such twin or it has no fit yet.
  [[nodiscard]] Result<DrugWhatIfInputs> DrugWhatIfInputsFor(const std::string& model) const;
  // The twin as the API shows it; `forecast_bands` adds the glucose twin's 30/60/120-min
  // forecasts with 5–95 % bands (31 simulations, so only on request).
  [[nodiscard]] nlohmann::json ToJson(bool forecast_bands = false);
  [[nodiscard]] nlohmann::json News2Json() const;

  // What-if: predictions for proposed plans without changing the twin.
  //   {"model": "vancomycin" | "warfarin", "regimens": [...]} → DrugWhatIf on the installed fit;
  //   {"model": "glucose", "horizon_min": 240, "basal_u_per_h": 1.0,
  //    "meals": [{"in_min": 30, "grams": 60}], "insulin": [{"in_min": 30, "units": 5}]}
  //     → BG every 15 min for the current inputs and for the plan, with lowest/highest values.
  [[nodiscard]] Result<nlohmann::json> WhatIf(const nlohmann::json& plan);
  [[nodiscard]] std::vector<Alert>& alerts() { return alerts_; }
  [[nodiscard]] const std::vector<Alert>& alerts() const { return alerts_; }
  [[nodiscard]] std::size_t ApproxBytes() const;

 private:
  using Latest = LatestValue;
  // Raises or updates (escalates) the open alert of `kind`; returns it if anything changed.
  const Alert* Raise(const std::string& kind, Severity severity, Instant t, std::string message,
                     std::uint64_t (*next_alert_id)());
  const Alert* Resolve(const std::string& kind, Instant t);

  // The glucose twin (when the patient's models include "glucose"): a GlucoseFilter started at
  // the first CGM reading or glucose event, in minutes since then.
  struct GlucoseTwin {
    Instant origin;
    estimate::GlucoseFilter filter;
    double forecast30_mg_dl = 0;
    double lowest30_mg_dl = 0;
    bool predicted_hypo = false;
    std::string virtual_patient;
    // Closed loop (record.closed_loop): the controller, carbohydrate announced since its last
    // decision, and its last command.
    std::unique_ptr<decide::GlucoseController> controller;
    double announced_meal_g = 0;
    nlohmann::json last_command;
    monitor::HypoglycemiaAlert hypo_alert;  // the same rule the trials score
  };
  GlucoseTwin* Glucose(Instant t);  // created on first use; nullptr if not a glucose twin

  // The drug twin (when the patient's models include "vancomycin" or "warfarin" and a
  // population model is known): the doses and levels so far and the installed fit; each new
  // level makes the fit stale (the engine refits off the shard thread).
  struct DrugTwin {
    std::vector<io::Event> doses;  // by time
    std::vector<std::pair<Instant, double>> levels;
    std::shared_ptr<const DrugFit> fit;  // null until the first fit
    std::vector<io::Event> orders;       // accepted recommendations (the last 10)
    bool stale = false;                  // levels newer than the last fit taken
    bool fitting = false;                // a fit taken and not installed yet
  };
  // The record's drug-twin spec (vancomycin, warfarin), or null.
  [[nodiscard]] const DrugTwinSpec* DrugSpec() const;
  // New levels, doses and a drug-twin model: a fit can be taken.
  [[nodiscard]] bool DrugFitDue() const;
  // One control decision on a CGM reading: the controller's request through the pump's limits,
  // applied to the twin's inputs (the pump is assumed to deliver what it is commanded) and
  // returned as the command to send.
  nlohmann::json CloseTheLoop(GlucoseTwin& g, double t_min, const io::Observation& cgm);
  std::unique_ptr<DrugTwin> drug_;
  [[nodiscard]] double GlucoseMinutes(const GlucoseTwin& g, Instant t) const {
    return static_cast<double>(t.us_since_epoch - g.origin.us_since_epoch) / 6e7;
  }

  PatientRecord record_;
  std::unique_ptr<GlucoseTwin> glucose_;
  std::map<std::string, Latest> latest_;
  std::vector<std::string> drugs_;  // drugs given or ordered (lower case), for the pgx check
  const Alert* CheckDrug(const std::string& drug, Instant t, std::uint64_t (*next_alert_id)());
  void ApplyEventToModels(const io::Event& e);
  // Recent values of codes with rate rules (last hour): the window's minimum and maximum kept in
  // monotonic deques (O(1) per value however fast a device sends), and for CGM the raw values
  // (at most 256) for the 15–20-min slope.
  struct RateWindow {
    std::deque<std::pair<Instant, double>> mins, maxs, raw;
    void Push(Instant t, double v, std::int64_t window_us, bool keep_raw);
  };
  std::map<std::string, RateWindow> recent_;
  std::vector<Alert> alerts_;
  std::optional<monitor::News2Risk> last_risk_;
  std::optional<int> last_total_;
};

}  // namespace medtwin::twin
