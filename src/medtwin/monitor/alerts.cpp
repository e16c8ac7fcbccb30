#include "medtwin/monitor/alerts.h"

#include <algorithm>
#include <array>

namespace medtwin::monitor {
namespace {

// Enough history for the ward's view; older resolved alerts live on in the store's events.
constexpr std::size_t kMaxAlerts = 50;
constexpr std::int64_t kMinuteUs = 60'000'000;

}  // namespace

const Alert* AlertBook::Raise(std::string_view kind, Severity severity, Instant t,
                              std::string message, AlertIdSource next_id) {
  for (auto& a : alerts_) {
    if (a.kind != kind || a.status == AlertStatus::kResolved) continue;
    if (severity > a.severity) {  // escalate: back to open even if acknowledged
      a.severity = severity;
      a.status = AlertStatus::kOpen;
      a.updated_at = t;
      a.message = std::move(message);
      ++a.escalations;
      return &a;
    }
    // An alert escalated for being left unacknowledged stays at least there until someone
    // acknowledges it (or it resolves): the condition alone does not lower it.
    if (auto floor = overdue_floor_.find(a.id); floor != overdue_floor_.end()) {
      severity = std::max(severity, floor->second);
    }
    if (severity < a.severity) {  // better but not resolved: de-escalate
      a.severity = severity;
      a.updated_at = t;
      a.message = std::move(message);
      return &a;
    }
    return nullptr;  // the same condition again: deduplicated
  }
  if (next_id == nullptr) return nullptr;  // no id source: nothing new can be raised
  Alert a;
  a.id = next_id();
  a.patient = patient_;
  a.kind = std::string(kind);
  a.severity = severity;
  a.raised_at = a.updated_at = t;
  a.message = std::move(message);
  alerts_.push_back(std::move(a));
  if (alerts_.size() > kMaxAlerts) {
    auto it = std::find_if(alerts_.begin(), alerts_.end(),
                           [](const Alert& x) { return x.status == AlertStatus::kResolved; });
    if (it != alerts_.end()) alerts_.erase(it);
  }
  return &alerts_.back();
}

const Alert* AlertBook::Resolve(std::string_view kind, Instant t) {
  for (auto& a : alerts_) {
    if (a.kind == kind && a.status != AlertStatus::kResolved) {
      a.status = AlertStatus::kResolved;
      a.updated_at = t;
      overdue_floor_.erase(a.id);
      return &a;
    }
  }
  return nullptr;
}

const Alert* AlertBook::Acknowledge(std::uint64_t id, const std::string& by) {
  for (auto& a : alerts_) {
    if (a.id != id) continue;
    if (a.status == AlertStatus::kOpen) {
      a.status = AlertStatus::kAcknowledged;
      a.acknowledged_by = by;
      overdue_floor_.erase(a.id);
    }
    return &a;
  }
  return nullptr;
}

void AlertBook::ReplayAcknowledgement(std::string_view kind, Instant raised_at,
                                      const std::string& by) {
  for (auto& a : alerts_) {
    if (a.kind == kind && a.raised_at == raised_at && a.status == AlertStatus::kOpen) {
      a.status = AlertStatus::kAcknowledged;
      a.acknowledged_by = by;
    }
  }
}

std::vector<const Alert*> AlertBook::EscalateUnacknowledged(Instant now, int after_min) {
  std::vector<const Alert*> changed;
  if (after_min <= 0) return changed;
  for (auto& a : alerts_) {
    if (a.status != AlertStatus::kOpen) continue;
    if (now.us_since_epoch - a.updated_at.us_since_epoch < after_min * kMinuteUs) continue;
    if (a.severity < Severity::kCritical) {
      a.severity = static_cast<Severity>(static_cast<int>(a.severity) + 1);
    }
    overdue_floor_[a.id] = a.severity;
    ++a.escalations;
    a.updated_at = now;
    changed.push_back(&a);
  }
  return changed;
}

const Alert* AlertBook::Find(std::uint64_t id) const {
  for (const auto& a : alerts_) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

}  // namespace medtwin::monitor
