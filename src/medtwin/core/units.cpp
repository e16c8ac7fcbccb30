#include "medtwin/core/units.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstddef>

namespace medtwin {
namespace {

constexpr int Idx(BaseQuantity q) { return static_cast<int>(q); }

struct Atom {
  std::string_view symbol;
  Dimension dim;
  double scale;
  double offset;
  bool metric;  // accepts SI prefixes
};

Dimension Dim(int mass, int length, int time, int amount = 0, int arbitrary = 0, int temp = 0) {
  return Dimension{mass, length, time, amount, arbitrary, temp};
}

// Atoms in base units (g, m, s, mol, U, K). Sources: UCUM 2.1 tables; mm[Hg] = 133.322 Pa.
const Atom* FindAtom(std::string_view s) {
  static const Atom kAtoms[] = {
      {"g", Dim(1, 0, 0), 1.0, 0.0, true},
      {"L", Dim(0, 3, 0), 1e-3, 0.0, true},
      {"l", Dim(0, 3, 0), 1e-3, 0.0, true},
      {"m", Dim(0, 1, 0), 1.0, 0.0, true},
      {"s", Dim(0, 0, 1), 1.0, 0.0, true},
      {"min", Dim(0, 0, 1), 60.0, 0.0, false},
      {"h", Dim(0, 0, 1), 3600.0, 0.0, false},
      {"d", Dim(0, 0, 1), 86400.0, 0.0, false},
      {"wk", Dim(0, 0, 1), 604800.0, 0.0, false},
      {"mol", Dim(0, 0, 0, 1), 1.0, 0.0, true},
      {"U", Dim(0, 0, 0, 0, 1), 1.0, 0.0, true},
      {"[iU]", Dim(0, 0, 0, 0, 1), 1.0, 0.0, true},
      {"K", Dim(0, 0, 0, 0, 0, 1), 1.0, 0.0, false},
      {"Cel", Dim(0, 0, 0, 0, 0, 1), 1.0, 273.15, false},
      {"[degF]", Dim(0, 0, 0, 0, 0, 1), 5.0 / 9.0, 459.67 * 5.0 / 9.0, false},
      // Customary units EHRs send for weight and height (UCUM: exact by definition).
      {"[lb_av]", Dim(1, 0, 0), 453.59237, 0.0, false},
      {"[oz_av]", Dim(1, 0, 0), 28.349523125, 0.0, false},
      {"[in_i]", Dim(0, 1, 0), 0.0254, 0.0, false},
      {"[ft_i]", Dim(0, 1, 0), 0.3048, 0.0, false},
      // 1 mm[Hg] = 133.322 Pa = 133322 g m^-1 s^-2.
      {"mm[Hg]", Dim(1, -1, -2), 133322.387415, 0.0, false},
      {"Pa", Dim(1, -1, -2), 1000.0, 0.0, true},
      {"%", Dim(0, 0, 0), 0.01, 0.0, false},
      {"1", Dim(0, 0, 0), 1.0, 0.0, false},
  };
  for (const Atom& a : kAtoms) {
    if (a.symbol == s) return &a;
  }
  return nullptr;
}

double PrefixScale(char c) {
  switch (c) {
    case 'k':
      return 1e3;
    case 'd':
      return 1e-1;
    case 'c':
      return 1e-2;
    case 'm':
      return 1e-3;
    case 'u':
      return 1e-6;
    case 'n':
      return 1e-9;
    case 'p':
      return 1e-12;
    case 'f':
      return 1e-15;
    default:
      return 0.0;
  }
}

// One term: [prefix]atom[exponent], e.g. "mg", "m2", "dL".
Result<Unit> ParseTerm(std::string_view term, std::string_view whole) {
  if (term.empty()) return InvalidArgument("unit", "empty term in '" + std::string(whole) + "'");
  // Split a trailing integer exponent (not for "1" itself or bracketed atoms' insides).
  int exponent = 1;
  std::size_t end = term.size();
  while (end > 0 && (std::isdigit(static_cast<unsigned char>(term[end - 1])) != 0)) --end;
  if (end > 0 && end < term.size() && term[end - 1] == '-') --end;
  std::string_view symbol = term;
  if (end > 0 && end < term.size()) {
    std::string_view exp_text = term.substr(end);
    int parsed = 0;
    auto [ptr, ec] = std::from_chars(exp_text.data(), exp_text.data() + exp_text.size(), parsed);
    if (ec == std::errc() && ptr == exp_text.data() + exp_text.size()) {
      exponent = parsed;
      symbol = term.substr(0, end);
    }
  }
  const Atom* atom = FindAtom(symbol);
  double scale = 1.0;
  if (atom == nullptr && symbol.size() > 1) {
    double prefix = PrefixScale(symbol[0]);
    const Atom* rest = FindAtom(symbol.substr(1));
    if (prefix != 0.0 && rest != nullptr && rest->metric) {
      atom = rest;
      scale = prefix;
    }
  }
  if (atom == nullptr) {
    return Error{
        ErrorCode::kUnitMismatch, "unit",
        "unknown unit symbol '" + std::string(symbol) + "' in '" + std::string(whole) + "'"};
  }
  if (atom->offset != 0.0 && (exponent != 1 || term.size() != whole.size())) {
    return Error{ErrorCode::kUnitMismatch, "unit",
                 "'" + std::string(atom->symbol) + "' cannot be combined with other units"};
  }
  Unit u;
  u.scale = std::pow(atom->scale * scale, exponent);
  u.offset = atom->offset;
  for (std::size_t i = 0; i < u.dim.size(); ++i) u.dim[i] = atom->dim[i] * exponent;
  return u;
}

}  // namespace

Result<Unit> ParseUnit(std::string_view code) {
  // UCUM annotations ("{INR}", "mg{total}") carry no dimension: an annotation alone is the
  // unity, one attached to a unit is that unit.
  if (code.find('{') != std::string_view::npos) {
    std::string stripped;
    int depth = 0;
    for (char c : code) {
      if (c == '{') {
        ++depth;
      } else if (c == '}') {
        if (--depth < 0) return InvalidArgument("unit", "unbalanced '}'");
      } else if (depth == 0) {
        stripped += c;
      }
    }
    if (depth != 0) return InvalidArgument("unit", "unbalanced '{'");
    if (stripped.empty() || stripped.back() == '/' || stripped.back() == '.') stripped += "1";
    MEDTWIN_TRY(Unit u, ParseUnit(stripped));
    u.code = std::string(code);
    return u;
  }
  Unit out;
  out.code = std::string(code);
  if (code.empty()) return InvalidArgument("unit", "empty unit");
  // Terms joined by '.' (multiply) and '/' (divide); a leading '/' means 1/x.
  std::size_t pos = 0;
  int sign = 1;
  if (code[0] == '/') {
    sign = -1;
    pos = 1;
  }
  bool whole_term = true;
  while (pos <= code.size()) {
    std::size_t next = pos;
    int depth = 0;
    while (next < code.size()) {
      char c = code[next];
      if (c == '[') ++depth;
      if (c == ']') --depth;
      if (depth == 0 && (c == '/' || c == '.')) break;
      ++next;
    }
    std::string_view term = code.substr(pos, next - pos);
    if (pos != 0 || next != code.size()) whole_term = false;
    MEDTWIN_TRY(Unit t, ParseTerm(term, whole_term ? term : code));
    if (t.offset != 0.0) out.offset = t.offset;
    out.scale *= sign > 0 ? t.scale : 1.0 / t.scale;
    for (std::size_t i = 0; i < out.dim.size(); ++i) out.dim[i] += sign * t.dim[i];
    if (next >= code.size()) break;
    sign = code[next] == '/' ? -1 : 1;
    pos = next + 1;
    if (pos >= code.size())
      return InvalidArgument("unit", "unit '" + std::string(code) + "' ends in an operator");
  }
  return out;
}

bool SameDimension(const Unit& a, const Unit& b) { return a.dim == b.dim; }

Result<double> ConvertUnit(double value, const Unit& from, const Unit& to,
                           double molar_mass_g_per_mol) {
  if (!std::isfinite(value)) return InvalidArgument("value", "not a finite number");
  // The same unit (offset units included: 37.1 Cel is not 37.1 + 273.15 - 273.15) is exact.
  if (SameDimension(from, to) && from.scale == to.scale && from.offset == to.offset) return value;
  // Without offsets, multiply by the ratio of scales: exact when the units are the same
  // (125 /min stays 125, not 125.00000000000001 through 1/60 and back).
  if (SameDimension(from, to) && from.offset == 0 && to.offset == 0) {
    return from.scale == to.scale ? value : value * (from.scale / to.scale);
  }
  double base = value * from.scale + from.offset;
  if (SameDimension(from, to)) return (base - to.offset) / to.scale;
  if (molar_mass_g_per_mol > 0.0) {
    // mass <-> amount: g = mol * M. Allowed when the dimensions differ by exactly that swap.
    Dimension diff{};
    for (std::size_t i = 0; i < diff.size(); ++i) diff[i] = from.dim[i] - to.dim[i];
    const int m = diff[static_cast<std::size_t>(Idx(BaseQuantity::kMass))];
    const int n = diff[static_cast<std::size_t>(Idx(BaseQuantity::kAmount))];
    bool only_swap = m == -n && m != 0;
    for (std::size_t i = 0; i < diff.size(); ++i) {
      if (i != static_cast<std::size_t>(Idx(BaseQuantity::kMass)) &&
          i != static_cast<std::size_t>(Idx(BaseQuantity::kAmount)) && diff[i] != 0) {
        only_swap = false;
      }
    }
    if (only_swap) {
      // from has `n` more mol-exponent than to: each mol becomes M grams.
      return base * std::pow(molar_mass_g_per_mol, n) / to.scale;
    }
  }
  return Error{ErrorCode::kUnitMismatch, "unit",
               "cannot convert '" + from.code + "' to '" + to.code + "' (different dimensions)"};
}

Result<double> ConvertUnit(double value, std::string_view from, std::string_view to,
                           double molar_mass_g_per_mol) {
  MEDTWIN_TRY(Unit f, ParseUnit(from));
  MEDTWIN_TRY(Unit t, ParseUnit(to));
  return ConvertUnit(value, f, t, molar_mass_g_per_mol);
}

}  // namespace medtwin
