// core/units.h — a UCUM subset: parse a unit string, check dimensions, convert values.
// Covers what medtwin's boundaries carry (mass, volume, time, amount of substance, insulin
// units, temperature, pressure, rates and concentrations). Internally each quantity has one
// documented unit; these functions convert at the boundary and name the unit when they cannot.
#pragma once

#include <array>
#include <string>
#include <string_view>

#include "medtwin/core/result.h"

namespace medtwin {

// Exponents of the base quantities, in this order.
enum class BaseQuantity { kMass, kLength, kTime, kAmount, kArbitrary, kTemperature, kCount };
using Dimension = std::array<int, static_cast<int>(BaseQuantity::kCount)>;

// A parsed unit: value_in_base = value * scale + offset (offset only for Cel and [degF]).
// Base units: g, m, s, mol, U (insulin/enzyme units), K.
struct Unit {
  std::string code;  // the UCUM text it was parsed from
  Dimension dim{};
  double scale = 1.0;
  double offset = 0.0;
};

// Molar mass of glucose, for mmol/L <-> mg/dL (C6H12O6, 180.156 g/mol).
inline constexpr double kGlucoseMolarMass_g_per_mol = 180.156;
// Molar mass of creatinine, for µmol/L <-> mg/dL (C4H7N3O, 113.12 g/mol; 1 mg/dL = 88.4 µmol/L).
inline constexpr double kCreatinineMolarMass_g_per_mol = 113.12;

// Parses a UCUM code such as "mg", "ug/mL", "mg/dL", "mmol/L", "/min", "mm[Hg]", "[degF]",
// "L/min", "mg.h/L", "kg/m2". Fails with kInvalidArgument naming the unknown symbol.
[[nodiscard]] Result<Unit> ParseUnit(std::string_view code);

// True when values in `a` can be converted to `b` (same dimension).
[[nodiscard]] bool SameDimension(const Unit& a, const Unit& b);

// Converts `value` from one unit to another. `molar_mass_g_per_mol` > 0 additionally allows
// mass <-> amount-of-substance conversions (e.g. glucose mmol/L -> mg/dL).
[[nodiscard]] Result<double> ConvertUnit(double value, std::string_view from, std::string_view to,
                                         double molar_mass_g_per_mol = 0.0);
[[nodiscard]] Result<double> ConvertUnit(double value, const Unit& from, const Unit& to,
                                         double molar_mass_g_per_mol = 0.0);

}  // namespace medtwin
