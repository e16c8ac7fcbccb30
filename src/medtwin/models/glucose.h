// models/glucose.h — the UVA/Padova type-1 diabetes model (2008 version; Dalla Man, Rizza,
// Cobelli, IEEE TBME 2007;54:1740 and Kovatchev et al., J Diabetes Sci Technol 2009;3:44) as a
// simulation-core model, and its 30 virtual patients (data/uva_padova/, parameter values from
// the open reimplementation simglucose). The equations, including how the meal size D̄ is
// counted and the non-negativity rule, are those of docs/glucose.md.
//
// Records use the PK record format with TIME in minutes: a meal is an infusion into CMT 1
// (Qsto1) with AMT in g and RATE in g/min; insulin (basal and boluses) goes into CMT 11 (Isc1)
// with AMT in U and RATE in U/min. Outputs BG and Gsub (mg/dL).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/sim/live_simulation.h"
#include "medtwin/sim/model.h"

namespace medtwin::models {

// State indices (0-based) of the 13 physiological states, then the three that keep the
// current meal's size D̄ (Qsto when it started, amount eaten since, its start time).
namespace uva {
enum State : int {
  kQsto1 = 0,
  kQsto2,
  kQgut,
  kGp,
  kGt,
  kIp,
  kX,
  kI1,
  kXL,
  kIl,
  kIsc1,
  kIsc2,
  kGs,
  kMealQsto0,
  kMealEaten,
  kMealStart,
  kStateCount
};
constexpr int kParamBW = 0;  // parameter indices used outside the model
constexpr int kParamVg = 6;
constexpr int kMealCmt = 1;      // CMT for meals (g, g/min)
constexpr int kInsulinCmt = 11;  // CMT for insulin (U, U/min)
}  // namespace uva

std::unique_ptr<sim::Model> MakeUvaPadovaModel();

// What goes into a UVA/Padova patient from now on, for step-by-step simulation (closed loops,
// filters): basal insulin, a bolus being delivered over one minute (as the reference does), a
// meal being eaten at 5 g/min. A new bolus or meal while one is running adds to what remains.
struct GlucoseInputs {
  static constexpr double kEatingRateGPerMin = 5;
  static constexpr double kBolusMinutes = 1;
  double basal_u_per_min = 0;
  double bolus_u_per_min = 0;
  double bolus_end_min = 0;
  double meal_g_per_min = 0;
  double meal_end_min = 0;

  void GiveBolus(double t_min, double units);
  void StartMeal(double t_min, double grams);
  // Insulin (U/min) and carbohydrate (g/min) rates at t (bolus and meal ends are exclusive).
  [[nodiscard]] double InsulinRate(double t_min) const;
  [[nodiscard]] double MealRate(double t_min) const;
};

// Advances `patient` (a uva_padova LiveSimulation) to t_to under `inputs`, changing rates
// exactly where a bolus or meal ends.
[[nodiscard]] Status AdvanceGlucose(sim::LiveSimulation& patient, const GlucoseInputs& inputs,
                                    double t_to);

// One virtual patient: the model's parameters (in the model's parameter order) and the
// therapy settings clinicians would use for them (Quest.csv).
struct VirtualPatient {
  std::string name;    // "adolescent#001"
  std::string cohort;  // "adolescent", "adult", "child"
  std::vector<double> params;
  double body_weight_kg = 0;
  double basal_u_per_min = 0;  // holds the patient at the basal steady state: u2ss·BW/6000
  double carb_ratio_g_per_u = 0;
  double correction_mg_dl_per_u = 0;
  double age_y = 0;
  double total_daily_insulin_u = 0;
  double basal_glucose_mg_dl = 0;  // Gb
};

// All 30 patients, loaded once from <data>/uva_padova/ (vpatient_params.csv, Quest.csv).
[[nodiscard]] Result<const std::vector<VirtualPatient>*> VirtualPatients();
// By name ("adult#001"); the error lists the cohorts and the name pattern.
[[nodiscard]] Result<const VirtualPatient*> FindVirtualPatient(std::string_view name);
// "adults", "adolescents", "children" or "all" (singular forms accepted).
[[nodiscard]] Result<std::vector<const VirtualPatient*>> VirtualCohort(std::string_view cohort);

// Parses the two CSV texts (for tests and fuzzing); `where` names the files in errors.
[[nodiscard]] Result<std::vector<VirtualPatient>> ParseVirtualPatients(std::string_view params_csv,
                                                                       std::string_view quest_csv,
                                                                       const std::string& where);

}  // namespace medtwin::models
