// monitor/alerts.h — a patient's alerts and their one lifecycle: an alert of a kind is raised
// once and then updated
// (a worse condition escalates it, back to open even if acknowledged; a better but unresolved
// one de-escalates it; the same condition again is deduplicated), acknowledged by a clinician,
// escalated when left unacknowledged for a set time (and kept at least there until someone
// acknowledges it), and resolved when its condition clears.
// One open alert per kind; the list keeps at most 50 alerts, dropping the oldest resolved. Used
// by the live twin (the server) and by the closed-loop runs and trials, which score the alerts
// the predictive hypoglycemia rule (hypoglycemia.h) raised through it.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/time.h"
#include "medtwin/record/alert.h"

namespace medtwin::monitor {

using record::Alert;
using record::AlertStatus;
using record::AlertStatusName;
using record::ParseAlertStatus;
using record::ParseSeverity;
using record::Severity;
using record::SeverityName;

// Hands out alert ids, unique across every patient (the engine's counter).
using AlertIdSource = std::uint64_t (*)();

// Where a rule's decisions go: raise or update the open alert of a kind, or resolve it. The
// live twin's context (alerts noted for the live stream) and the closed-loop runs' book (for
// scoring) both carry them into an AlertBook, so a rule reaches every caller the same way.
class AlertSink {
 public:
  virtual ~AlertSink() = default;
  virtual void Raise(std::string_view kind, Severity severity, Instant t, std::string message) = 0;
  virtual void Resolve(std::string_view kind, Instant t) = 0;
};

class AlertBook {
 public:
  explicit AlertBook(std::string patient) : patient_(std::move(patient)) {}

  // Raises or updates the open alert of `kind`; the alert if anything changed, else null (also
  // when `next_id` is null and there is no open alert of the kind to update).
  const Alert* Raise(std::string_view kind, Severity severity, Instant t, std::string message,
                     AlertIdSource next_id);
  // Resolves the open alert of `kind`; the alert if there was one.
  const Alert* Resolve(std::string_view kind, Instant t);
  // A clinician acknowledges alert `id` (an open one; others are returned unchanged); null if
  // this book has no such alert.
  const Alert* Acknowledge(std::uint64_t id, const std::string& by);
  // A stored acknowledgement replayed at start-up, naming the alert by kind and raise time.
  void ReplayAcknowledgement(std::string_view kind, Instant raised_at, const std::string& by);
  // Alerts open (not acknowledged) for `after_min` since their last change go up one severity
  // (at most critical) and count an escalation; the alerts changed. `after_min` <= 0: none.
  std::vector<const Alert*> EscalateUnacknowledged(Instant now, int after_min);

  [[nodiscard]] const std::vector<Alert>& all() const { return alerts_; }
  [[nodiscard]] const Alert* Find(std::uint64_t id) const;
  [[nodiscard]] const std::string& patient() const { return patient_; }
  void set_patient(std::string patient) { patient_ = std::move(patient); }

 private:
  std::string patient_;
  std::vector<Alert> alerts_;
  // Alerts escalated for being left unacknowledged: the severity they keep until acknowledged
  // or resolved.
  std::map<std::uint64_t, Severity> overdue_floor_;
};

}  // namespace medtwin::monitor
