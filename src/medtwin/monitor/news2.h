// monitor/news2.h — the National Early Warning Score 2 (Royal College of Physicians, 2017),
// exactly as ../shared/models/news2.md: seven parameters scored 0–3, the total only for a
// complete set, the clinical risk band including the single-parameter-3 rule, and SpO2 scale
// 2 for patients flagged for it.
//
// Values between printed bands: temperature is first rounded to one decimal (half up); rates,
// pressures and SpO2 are placed by the upper bounds as written — a value belongs to the first
// band whose upper bound it does not exceed (respiration 11.5 /min is above "9–11", so it scores
// as "12–20").
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace medtwin::monitor {

enum class Consciousness { kAlert, kNewConfusion, kVoice, kPain, kUnresponsive };
// "A", "C", "V", "P", "U" (ACVPU); nullopt otherwise.
std::optional<Consciousness> ParseAcvpu(std::string_view text);

struct VitalSigns {
  std::optional<double> respiration_per_min;
  std::optional<double> spo2_percent;
  std::optional<bool> on_oxygen;  // inhaled oxygen flow > 0
  std::optional<double> systolic_mmhg;
  std::optional<double> pulse_per_min;
  std::optional<Consciousness> consciousness;
  std::optional<double> temperature_c;
  bool spo2_scale2 = false;  // hypercapnic respiratory failure, prescribed target 88–92 %
};

enum class News2Risk { kLow, kLowMedium, kMedium, kHigh };
std::string_view News2RiskName(News2Risk risk);  // "low", "low-medium", "medium", "high"

struct News2Score {
  // In the order of the chart: respiration, SpO2, air/oxygen, systolic, pulse, consciousness,
  // temperature; nullopt where the parameter is missing.
  static constexpr std::array<const char*, 7> kParts = {
      "respiration_rate", "spo2",       "air_or_oxygen", "systolic_bp", "pulse",
      "consciousness",    "temperature"};
  std::array<std::optional<int>, 7> parts;
  bool complete = false;
  std::optional<int> total;       // only when complete
  std::optional<News2Risk> risk;  // only when complete
};

News2Score ScoreNews2(const VitalSigns& v);

}  // namespace medtwin::monitor
