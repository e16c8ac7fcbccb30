// NEWS2 against the Royal College of Physicians chart (../shared/models/news2.md): every band
// boundary of every parameter, scale 2, the risk bands with the single-parameter-3 rule, and
// incomplete sets.
#include "medtwin/monitor/news2.h"

#include <gtest/gtest.h>

namespace medtwin::monitor {
namespace {

// A complete, all-normal set; tests change one parameter at a time.
VitalSigns Normal() {
  VitalSigns v;
  v.respiration_per_min = 16;
  v.spo2_percent = 97;
  v.on_oxygen = false;
  v.systolic_mmhg = 120;
  v.pulse_per_min = 70;
  v.consciousness = Consciousness::kAlert;
  v.temperature_c = 37;
  return v;
}

struct Case {
  double value;
  int score;
};

TEST(News2, EveryBandBoundaryOfTheChart) {
  for (Case c : {Case{8, 3},
                 {9, 1},
                 {11, 1},
                 {12, 0},
                 {20, 0},
                 {21, 2},
                 {24, 2},
                 {25, 3},
                 {0, 3},
                 {11.5, 0},
                 {20.5, 2}}) {
    VitalSigns v = Normal();
    v.respiration_per_min = c.value;
    EXPECT_EQ(ScoreNews2(v).parts[0], c.score) << "RR " << c.value;
  }
  for (Case c : {Case{91, 3}, {92, 2}, {93, 2}, {94, 1}, {95, 1}, {96, 0}, {100, 0}, {70, 3}}) {
    VitalSigns v = Normal();
    v.spo2_percent = c.value;
    EXPECT_EQ(ScoreNews2(v).parts[1], c.score) << "SpO2 scale 1 " << c.value;
  }
  for (Case c :
       {Case{90, 3}, {91, 2}, {100, 2}, {101, 1}, {110, 1}, {111, 0}, {219, 0}, {220, 3}}) {
    VitalSigns v = Normal();
    v.systolic_mmhg = c.value;
    EXPECT_EQ(ScoreNews2(v).parts[3], c.score) << "SBP " << c.value;
  }
  for (Case c : {Case{40, 3},
                 {41, 1},
                 {50, 1},
                 {51, 0},
                 {90, 0},
                 {91, 1},
                 {110, 1},
                 {111, 2},
                 {130, 2},
                 {131, 3}}) {
    VitalSigns v = Normal();
    v.pulse_per_min = c.value;
    EXPECT_EQ(ScoreNews2(v).parts[4], c.score) << "pulse " << c.value;
  }
  for (Case c : {Case{35.0, 3},
                 {35.1, 1},
                 {36.0, 1},
                 {36.1, 0},
                 {38.0, 0},
                 {38.1, 1},
                 {39.0, 1},
                 {39.1, 2},
                 {41, 2},
                 {38.05, 1},
                 {35.04, 3},
                 {36.04, 1},
                 {36.05, 0}}) {
    VitalSigns v = Normal();
    v.temperature_c = c.value;
    EXPECT_EQ(ScoreNews2(v).parts[6], c.score) << "temperature " << c.value;
  }
  VitalSigns v = Normal();
  v.on_oxygen = true;
  EXPECT_EQ(ScoreNews2(v).parts[2], 2);
  for (auto level : {Consciousness::kNewConfusion, Consciousness::kVoice, Consciousness::kPain,
                     Consciousness::kUnresponsive}) {
    v = Normal();
    v.consciousness = level;
    EXPECT_EQ(ScoreNews2(v).parts[5], 3);
  }
  EXPECT_EQ(ScoreNews2(Normal()).parts[5], 0);
}

TEST(News2, Spo2Scale2DependsOnAirOrOxygenAboveNinetyTwo) {
  struct Row {
    double spo2;
    bool oxygen;
    int score;
  };
  for (Row r : {Row{83, false, 3},
                {84, false, 2},
                {85, true, 2},
                {86, false, 1},
                {87, true, 1},
                {88, false, 0},
                {92, true, 0},
                {93, false, 0},
                {99, false, 0},
                {93, true, 1},
                {94, true, 1},
                {95, true, 2},
                {96, true, 2},
                {97, true, 3},
                {100, true, 3}}) {
    VitalSigns v = Normal();
    v.spo2_scale2 = true;
    v.spo2_percent = r.spo2;
    v.on_oxygen = r.oxygen;
    EXPECT_EQ(ScoreNews2(v).parts[1], r.score) << r.spo2 << (r.oxygen ? " on O2" : " on air");
  }
  // Scale 2, 95 % and unknown air/oxygen: that part cannot be scored.
  VitalSigns v = Normal();
  v.spo2_scale2 = true;
  v.spo2_percent = 95;
  v.on_oxygen.reset();
  EXPECT_FALSE(ScoreNews2(v).parts[1].has_value());
}

TEST(News2, TotalsAndRiskBands) {
  const News2Score normal = ScoreNews2(Normal());
  ASSERT_TRUE(normal.complete);
  EXPECT_EQ(normal.total, 0);
  EXPECT_EQ(normal.risk, News2Risk::kLow);
  // One parameter scoring 3 with a total of 3: low-medium (single-parameter rule).
  VitalSigns v = Normal();
  v.consciousness = Consciousness::kVoice;
  EXPECT_EQ(ScoreNews2(v).total, 3);
  EXPECT_EQ(ScoreNews2(v).risk, News2Risk::kLowMedium);
  // 4 without any 3: low.
  v = Normal();
  v.pulse_per_min = 115;       // 2
  v.respiration_per_min = 22;  // 2
  EXPECT_EQ(ScoreNews2(v).total, 4);
  EXPECT_EQ(ScoreNews2(v).risk, News2Risk::kLow);
  // 5 and 6: medium.
  v.temperature_c = 38.5;  // 1
  EXPECT_EQ(ScoreNews2(v).total, 5);
  EXPECT_EQ(ScoreNews2(v).risk, News2Risk::kMedium);
  v.systolic_mmhg = 105;  // 1
  EXPECT_EQ(ScoreNews2(v).total, 6);
  EXPECT_EQ(ScoreNews2(v).risk, News2Risk::kMedium);
  // 7+: high. A sepsis-like set: RR 26 (3), SpO2 93 (2), on O2 (2), SBP 95 (2), pulse 125 (2),
  // new confusion (3), 39.4 °C (2) = 16.
  VitalSigns sepsis{26, 93, true, 95, 125, Consciousness::kNewConfusion, 39.4, false};
  const News2Score s = ScoreNews2(sepsis);
  EXPECT_EQ(s.total, 16);
  EXPECT_EQ(s.risk, News2Risk::kHigh);
  EXPECT_EQ(News2RiskName(*s.risk), "high");
}

TEST(News2, IncompleteSetsHaveNoTotalButKeepTheirParts) {
  VitalSigns v = Normal();
  v.temperature_c.reset();
  v.pulse_per_min = 135;
  const News2Score s = ScoreNews2(v);
  EXPECT_FALSE(s.complete);
  EXPECT_FALSE(s.total.has_value());
  EXPECT_FALSE(s.risk.has_value());
  EXPECT_EQ(s.parts[4], 3);
  EXPECT_FALSE(s.parts[6].has_value());
  EXPECT_FALSE(ScoreNews2(VitalSigns{}).complete);
}

TEST(News2, AcvpuParsing) {
  EXPECT_EQ(ParseAcvpu("A"), Consciousness::kAlert);
  EXPECT_EQ(ParseAcvpu("C"), Consciousness::kNewConfusion);
  EXPECT_EQ(ParseAcvpu("U"), Consciousness::kUnresponsive);
  EXPECT_FALSE(ParseAcvpu("a").has_value());
  EXPECT_FALSE(ParseAcvpu("alert").has_value());
}

}  // namespace
}  // namespace medtwin::monitor
