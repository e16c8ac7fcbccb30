#include "medtwin/monitor/news2.h"

#include <cmath>

namespace medtwin::monitor {
namespace {

// Score of the first band whose upper bound v does not exceed; the last score otherwise.
template <std::size_t N>
int ByUpperBounds(double v, const std::array<double, N>& upper, const std::array<int, N + 1>& s) {
  for (std::size_t i = 0; i < N; ++i) {
    if (v <= upper[i]) return s[i];
  }
  return s[N];
}

int Respiration(double v) { return ByUpperBounds<4>(v, {8, 11, 20, 24}, {3, 1, 0, 2, 3}); }
int Systolic(double v) { return ByUpperBounds<4>(v, {90, 100, 110, 219}, {3, 2, 1, 0, 3}); }
int Pulse(double v) { return ByUpperBounds<5>(v, {40, 50, 90, 110, 130}, {3, 1, 0, 1, 2, 3}); }
int Temperature(double celsius) {
  // One decimal, half up; the epsilon keeps 38.05 (stored as 38.04999…) at 38.1.
  const double t = std::floor(celsius * 10 + 0.5 + 1e-9) / 10;
  return ByUpperBounds<4>(t, {35.0, 36.0, 38.0, 39.0}, {3, 1, 0, 1, 2});
}
int Spo2Scale1(double v) { return ByUpperBounds<3>(v, {91, 93, 95}, {3, 2, 1, 0}); }
int Spo2Scale2(double v, bool on_oxygen) {
  if (v <= 83) return 3;
  if (v <= 85) return 2;
  if (v <= 87) return 1;
  if (v <= 92 || !on_oxygen) return 0;  // 88–92, or ≥ 93 on air
  if (v <= 94) return 1;
  if (v <= 96) return 2;
  return 3;
}

}  // namespace

std::optional<Consciousness> ParseAcvpu(std::string_view text) {
  if (text == "A") return Consciousness::kAlert;
  if (text == "C") return Consciousness::kNewConfusion;
  if (text == "V") return Consciousness::kVoice;
  if (text == "P") return Consciousness::kPain;
  if (text == "U") return Consciousness::kUnresponsive;
  return std::nullopt;
}

std::string_view News2RiskName(News2Risk risk) {
  switch (risk) {
    case News2Risk::kLow:
      return "low";
    case News2Risk::kLowMedium:
      return "low-medium";
    case News2Risk::kMedium:
      return "medium";
    case News2Risk::kHigh:
      return "high";
  }
  return "low";
}

News2Score ScoreNews2(const VitalSigns& v) {
  News2Score s;
  if (v.respiration_per_min) s.parts[0] = Respiration(*v.respiration_per_min);
  // Scale 2 needs to know air or oxygen for values ≥ 93; without it that part stays unknown.
  if (v.spo2_percent) {
    if (!v.spo2_scale2) {
      s.parts[1] = Spo2Scale1(*v.spo2_percent);
    } else if (v.on_oxygen || *v.spo2_percent <= 92) {
      s.parts[1] = Spo2Scale2(*v.spo2_percent, v.on_oxygen.value_or(false));
    }
  }
  if (v.on_oxygen) s.parts[2] = *v.on_oxygen ? 2 : 0;
  if (v.systolic_mmhg) s.parts[3] = Systolic(*v.systolic_mmhg);
  if (v.pulse_per_min) s.parts[4] = Pulse(*v.pulse_per_min);
  if (v.consciousness) s.parts[5] = *v.consciousness == Consciousness::kAlert ? 0 : 3;
  if (v.temperature_c) s.parts[6] = Temperature(*v.temperature_c);

  s.complete = true;
  int total = 0;
  bool any_three = false;
  for (const auto& p : s.parts) {
    if (!p) {
      s.complete = false;
      continue;
    }
    total += *p;
    any_three = any_three || *p == 3;
  }
  if (!s.complete) return s;
  s.total = total;
  if (total >= 7) {
    s.risk = News2Risk::kHigh;
  } else if (total >= 5) {
    s.risk = News2Risk::kMedium;
  } else if (any_three) {
    s.risk = News2Risk::kLowMedium;
  } else {
    s.risk = News2Risk::kLow;
  }
  return s;
}

}  // namespace medtwin::monitor
