#include "medtwin/twin/kinds/ward.h"

#include <algorithm>
#include <optional>

namespace medtwin::twin {
namespace {

namespace loinc = record::loinc;

constexpr std::int64_t kNews2WindowUs = 4 * 60 * 60'000'000LL;

class WardTwin final : public TwinKind {
 public:
  std::string_view name() const override { return "ward"; }

  void Observe(const record::Observation& o, TwinContext& ctx) override {
    const record::PatientRecord& r = ctx.record;
    if (base_scale_ != r.spo2_scale || base_unit_ != r.unit_type) {
      base_ = monitor::DefaultAlarmLimits(r.spo2_scale, r.unit_type);
      base_scale_ = r.spo2_scale;
      base_unit_ = r.unit_type;
    }
    for (auto& f : rules_.Observe(o.code, o.time, o.value, base_, r.alarm_limits)) {
      if (f.raise) {
        ctx.Raise(f.kind, f.severity, o.time, std::move(f.message));
      } else {
        ctx.Resolve(f.kind, o.time);
      }
    }
    // NEWS2 on every observation (a vital sign changes it; the alert follows the risk band).
    const monitor::News2Score score = ScoreLatestVitals(ctx.latest, r.spo2_scale);
    if (score.total != last_total_ || score.risk != last_risk_) ctx.update.news2_changed = true;
    last_total_ = score.total;
    last_risk_ = score.risk;
    if (score.risk && *score.risk != monitor::News2Risk::kLow) {
      const Severity sev = *score.risk == monitor::News2Risk::kHigh     ? Severity::kHigh
                           : *score.risk == monitor::News2Risk::kMedium ? Severity::kMedium
                                                                        : Severity::kLowMedium;
      ctx.Raise("news2", sev, o.time,
                "NEWS2 " + std::to_string(*score.total) + " (" +
                    std::string(monitor::News2RiskName(*score.risk)) + " risk)");
    } else if (score.risk) {
      ctx.Resolve("news2", o.time);
    }
  }

  std::size_t ApproxBytes() const override { return sizeof(*this) + rules_.ApproxBytes(); }

 private:
  monitor::RuleMonitor rules_;
  record::AlarmLimits base_;
  int base_scale_ = 1;
  std::string base_unit_;
  std::optional<monitor::News2Risk> last_risk_;
  std::optional<int> last_total_;
};

}  // namespace

monitor::News2Score ScoreLatestVitals(const LatestValues& latest, int spo2_scale) {
  // The newest vital sign sets the reference time; older than 4 h before it does not count.
  Instant newest{};
  for (auto code : kNews2VitalCodes) {
    auto it = latest.find(std::string(code));
    if (it != latest.end()) newest = std::max(newest, it->second.time);
  }
  auto fresh = [&](std::string_view code) -> const LatestValue* {
    auto it = latest.find(std::string(code));
    if (it == latest.end()) return nullptr;
    if (it->second.time.us_since_epoch < newest.us_since_epoch - kNews2WindowUs) return nullptr;
    return &it->second;
  };
  monitor::VitalSigns v;
  v.spo2_scale2 = spo2_scale == 2;
  if (const auto* l = fresh(loinc::kRespiratoryRate)) v.respiration_per_min = l->value;
  if (const auto* l = fresh(loinc::kSpo2)) v.spo2_percent = l->value;
  if (const auto* l = fresh(loinc::kInhaledO2Flow)) v.on_oxygen = l->value > 0;
  if (const auto* l = fresh(loinc::kSystolicBp)) v.systolic_mmhg = l->value;
  if (const auto* l = fresh(loinc::kHeartRate)) v.pulse_per_min = l->value;
  if (const auto* l = fresh(loinc::kConsciousness)) v.consciousness = monitor::ParseAcvpu(l->text);
  if (const auto* l = fresh(loinc::kBodyTemperature)) v.temperature_c = l->value;
  return monitor::ScoreNews2(v);
}

std::vector<News2Point> News2History(std::vector<record::Observation> observations,
                                     int spo2_scale) {
  std::stable_sort(
      observations.begin(), observations.end(),
      [](const record::Observation& a, const record::Observation& b) { return a.time < b.time; });
  LatestValues latest;
  std::vector<News2Point> out;
  for (std::size_t i = 0; i < observations.size(); ++i) {
    const record::Observation& o = observations[i];
    if (std::find(kNews2VitalCodes.begin(), kNews2VitalCodes.end(), o.code) ==
        kNews2VitalCodes.end()) {
      continue;
    }
    latest[o.code] = {o.value, o.text, o.time, o.source};
    // Score once per instant, after every observation made at it.
    const bool last_at_instant = i + 1 == observations.size() || observations[i + 1].time != o.time;
    if (last_at_instant) out.push_back({o.time, ScoreLatestVitals(latest, spo2_scale)});
  }
  return out;
}

std::unique_ptr<TwinKind> MakeWardTwin(const record::PatientRecord&) {
  return std::make_unique<WardTwin>();
}

}  // namespace medtwin::twin
