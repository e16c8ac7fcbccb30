// twin/kinds/ward.h — the ward-monitoring twin, present for every patient: NEWS2 (RCP 2017) from
// the newest vital-sign set, and the bedside threshold and rate rules of monitor::Rules() with
// the patient's alarm limits. Also NEWS2 over a stored history, for the chart.
#pragma once

#include <array>
#include <memory>
#include <string_view>
#include <vector>

#include "medtwin/monitor/news2.h"
#include "medtwin/twin/twin_kind.h"

namespace medtwin::twin {

// The observation codes NEWS2 reads (LOINC).
inline constexpr std::array<std::string_view, 7> kNews2VitalCodes = {
    record::loinc::kRespiratoryRate, record::loinc::kSpo2,      record::loinc::kInhaledO2Flow,
    record::loinc::kSystolicBp,      record::loinc::kHeartRate, record::loinc::kConsciousness,
    record::loinc::kBodyTemperature};

// NEWS2 from the newest value of each vital sign, counting only values at most 4 h older than
// the newest vital sign (ward observations are at most 4-hourly at low scores; older values
// describe another patient state).
[[nodiscard]] monitor::News2Score ScoreLatestVitals(const LatestValues& latest, int spo2_scale);

// NEWS2 over time, for a chart: the score after each instant at which a vital sign was
// observed, replaying `observations` (any codes, any order) through ScoreLatestVitals.
struct News2Point {
  Instant time;
  monitor::News2Score score;
};
[[nodiscard]] std::vector<News2Point> News2History(std::vector<record::Observation> observations,
                                                   int spo2_scale);

[[nodiscard]] std::unique_ptr<TwinKind> MakeWardTwin(const record::PatientRecord& record);

}  // namespace medtwin::twin
