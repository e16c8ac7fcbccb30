#include "medtwin/core/units.h"

#include <gtest/gtest.h>

namespace medtwin {
namespace {

double Convert(double v, const char* from, const char* to, double molar_mass = 0) {
  auto r = ConvertUnit(v, from, to, molar_mass);
  EXPECT_TRUE(r.ok()) << from << " -> " << to << ": " << (r.ok() ? "" : r.error().ToString());
  return r.ok() ? *r : -1;
}

TEST(Units, MassAndVolumeScale) {
  EXPECT_DOUBLE_EQ(Convert(1, "g", "mg"), 1000);
  EXPECT_DOUBLE_EQ(Convert(250, "ug", "mg"), 0.25);
  EXPECT_DOUBLE_EQ(Convert(3, "ng", "ug"), 0.003);
  EXPECT_DOUBLE_EQ(Convert(70, "kg", "g"), 70000);
  EXPECT_DOUBLE_EQ(Convert(1, "L", "mL"), 1000);
  EXPECT_DOUBLE_EQ(Convert(1, "L", "dL"), 10);
}

TEST(Units, ConcentrationsThatAreNumericallyEqual) {
  // mg/L, ug/mL and ng/mL·1000 are the same quantity: textbook identities.
  EXPECT_NEAR(Convert(12.5, "mg/L", "ug/mL"), 12.5, 1e-12);
  EXPECT_NEAR(Convert(12.5, "mg/L", "ng/mL"), 12500, 1e-9);
  EXPECT_NEAR(Convert(100, "mg/dL", "mg/L"), 1000, 1e-9);
}

TEST(Units, TimeAndRates) {
  EXPECT_DOUBLE_EQ(Convert(2, "h", "min"), 120);
  EXPECT_DOUBLE_EQ(Convert(90, "s", "min"), 1.5);
  EXPECT_NEAR(Convert(60, "/min", "/h"), 3600, 1e-9);
  EXPECT_NEAR(Convert(1, "U/h", "U/min"), 1.0 / 60, 1e-15);
  EXPECT_NEAR(Convert(3, "L/min", "mL/min"), 3000, 1e-9);
}

TEST(Units, GlucoseMolarConversionMatchesClinicalFactor) {
  // 1 mmol/L glucose = 18.0156 mg/dL (M = 180.156 g/mol); clinical tables quote 18.
  EXPECT_NEAR(Convert(5.5, "mmol/L", "mg/dL", kGlucoseMolarMass_g_per_mol), 99.0858, 1e-4);
  EXPECT_NEAR(Convert(180.156, "mg/dL", "mmol/L", kGlucoseMolarMass_g_per_mol), 10.0, 1e-12);
  // Without a molar mass the dimensions differ and the error says so.
  auto r = ConvertUnit(5.5, "mmol/L", "mg/dL");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kUnitMismatch);
}

TEST(Units, TemperatureWithOffsets) {
  EXPECT_NEAR(Convert(98.6, "[degF]", "Cel"), 37.0, 1e-9);
  EXPECT_NEAR(Convert(-40, "Cel", "[degF]"), -40.0, 1e-9);
  EXPECT_NEAR(Convert(0, "Cel", "K"), 273.15, 1e-12);
}

TEST(Units, PressureAndDimensionless) {
  EXPECT_NEAR(Convert(760, "mm[Hg]", "kPa"), 101.325, 1e-3);
  EXPECT_DOUBLE_EQ(Convert(97, "%", "1"), 0.97);
  EXPECT_NEAR(Convert(10, "pmol/L", "nmol/L"), 0.01, 1e-15);
}

TEST(Units, RejectsUnknownAndMismatched) {
  auto unknown = ParseUnit("mg/furlong");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("furlong"), std::string::npos);
  auto mismatch = ConvertUnit(1, "mg", "mL");
  ASSERT_FALSE(mismatch.ok());
  EXPECT_NE(mismatch.error().message.find("different dimensions"), std::string::npos);
  EXPECT_FALSE(ParseUnit("").ok());
  EXPECT_FALSE(ParseUnit("mg/").ok());
  EXPECT_FALSE(ParseUnit("Cel/h").ok());
}

}  // namespace
}  // namespace medtwin
