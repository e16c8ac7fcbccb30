#include "medtwin/twin/live_twin.h"

#include <algorithm>

#include "medtwin/core/format.h"

namespace medtwin::twin {

void TwinContext::Raise(std::string_view kind, Severity severity, Instant t, std::string message) {
  if (const Alert* a = alerts_.Raise(kind, severity, t, std::move(message), next_alert_id_)) {
    update.alerts.push_back(*a);
  }
}

void TwinContext::Resolve(std::string_view kind, Instant t) {
  if (const Alert* a = alerts_.Resolve(kind, t)) update.alerts.push_back(*a);
}

LiveTwin::LiveTwin(record::PatientRecord record) : record_(std::move(record)), alerts_(record_.id) {
  AddKinds();
}
LiveTwin::LiveTwin(LiveTwin&&) noexcept = default;
LiveTwin& LiveTwin::operator=(LiveTwin&&) noexcept = default;
LiveTwin::~LiveTwin() = default;

void LiveTwin::AddKinds() {
  const auto kinds = TwinKinds();
  if (kinds_.size() < kinds.size()) kinds_.resize(kinds.size());
  for (std::size_t k = 0; k < kinds.size(); ++k) {
    if (!kinds_[k] && kinds[k].applies(record_)) kinds_[k] = kinds[k].make(record_);
  }
}

std::vector<Alert> LiveTwin::SetRecord(record::PatientRecord record, AlertIdSource next_alert_id) {
  record::PatientRecord before = std::exchange(record_, std::move(record));
  alerts_.set_patient(record_.id);
  AddKinds();
  TwinUpdate update;
  TwinContext ctx(Facts(), alerts_, next_alert_id, true, update);
  for (auto& kind : kinds_) {
    if (kind) kind->OnRecordChanged(before, ctx);
  }
  return std::move(update.alerts);
}

TwinUpdate LiveTwin::Apply(const record::Observation& o, AlertIdSource next_alert_id, bool live) {
  TwinUpdate update;
  auto [at, first_of_code] = latest_.try_emplace(o.code);
  LatestValue& latest = at->second;
  // Late observations go to history (the store) but do not replace the present state. At the
  // instant this code has from the same source, the first reading stands: a resent reading is
  // not taken twice (the server applies observations while the store commits them, before it
  // knows which are duplicates), and a conflicting one is refused as the store (keyed by
  // patient, code, time and source) refuses it. Another source at that instant is taken.
  if (!first_of_code &&
      (o.time < latest.time || (o.time == latest.time && o.source == latest.source))) {
    return update;
  }
  latest = {o.value, o.text, o.time, o.source};
  TwinContext ctx(Facts(), alerts_, next_alert_id, live, update);
  for (auto& kind : kinds_) {
    if (kind) kind->Observe(o, ctx);
  }
  // Left unacknowledged too long (the clinician's setting; off by default): escalated.
  for (auto& a : EscalateOverdue(o.time)) update.alerts.push_back(std::move(a));
  return update;
}

std::vector<Alert> LiveTwin::EscalateOverdue(Instant now) {
  std::vector<Alert> changed;
  const int after_min = record_.alarm_limits.escalate_unacknowledged_min;
  if (after_min <= 0) return changed;
  for (const Alert* a : alerts_.EscalateUnacknowledged(now, after_min)) changed.push_back(*a);
  return changed;
}

std::vector<Alert> LiveTwin::ApplyEvent(const record::Event& e, AlertIdSource next_alert_id) {
  if (e.type == "ack") {  // a stored acknowledgement, replayed
    alerts_.ReplayAcknowledgement(e.alert_kind, e.alert_raised_at, e.by);
    return {};
  }
  if ((e.type == "dose" || e.type == "order") && !e.drug.empty()) {
    std::string drug = ToLowerAscii(e.drug);
    if (std::find(drugs_.begin(), drugs_.end(), drug) == drugs_.end() && drugs_.size() < 64) {
      drugs_.push_back(std::move(drug));
    }
  }
  TwinUpdate update;
  TwinContext ctx(Facts(), alerts_, next_alert_id, true, update);
  for (auto& kind : kinds_) {
    if (kind) kind->OnEvent(e, ctx);
  }
  if (e.type == "order") {
    orders_.push_back(e);
    if (orders_.size() > 10) orders_.erase(orders_.begin());
  }
  return std::move(update.alerts);
}

const Alert* LiveTwin::Acknowledge(std::uint64_t id, const std::string& by) {
  return alerts_.Acknowledge(id, by);
}

monitor::News2Score LiveTwin::News2() const {
  return ScoreLatestVitals(latest_, record_.spo2_scale);
}

std::optional<record::Recommendation> LiveTwin::Recommendation() const {
  for (const auto& kind : kinds_) {
    if (!kind) continue;
    if (auto advice = kind->Advice()) return advice;
  }
  return std::nullopt;
}

std::optional<TwinJob> LiveTwin::TakeOffShardJob(bool announce) {
  for (std::size_t k = 0; k < kinds_.size(); ++k) {
    if (!kinds_[k]) continue;
    if (auto job = kinds_[k]->TakeOffShardJob(Facts(), announce)) {
      return TwinJob{k, std::move(*job)};
    }
  }
  return std::nullopt;
}

std::optional<record::Recommendation> LiveTwin::InstallOffShard(
    std::size_t kind, const OffShardJob::Install& install) {
  if (kind >= kinds_.size() || !kinds_[kind]) return std::nullopt;
  return install(*kinds_[kind]);
}

bool LiveTwin::OffShardPending() const {
  return std::any_of(kinds_.begin(), kinds_.end(),
                     [&](const auto& kind) { return kind && kind->OffShardPending(Facts()); });
}

void LiveTwin::RunOffShardNow() {
  while (auto job = TakeOffShardJob(false)) InstallOffShard(job->kind, job->job.run());
}

Result<PreparedWhatIf> LiveTwin::PrepareWhatIf(const WhatIfPlan& plan, Instant now) {
  const std::string& model = plan.model;
  for (auto& kind : kinds_) {
    if (!kind || !kind->AnswersWhatIf(Facts(), model)) continue;
    const bool pending = kind->OffShardPending(Facts());
    auto task = kind->PrepareWhatIf(Facts(), plan, now);
    if (!task.ok()) {
      // Not ready, but work is under way that will make it so: come back shortly.
      if (pending) {
        return Error{ErrorCode::kUnavailable, "model",
                     "the " + model + " twin is fitting its first levels; try again shortly"};
      }
      return task.error();
    }
    return PreparedWhatIf{std::move(*task), pending};
  }
  // No kind of this patient answers it.
  if (KindAnsweringWhatIf(model) != nullptr) {
    return InvalidArgument("model", "this patient has no " + model + " twin");
  }
  return InvalidArgument("model",
                         "'" + model.substr(0, 24) + "' is not one of " + WhatIfModelList());
}

Result<std::unique_ptr<WhatIfOutcome>> LiveTwin::WhatIf(const WhatIfPlan& plan, Instant now) {
  MEDTWIN_TRY(PreparedWhatIf prepared, PrepareWhatIf(plan, now));
  MEDTWIN_TRY(std::unique_ptr<WhatIfOutcome> out, prepared.task());
  out->refitting = prepared.refitting;
  return out;
}

TwinView LiveTwin::View(bool forecast_bands) {
  TwinView view;
  view.record = record_;
  view.latest = latest_;
  view.news2 = {News2(), record_.spo2_scale};
  for (const auto& a : alerts_.all()) {
    if (a.status != AlertStatus::kResolved) view.open_alerts.push_back(a);
  }
  const auto entries = TwinKinds();
  for (std::size_t k = 0; k < kinds_.size(); ++k) {
    if (!kinds_[k]) continue;
    if (auto part = kinds_[k]->View(Facts(), forecast_bands)) {
      view.parts.push_back({entries[k].name, std::move(part)});
    }
    if (auto advice = kinds_[k]->Advice()) view.recommendations.push_back(std::move(*advice));
  }
  view.orders = orders_;
  return view;
}

std::size_t LiveTwin::ApproxBytes() const {
  std::size_t bytes = sizeof(*this) + record_.id.size() + record_.name.size();
  bytes += latest_.size() * (sizeof(LatestValue) + 64);
  bytes += alerts_.all().size() * (sizeof(Alert) + 64);
  for (const auto& kind : kinds_) {
    if (kind) bytes += kind->ApproxBytes();
  }
  return bytes;
}

}  // namespace medtwin::twin
