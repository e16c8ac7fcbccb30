#include "medtwin/decide/warfarin_dose.h"

#include <cmath>

namespace medtwin::decide {
namespace {

Status CheckClinical(const WarfarinPatient& p) {
  if (!(p.age_years >= 18 && p.age_years <= 110)) {
    return InvalidArgument("age_years", "18–110 (the algorithm was derived in adults)");
  }
  if (!(p.height_cm >= 100 && p.height_cm <= 250))
    return InvalidArgument("height_cm", "100–250 cm");
  if (!(p.weight_kg >= 25 && p.weight_kg <= 300)) return InvalidArgument("weight_kg", "25–300 kg");
  return Ok{};
}

WarfarinDose Finish(std::vector<std::pair<std::string, double>> terms) {
  WarfarinDose d;
  for (const auto& [name, value] : terms) d.sqrt_weekly += value;
  d.terms = std::move(terms);
  // A negative square root would mean no dose: the algorithm's range ends well above it.
  d.weekly_mg = d.sqrt_weekly > 0 ? d.sqrt_weekly * d.sqrt_weekly : 0;
  d.daily_mg = d.weekly_mg / 7;
  return d;
}

void AddClinical(std::vector<std::pair<std::string, double>>& t, const WarfarinPatient& p,
                 double age, double height, double weight, double asian, double black,
                 double missing, double inducer, double amiodarone) {
  t.emplace_back("age in decades", age * IwpcAgeDecades(p.age_years));
  t.emplace_back("height (cm)", height * p.height_cm);
  t.emplace_back("weight (kg)", weight * p.weight_kg);
  if (p.race == IwpcRace::kAsian) t.emplace_back("Asian race", asian);
  if (p.race == IwpcRace::kBlackOrAfricanAmerican)
    t.emplace_back("Black or African American", black);
  if (p.race == IwpcRace::kMissingOrMixed) t.emplace_back("missing or mixed race", missing);
  if (p.enzyme_inducer) t.emplace_back("enzyme inducer", inducer);
  if (p.amiodarone) t.emplace_back("amiodarone", amiodarone);
}

}  // namespace

int IwpcAgeDecades(double age_years) { return static_cast<int>(std::floor(age_years / 10)); }

Result<IwpcRace> ParseIwpcRace(const std::string& text) {
  if (text == "white" || text == "White") return IwpcRace::kWhite;
  if (text == "asian" || text == "Asian") return IwpcRace::kAsian;
  if (text == "black" || text == "Black" || text == "black or african american") {
    return IwpcRace::kBlackOrAfricanAmerican;
  }
  if (text.empty() || text == "mixed" || text == "unknown" || text == "other") {
    return IwpcRace::kMissingOrMixed;
  }
  return InvalidArgument("race", "white, asian, black, mixed or unknown (IWPC's categories)");
}

Result<WarfarinDose> IwpcPharmacogeneticDose(const WarfarinPatient& p) {
  MEDTWIN_RETURN_IF_ERROR(CheckClinical(p));
  std::vector<std::pair<std::string, double>> t = {{"intercept", 5.6044}};
  AddClinical(t, p, -0.2614, 0.0087, 0.0128, -0.1092, -0.2760, -0.1032, 1.1816, -0.5503);
  if (p.vkorc1 == "A/G" || p.vkorc1 == "G/A") {
    t.emplace_back("VKORC1 A/G", -0.8677);
  } else if (p.vkorc1 == "A/A") {
    t.emplace_back("VKORC1 A/A", -1.6974);
  } else if (p.vkorc1.empty()) {
    t.emplace_back("VKORC1 unknown", -0.4854);
  } else if (p.vkorc1 != "G/G") {
    return InvalidArgument("vkorc1", "G/G, A/G, A/A or empty (unknown)");
  }
  std::string c = p.cyp2c9;
  if (const auto slash = c.find('/');
      slash != std::string::npos && c.substr(slash + 1) < c.substr(0, slash)) {
    c = c.substr(slash + 1) + "/" + c.substr(0, slash);  // "*3/*1" → "*1/*3"
  }
  static const std::pair<const char*, double> kCyp2c9[] = {{"*1/*2", -0.5211},
                                                           {"*1/*3", -0.9357},
                                                           {"*2/*2", -1.0616},
                                                           {"*2/*3", -1.9206},
                                                           {"*3/*3", -2.3312}};
  bool known = c == "*1/*1";
  for (const auto& [name, value] : kCyp2c9) {
    if (c == name) {
      t.emplace_back(std::string("CYP2C9 ") + name, value);
      known = true;
    }
  }
  if (c.empty()) {
    t.emplace_back("CYP2C9 unknown", -0.2188);
  } else if (!known) {
    return InvalidArgument("cyp2c9", "a diplotype of *1, *2 and *3, or empty (unknown)");
  }
  return Finish(std::move(t));
}

Result<WarfarinDose> IwpcClinicalDose(const WarfarinPatient& p) {
  MEDTWIN_RETURN_IF_ERROR(CheckClinical(p));
  std::vector<std::pair<std::string, double>> t = {{"intercept", 4.0376}};
  AddClinical(t, p, -0.2546, 0.0118, 0.0134, -0.6752, 0.4060, 0.0443, 1.2799, -0.5695);
  return Finish(std::move(t));
}

}  // namespace medtwin::decide
