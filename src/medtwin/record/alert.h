// record/alert.h — an alert as the twin raises it and the API shows it: kind, severity, status
// (open, acknowledged, resolved), when raised and last changed, message, escalations, who
// acknowledged it. monitor::AlertBook holds a patient's alerts and their lifecycle.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "medtwin/core/time.h"

namespace medtwin::record {

enum class Severity { kLow = 1, kLowMedium, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);  // "low", "low-medium", "medium", "high", "critical"
std::optional<Severity> ParseSeverity(std::string_view name);

enum class AlertStatus { kOpen, kAcknowledged, kResolved };
std::string_view AlertStatusName(AlertStatus s);  // "open", "acknowledged", "resolved"
std::optional<AlertStatus> ParseAlertStatus(std::string_view name);

struct Alert {
  std::uint64_t id = 0;
  std::string patient;
  std::string kind;  // "news2", "spo2-low", "hypoglycemia", "heart-rate-rising", …
  Severity severity = Severity::kLow;
  AlertStatus status = AlertStatus::kOpen;
  Instant raised_at, updated_at;
  std::string message;
  int escalations = 0;
  std::string acknowledged_by;
};

}  // namespace medtwin::record
