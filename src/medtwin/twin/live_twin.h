// twin/live_twin.h — one patient's live twin in the server: the latest value of every
// observed code, NEWS2 from the latest vital-sign set, threshold and rate-of-change rules, and
// the patient's alerts with their lifecycle (raised, updated/escalated, acknowledged,
// resolved; one open alert per kind, so a repeated condition updates instead of repeating).
// Owned by exactly one shard thread: no locks inside.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "medtwin/io/observation.h"
#include "medtwin/monitor/news2.h"
#include "medtwin/twin/patient.h"

namespace medtwin::twin {

enum class Severity { kLow = 1, kLowMedium, kMedium, kHigh, kCritical };
std::string_view SeverityName(Severity s);

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

// What one observation changed, for the live stream.
struct TwinUpdate {
  std::vector<Alert> alerts;  // raised, escalated or resolved by it
  bool news2_changed = false;
};

class LiveTwin {
 public:
  explicit LiveTwin(PatientRecord record) : record_(std::move(record)) {}
  void SetRecord(PatientRecord record) { record_ = std::move(record); }
  [[nodiscard]] const PatientRecord& record() const { return record_; }

  // `next_alert_id` hands out globally unique ids.
  TwinUpdate Apply(const io::Observation& o, std::uint64_t (*next_alert_id)());

  [[nodiscard]] monitor::News2Score News2() const;
  [[nodiscard]] nlohmann::json ToJson() const;
  [[nodiscard]] std::vector<Alert>& alerts() { return alerts_; }
  [[nodiscard]] const std::vector<Alert>& alerts() const { return alerts_; }
  [[nodiscard]] std::size_t ApproxBytes() const;

 private:
  struct Latest {
    double value = 0;
    std::string text;
    Instant time;
  };
  // Raises or updates (escalates) the open alert of `kind`; returns it if anything changed.
  const Alert* Raise(const std::string& kind, Severity severity, Instant t, std::string message,
                     std::uint64_t (*next_alert_id)());
  const Alert* Resolve(const std::string& kind, Instant t);

  PatientRecord record_;
  std::map<std::string, Latest> latest_;
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
