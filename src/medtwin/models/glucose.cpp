#include "medtwin/models/glucose.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <map>
#include <sstream>

#include "medtwin/core/data_dir.h"

namespace medtwin::models {
namespace {

using sim::ModelInfo;
using sim::ParameterSpec;

// Model parameters, in this order; names as in vpatient_params.csv. Defaults are adult#001's.
enum Param : int {
  kBW,
  kKabs,
  kKmax,
  kKmin,
  kB,
  kD,
  kVg,
  kVi,
  kIb,
  kVmx,
  kKm0,
  kK2,
  kK1,
  kP2u,
  kM1,
  kM2,
  kM4,
  kM30,
  kKi,
  kKp1,
  kKp2,
  kKp3,
  kF,
  kKe1,
  kKe2,
  kFsnc,
  kVm0,
  kKd,
  kKsc,
  kKa1,
  kKa2,
  kU2ss,
  kGpb,
  kGtb,
  kIpb,
  kIlb,
  kIsc1ss,
  kIsc2ss,
  kParamCount
};

static_assert(kBW == uva::kParamBW && kVg == uva::kParamVg);

struct ParamDef {
  const char* name;
  const char* unit;
  const char* description;
};

constexpr ParamDef kParams[kParamCount] = {
    {"BW", "kg", "body weight"},
    {"kabs", "/min", "rate of glucose absorption from the gut"},
    {"kmax", "/min", "maximum gastric emptying rate"},
    {"kmin", "/min", "minimum gastric emptying rate"},
    {"b", "1", "fraction of the meal at which gastric emptying falls to half of kmax-kmin"},
    {"d", "1", "fraction of the meal at which gastric emptying is back to half"},
    {"Vg", "dL/kg", "glucose distribution volume"},
    {"Vi", "L/kg", "insulin distribution volume"},
    {"Ib", "pmol/L", "basal plasma insulin"},
    {"Vmx", "mg/kg/min per pmol/L", "insulin action on glucose utilization"},
    {"Km0", "mg/kg", "Michaelis constant of glucose utilization"},
    {"k2", "/min", "rate from tissue to plasma glucose"},
    {"k1", "/min", "rate from plasma to tissue glucose"},
    {"p2u", "/min", "rate of insulin action on peripheral glucose utilization"},
    {"m1", "/min", "liver insulin rate constant"},
    {"m2", "/min", "plasma to liver insulin rate"},
    {"m4", "/min", "peripheral insulin degradation rate"},
    {"m30", "/min", "hepatic insulin extraction rate"},
    {"ki", "/min", "delay of insulin action on the liver"},
    {"kp1", "mg/kg/min", "extrapolated endogenous glucose production at zero glucose and insulin"},
    {"kp2", "/min", "liver glucose effectiveness"},
    {"kp3", "mg/kg/min per pmol/L", "insulin action on the liver"},
    {"f", "1", "fraction of intestinal absorption that appears in plasma"},
    {"ke1", "/min", "renal glomerular filtration rate"},
    {"ke2", "mg/kg", "renal threshold of glucose"},
    {"Fsnc", "mg/kg/min", "insulin-independent glucose utilization"},
    {"Vm0", "mg/kg/min", "insulin-independent part of glucose utilization (Vm at basal)"},
    {"kd", "/min", "subcutaneous insulin degradation/diffusion rate"},
    {"ksc", "/min", "rate of glucose transfer to the subcutaneous sensor site"},
    {"ka1", "/min", "absorption rate of non-monomeric subcutaneous insulin"},
    {"ka2", "/min", "absorption rate of monomeric subcutaneous insulin"},
    {"u2ss", "pmol/kg/min", "basal insulin infusion that holds the basal steady state"},
    {"Gpb", "mg/kg", "basal plasma glucose mass"},
    {"Gtb", "mg/kg", "basal tissue glucose mass"},
    {"Ipb", "pmol/kg", "basal plasma insulin mass"},
    {"Ilb", "pmol/kg", "basal liver insulin mass"},
    {"isc1ss", "pmol/kg", "basal subcutaneous insulin, first compartment"},
    {"isc2ss", "pmol/kg", "basal subcutaneous insulin, second compartment"},
};

// adult#001 (vpatient_params.csv row 11), so that `--model uva_padova` alone is a real patient.
// Copied from the file by script; a test checks they match it.
constexpr double kAdult001[kParamCount] = {102.32,
                                           0.08906,
                                           0.046122,
                                           0.0037927,
                                           0.70391,
                                           0.21057,
                                           1.9152,
                                           0.054906,
                                           100.25,
                                           0.031319,
                                           253.52,
                                           0.087114,
                                           0.058138,
                                           0.027802,
                                           0.15446,
                                           0.225027424083,
                                           0.090010969633,
                                           0.23169,
                                           0.0046374,
                                           4.73140582528,
                                           0.00469,
                                           0.01208,
                                           0.9,
                                           0.0005,
                                           339,
                                           1,
                                           3.2667306607,
                                           0.0152,
                                           0.0766,
                                           0.0019,
                                           0.0078,
                                           1.2386244136,
                                           265.370112,
                                           162.457097269,
                                           5.5043265,
                                           3.20762505142,
                                           72.4341762342,
                                           141.153779328};

// The reference counts meal intake per whole minute (docs/glucose.md).
constexpr double kMinute = 1.0;

// tanh through one exp: exact to ~1e-16 absolute, which is all kgut needs, and about twice as
// fast as std::tanh (glibc's goes through expm1); the right-hand side is the hot loop of trials.
inline double FastTanh(double x) { return 1.0 - 2.0 / (1.0 + std::exp(2.0 * x)); }

class UvaPadovaModel final : public sim::Model {
 public:
  UvaPadovaModel() {
    info_.name = "uva_padova";
    info_.description =
        "UVA/Padova 2008 type-1 diabetes (Dalla Man 2007; Kovatchev 2009): meals g into CMT 1, "
        "insulin U into CMT 11, time min; BG, Gsub mg/dL; --patient NAME";
    info_.time_unit = "min";
    info_.states = {
        {"Qsto1", "mg"},  {"Qsto2", "mg"},      {"Qgut", "mg"},       {"Gp", "mg/kg"},
        {"Gt", "mg/kg"},  {"Ip", "pmol/kg"},    {"X", "pmol/L"},      {"I1", "pmol/L"},
        {"XL", "pmol/L"}, {"Il", "pmol/kg"},    {"Isc1", "pmol/kg"},  {"Isc2", "pmol/kg"},
        {"Gs", "mg/kg"},  {"meal_Qsto0", "mg"}, {"meal_eaten", "mg"}, {"meal_start", "min"}};
    for (int i = 0; i < kParamCount; ++i) {
      info_.parameters.push_back(ParameterSpec{kParams[i].name, kParams[i].unit, kAdult001[i], 0.0,
                                               1e9, kParams[i].description});
    }
    info_.parameters[kBW].lower = 1;  // divides
    info_.parameters[kVg].lower = 1e-6;
    info_.parameters[kVi].lower = 1e-6;
    info_.outputs = {{"BG", "mg/dL"}, {"Gsub", "mg/dL"}};
    info_.default_dose_cmt = uva::kMealCmt;
  }

  const ModelInfo& Info() const override { return info_; }

  void Derivatives(double t, std::span<const double> x, std::span<const double> p,
                   std::span<double> dxdt) const override {
    static const double kNoInput[uva::kStateCount] = {};
    DerivativesWithInputs(t, x, p, kNoInput, dxdt);
  }

  void DerivativesWithInputs(double t, std::span<const double> x, std::span<const double> p,
                             std::span<const double> rates, std::span<double> dx) const override {
    using namespace uva;
    const double d = rates[kQsto1];  // mg/min being eaten
    const double u = rates[kIsc1];   // pmol/kg/min
    // Gastric emptying. D̄ counts every minute of the meal from its start: within minute k of
    // the meal it holds Qsto at the start plus all eaten up to the end of that minute.
    const double qsto = x[kQsto1] + x[kQsto2];
    double dbar = x[kMealQsto0] + x[kMealEaten];
    if (d > 0) dbar += d * (kMinute - MinuteFraction(t - x[kMealStart]));
    double kgut = p[kKmax];
    if (dbar > 0) {
      const double alpha = 5 / (2 * dbar * (1 - p[kB]));
      const double beta = 5 / (2 * dbar * p[kD]);
      kgut = p[kKmin] + (p[kKmax] - p[kKmin]) / 2 *
                            (FastTanh(alpha * (qsto - p[kB] * dbar)) -
                             FastTanh(beta * (qsto - p[kD] * dbar)) + 2);
    }
    dx[kQsto1] = -p[kKmax] * x[kQsto1] + d;
    dx[kQsto2] = p[kKmax] * x[kQsto1] - kgut * x[kQsto2];
    dx[kQgut] = kgut * x[kQsto2] - p[kKabs] * x[kQgut];
    const double ra = p[kF] * p[kKabs] * x[kQgut] / p[kBW];

    // Glucose subsystem.
    const double gp = x[kGp], gt = x[kGt];
    const double egp = p[kKp1] - p[kKp2] * gp - p[kKp3] * x[kXL];
    const double renal = gp > p[kKe2] ? p[kKe1] * (gp - p[kKe2]) : 0.0;
    dx[kGp] = std::max(egp, 0.0) + ra - p[kFsnc] - renal - p[kK1] * gp + p[kK2] * gt;
    const double uid = (p[kVm0] + p[kVmx] * x[kX]) * gt / (p[kKm0] + gt);
    dx[kGt] = -uid + p[kK1] * gp - p[kK2] * gt;

    // Insulin subsystem.
    const double plasma_insulin = x[kIp] / p[kVi];
    dx[kIp] =
        -(p[kM2] + p[kM4]) * x[kIp] + p[kM1] * x[kIl] + p[kKa1] * x[kIsc1] + p[kKa2] * x[kIsc2];
    dx[kX] = -p[kP2u] * x[kX] + p[kP2u] * (plasma_insulin - p[kIb]);
    dx[kI1] = -p[kKi] * (x[kI1] - plasma_insulin);
    dx[kXL] = -p[kKi] * (x[kXL] - x[kI1]);
    dx[kIl] = -(p[kM1] + p[kM30]) * x[kIl] + p[kM2] * x[kIp];
    dx[kIsc1] = u - (p[kKa1] + p[kKd]) * x[kIsc1];
    dx[kIsc2] = p[kKd] * x[kIsc1] - p[kKa2] * x[kIsc2];
    dx[kGs] = -p[kKsc] * x[kGs] + p[kKsc] * gp;

    // Non-negativity as the reference implements it: no change while the state is negative.
    for (int i : {kGp, kGt, kIp, kIl, kIsc1, kIsc2, kGs}) {
      if (x[static_cast<std::size_t>(i)] < 0) dx[static_cast<std::size_t>(i)] = 0;
    }
    dx[kMealQsto0] = 0;
    dx[kMealEaten] = d;
    dx[kMealStart] = 0;
    // Inputs into other states (not used by the model, but a record may give them) add as usual.
    for (int i = 0; i < kStateCount; ++i) {
      if (i != kQsto1 && i != kIsc1 && i != kMealEaten) {
        dx[static_cast<std::size_t>(i)] += rates[static_cast<std::size_t>(i)];
      }
    }
  }

  void Outputs(std::span<const double> x, std::span<const double> p,
               std::span<double> out) const override {
    out[0] = x[uva::kGp] / p[kVg];
    out[1] = x[uva::kGs] / p[kVg];
  }

  double InputScale(int state0, std::span<const double> p) const override {
    if (state0 == uva::kQsto1) return 1000.0;          // g → mg
    if (state0 == uva::kIsc1) return 6000.0 / p[kBW];  // U → pmol/kg (1 U = 6000 pmol)
    return 1.0;
  }

  void InitialState(std::span<const double> p, std::span<double> x) const override {
    std::fill(x.begin(), x.end(), 0.0);
    x[uva::kGp] = p[kGpb];
    x[uva::kGt] = p[kGtb];
    x[uva::kIp] = p[kIpb];
    x[uva::kI1] = p[kIb];
    x[uva::kXL] = p[kIb];
    x[uva::kIl] = p[kIlb];
    x[uva::kIsc1] = p[kIsc1ss];
    x[uva::kIsc2] = p[kIsc2ss];
    x[uva::kGs] = p[kGpb];
  }

  // A meal starts when eating resumes after a pause: D̄ restarts from the stomach's content.
  void OnInputChange(double t, std::span<const double> previous_rates,
                     std::span<const double> rates, std::span<const double> /*p*/,
                     std::span<double> x) const override {
    if (previous_rates[uva::kQsto1] <= 0 && rates[uva::kQsto1] > 0) {
      x[uva::kMealQsto0] = x[uva::kQsto1] + x[uva::kQsto2];
      x[uva::kMealEaten] = 0;
      x[uva::kMealStart] = t;
    }
  }

  // While eating, D̄ steps up at every whole minute since the meal started.
  double NextDiscontinuity(double t, std::span<const double> x,
                           std::span<const double> rates) const override {
    if (rates[uva::kQsto1] <= 0) return std::numeric_limits<double>::infinity();
    const double since = t - x[uva::kMealStart];
    return x[uva::kMealStart] + (std::floor(since / kMinute + 1e-9) + 1) * kMinute;
  }

 private:
  // Position within the current minute, in [0, 1); a hair below a whole minute counts as it.
  static double MinuteFraction(double since) {
    const double k = std::floor(since / kMinute + 1e-9);
    return std::max(0.0, since / kMinute - k);
  }

  ModelInfo info_;
};

std::vector<std::string> SplitCsvLine(const std::string& line) {
  std::vector<std::string> out;
  std::string cell;
  std::stringstream ss(line);
  while (std::getline(ss, cell, ',')) {
    // Trim spaces and a trailing CR (the parameter file's header has "x0_ 1").
    cell.erase(std::remove_if(cell.begin(), cell.end(),
                              [](char c) { return c == ' ' || c == '\r' || c == '\t'; }),
               cell.end());
    out.push_back(cell);
  }
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

Result<double> ParseNumber(const std::string& text, const std::string& where,
                           const std::string& column) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end == nullptr || *end != '\0' || !std::isfinite(v)) {
    return InvalidArgument(column, where + ": '" + text + "' is not a number");
  }
  return v;
}

// Rows of a CSV as column → text maps, each with its 1-based line number.
struct CsvRow {
  int line;
  std::map<std::string, std::string> cells;
};

Result<std::vector<CsvRow>> ReadCsv(std::string_view text, const std::string& where) {
  std::vector<CsvRow> rows;
  std::stringstream in{std::string(text)};
  std::string line;
  std::vector<std::string> header;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (line.empty() || line == "\r") continue;
    auto cells = SplitCsvLine(line);
    if (header.empty()) {
      header = std::move(cells);
      continue;
    }
    if (cells.size() != header.size()) {
      return InvalidArgument("row", where + ":" + std::to_string(n) + ": " +
                                        std::to_string(cells.size()) + " cells, header has " +
                                        std::to_string(header.size()));
    }
    CsvRow row{n, {}};
    for (std::size_t i = 0; i < header.size(); ++i) row.cells[header[i]] = cells[i];
    rows.push_back(std::move(row));
  }
  if (header.empty()) return InvalidArgument("file", where + ": empty");
  return rows;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("file", "cannot open " + path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

std::unique_ptr<sim::Model> MakeUvaPadovaModel() { return std::make_unique<UvaPadovaModel>(); }

void GlucoseInputs::GiveBolus(double t_min, double units) {
  if (!(units > 0)) return;
  const double remaining = t_min < bolus_end_min ? bolus_u_per_min * (bolus_end_min - t_min) : 0;
  bolus_u_per_min = (remaining + units) / kBolusMinutes;
  bolus_end_min = t_min + kBolusMinutes;
}

void GlucoseInputs::StartMeal(double t_min, double grams) {
  if (!(grams > 0)) return;
  const double remaining = t_min < meal_end_min ? meal_g_per_min * (meal_end_min - t_min) : 0;
  meal_g_per_min = kEatingRateGPerMin;
  meal_end_min = t_min + (remaining + grams) / kEatingRateGPerMin;
}

double GlucoseInputs::InsulinRate(double t_min) const {
  return basal_u_per_min + (t_min < bolus_end_min ? bolus_u_per_min : 0.0);
}

double GlucoseInputs::MealRate(double t_min) const {
  return t_min < meal_end_min ? meal_g_per_min : 0.0;
}

Status AdvanceGlucose(sim::LiveSimulation& patient, const GlucoseInputs& inputs, double t_to) {
  double t = patient.time();
  while (t < t_to) {
    double next = t_to;
    if (t < inputs.bolus_end_min) next = std::min(next, inputs.bolus_end_min);
    if (t < inputs.meal_end_min) next = std::min(next, inputs.meal_end_min);
    MEDTWIN_RETURN_IF_ERROR(patient.SetRate(uva::kInsulinCmt, inputs.InsulinRate(t)));
    MEDTWIN_RETURN_IF_ERROR(patient.SetRate(uva::kMealCmt, inputs.MealRate(t)));
    MEDTWIN_RETURN_IF_ERROR(patient.AdvanceTo(next));
    t = next;
  }
  return Ok{};
}

Result<std::vector<VirtualPatient>> ParseVirtualPatients(std::string_view params_csv,
                                                         std::string_view quest_csv,
                                                         const std::string& where) {
  MEDTWIN_TRY(auto rows, ReadCsv(params_csv, where + "/vpatient_params.csv"));
  MEDTWIN_TRY(auto quest_rows, ReadCsv(quest_csv, where + "/Quest.csv"));
  std::map<std::string, const CsvRow*> quest;
  for (const auto& r : quest_rows) quest[r.cells.count("Name") ? r.cells.at("Name") : ""] = &r;
  std::vector<VirtualPatient> out;
  for (const auto& row : rows) {
    const std::string at = where + "/vpatient_params.csv:" + std::to_string(row.line);
    auto cell = [&](const std::string& column) -> Result<double> {
      auto it = row.cells.find(column);
      if (it == row.cells.end()) return InvalidArgument(column, at + ": column missing");
      MEDTWIN_TRY(double v, ParseNumber(it->second, at, column));
      return v;
    };
    VirtualPatient vp;
    vp.name = row.cells.count("Name") ? row.cells.at("Name") : "";
    const auto hash = vp.name.find('#');
    if (hash == std::string::npos || hash == 0) {
      return InvalidArgument("Name", at + ": '" + vp.name + "' is not COHORT#NNN");
    }
    vp.cohort = vp.name.substr(0, hash);
    for (int i = 0; i < kParamCount; ++i) {
      MEDTWIN_TRY(double v, cell(kParams[i].name));
      if (v < 0) return InvalidArgument(kParams[i].name, at + ": negative value");
      vp.params.push_back(v);
    }
    if (!(vp.params[kBW] >= 1)) return InvalidArgument("BW", at + ": body weight below 1 kg");
    MEDTWIN_TRY(vp.basal_glucose_mg_dl, cell("Gb"));
    vp.body_weight_kg = vp.params[kBW];
    vp.basal_u_per_min = vp.params[kU2ss] * vp.params[kBW] / 6000;
    auto q = quest.find(vp.name);
    if (q == quest.end()) {
      return InvalidArgument("Name", where + "/Quest.csv: no row for " + vp.name);
    }
    const std::string qat = where + "/Quest.csv:" + std::to_string(q->second->line);
    auto qcell = [&](const std::string& column) -> Result<double> {
      auto it = q->second->cells.find(column);
      if (it == q->second->cells.end()) return InvalidArgument(column, qat + ": column missing");
      return ParseNumber(it->second, qat, column);
    };
    MEDTWIN_TRY(vp.carb_ratio_g_per_u, qcell("CR"));
    MEDTWIN_TRY(vp.correction_mg_dl_per_u, qcell("CF"));
    MEDTWIN_TRY(vp.age_y, qcell("Age"));
    MEDTWIN_TRY(vp.total_daily_insulin_u, qcell("TDI"));
    if (!(vp.carb_ratio_g_per_u > 0) || !(vp.correction_mg_dl_per_u > 0)) {
      return InvalidArgument("CR", qat + ": CR and CF must be positive");
    }
    out.push_back(std::move(vp));
  }
  return out;
}

Result<const std::vector<VirtualPatient>*> VirtualPatients() {
  static const Result<std::vector<VirtualPatient>> loaded =
      []() -> Result<std::vector<VirtualPatient>> {
    const std::string dir = DataDirectory() + "/uva_padova";
    MEDTWIN_TRY(std::string params, ReadFile(dir + "/vpatient_params.csv"));
    MEDTWIN_TRY(std::string quest, ReadFile(dir + "/Quest.csv"));
    return ParseVirtualPatients(params, quest, dir);
  }();
  if (!loaded.ok()) return loaded.error();
  return &*loaded;
}

Result<const VirtualPatient*> FindVirtualPatient(std::string_view name) {
  MEDTWIN_TRY(const std::vector<VirtualPatient>* all, VirtualPatients());
  for (const auto& vp : *all) {
    if (vp.name == name) return &vp;
  }
  return NotFound("patient", "unknown virtual patient '" + std::string(name) +
                                 "' (adolescent#001…#010, adult#001…#010, child#001…#010)");
}

Result<std::vector<const VirtualPatient*>> VirtualCohort(std::string_view cohort) {
  MEDTWIN_TRY(const std::vector<VirtualPatient>* all, VirtualPatients());
  std::string want;
  if (cohort == "adults" || cohort == "adult")
    want = "adult";
  else if (cohort == "adolescents" || cohort == "adolescent")
    want = "adolescent";
  else if (cohort == "children" || cohort == "child")
    want = "child";
  else if (cohort != "all") {
    return InvalidArgument("--cohort", "unknown cohort '" + std::string(cohort) +
                                           "' (choose adults, adolescents, children or all)");
  }
  std::vector<const VirtualPatient*> out;
  for (const auto& vp : *all) {
    if (want.empty() || vp.cohort == want) out.push_back(&vp);
  }
  return out;
}

}  // namespace medtwin::models
