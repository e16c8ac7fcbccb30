#include "medtwin/twin/live_twin.h"

#include <cctype>

#include "medtwin/decide/warfarin_dose.h"
#include "medtwin/pgx/warfarin.h"
#include "medtwin/twin/pharmacogenomics.h"

#include "medtwin/decide/regimen.h"
#include "medtwin/estimate/map_estimator.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/models/warfarin.h"

#include <algorithm>
#include <cmath>

namespace medtwin::twin {
namespace {

using nlohmann::json;
namespace loinc = io::loinc;

constexpr std::int64_t kMinuteUs = 60'000'000;
// A vital sign counts towards NEWS2 for 4 h after it was measured (ward observation intervals
// are at most 4-hourly at low scores; older values describe another patient state).
constexpr std::int64_t kNews2WindowUs = 4 * 60 * kMinuteUs;
constexpr std::int64_t kRateWindowUs = 60 * kMinuteUs;

std::string Fmt(const char* format, double v) {
  char buf[160];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}

// The drug twin's vancomycin target: AUC24 400–600 mg·h/L (shared by the advice and what-if).
decide::Target VancomycinTarget() {
  decide::Target target;
  target.has_auc24 = true;
  target.auc24_lo = 400;
  target.auc24_hi = 600;
  return target;
}

}  // namespace

// What makes a drug twin: the record's model name, the drug its doses name, the level that
// refits it, the population model used when the record names none, and the target and regimen
// menu of its advice.
struct DrugTwinSpec {
  std::string_view model;
  std::string_view drug;
  std::string_view level_code;
  std::string_view default_population_model;  // "" : the record must name one
  decide::Target target;
  std::string_view target_text;
  decide::RegimenSearch menu;
};

namespace {
const std::vector<DrugTwinSpec>& DrugTwinSpecs() {
  static const std::vector<DrugTwinSpec> specs = [] {
    // Vancomycin: AUC24 400-600 mg·h/L (ASHP/IDSA 2020), infusions every 8, 12 or 24 h.
    decide::RegimenSearch infusions;
    infusions.samples = 100;  // fewer than the CLI's: ~0.2 s per level on the shard thread
    DrugTwinSpec vanco{"vancomycin",       "vancomycin",           loinc::kVancomycin, "",
                       VancomycinTarget(), "AUC24 400-600 mg*h/L", infusions};
    // Warfarin: INR 2-3 before the next daily dose (CPIC 2017 / the usual target), tablets
    // once a day in 0.5 mg steps up to 15 mg.
    decide::Target inr;
    inr.has_trough = true;
    inr.trough_lo = 2;
    inr.trough_hi = 3;
    decide::RegimenSearch daily;
    daily.intervals_h = {24};
    daily.infusion_h = {0};
    daily.dose_step_mg = 0.5;
    daily.dose_max_mg = 15;
    daily.samples = 50;  // each candidate integrates the INR chains to steady state: ~2.5 s
    DrugTwinSpec warfarin{"warfarin", "warfarin", loinc::kInr, "warfarin_hamberg2007",
                          inr,        "INR 2-3",  daily};
    return std::vector<DrugTwinSpec>{vanco, warfarin};
  }();
  return specs;
}

}  // namespace

LiveTwin::GlucoseTwin* LiveTwin::Glucose(Instant t) {
  if (glucose_) return glucose_.get();
  if (std::find(record_.models.begin(), record_.models.end(), "glucose") == record_.models.end()) {
    return nullptr;
  }
  // The patient's own parameters when a virtual patient is named (demo, trials); otherwise
  // adult#001's as the prior, with insulin sensitivity and meal absorption estimated online.
  const std::string name =
      record_.virtual_patient.empty() ? std::string("adult#001") : record_.virtual_patient;
  auto vp = models::FindVirtualPatient(name);
  auto model = models::FindModel("uva_padova");
  if (!vp.ok() || !model.ok()) return nullptr;
  auto filter = estimate::GlucoseFilter::Create(**model, (*vp)->params, 0);
  if (!filter.ok()) return nullptr;
  filter->inputs().basal_u_per_min = (*vp)->basal_u_per_min;
  glucose_ = std::make_unique<GlucoseTwin>(
      GlucoseTwin{t, std::move(*filter), 0, 0, false, name, nullptr, 0, json()});
  return glucose_.get();
}

json LiveTwin::CloseTheLoop(GlucoseTwin& g, double t_min, const io::Observation& cgm) {
  if (!g.controller) {
    auto kind = decide::ParseControllerKind(record_.closed_loop);
    auto vp = models::FindVirtualPatient(g.virtual_patient);
    auto model = models::FindModel("uva_padova");
    if (!kind.ok() || !vp.ok() || !model.ok()) return json();
    auto c = decide::MakeController(*kind, **model, **vp);
    if (!c.ok()) return json();
    g.controller = std::move(*c);
  }
  decide::ControllerInput in;
  in.t_min = t_min;
  in.cgm_mg_dl = cgm.value;
  in.meal_g = std::exchange(g.announced_meal_g, 0.0);
  auto request = g.controller->Decide(in);
  if (!request.ok()) return json();
  const models::InsulinPump pump{models::PumpSpec{}};
  const models::PumpDelivery delivery = pump.Deliver(request->basal_u_per_min, request->bolus_u);
  g.controller->Delivered(t_min, delivery);
  auto& inputs = g.filter.inputs();
  inputs.basal_u_per_min = delivery.basal_u_per_min;
  if (delivery.bolus_u > 0) inputs.GiveBolus(t_min, delivery.bolus_u);
  g.last_command = {{"kind", "insulin"},
                    {"patient", record_.id},
                    {"controller", std::string(g.controller->Name())},
                    {"time", FormatRfc3339(cgm.time)},
                    {"cgm_mg_dl", cgm.value},
                    {"basal_u_per_h", delivery.basal_u_per_min * 60.0},
                    {"bolus_u", delivery.bolus_u},
                    {"suspended", request->suspended},
                    {"limited", delivery.limited},
                    // A pump that hears nothing newer falls back to its own basal program.
                    {"valid_for_min", 15}};
  return g.last_command;
}

const DrugTwinSpec* LiveTwin::DrugSpec() const {
  for (const auto& spec : DrugTwinSpecs()) {
    if (std::find(record_.models.begin(), record_.models.end(), spec.model) !=
        record_.models.end()) {
      return &spec;
    }
  }
  return nullptr;
}

double LiveTwin::GenotypeCovariate(const std::string& name, std::vector<std::string>* notes) const {
  auto data = pgx::PgxData::Default();
  pgx::IwpcGenotypes g;
  if (data.ok()) g = pgx::WarfarinGenotypes(GeneCallsOf(record_), **data);
  if (name == "CYP2C9") {
    if (const int code = models::hamberg::Cyp2c9Code(g.cyp2c9); code >= 0) return code;
    notes->push_back("CYP2C9 unknown: taken as *1/*1");
    return 0;
  }
  if (g.vkorc1 == "G/G") return 0;
  if (g.vkorc1 == "A/G") return 1;
  if (g.vkorc1 == "A/A") return 2;
  notes->push_back("VKORC1 unknown: taken as G/A");
  return 1;
}

json LiveTwin::IwpcStartingDose() const {
  decide::WarfarinPatient p;
  std::vector<std::string> notes;
  if (!record_.birth_date || !record_.height_cm || !record_.weight_kg) {
    return {{"error", "needs birth_date, height_cm and weight_kg on the record"}};
  }
  auto born = ParseRfc3339(*record_.birth_date + "T00:00:00Z");
  if (!born.ok()) return {{"error", "birth_date is not a date"}};
  p.age_years = static_cast<double>(WallClockNow().us_since_epoch - born->us_since_epoch) /
                (365.25 * 86400e6);
  p.height_cm = *record_.height_cm;
  p.weight_kg = *record_.weight_kg;
  p.race = decide::IwpcRace::kMissingOrMixed;  // the record keeps no race
  for (const auto& d : drugs_) {
    if (d == "carbamazepine" || d == "phenytoin" || d == "rifampin" || d == "rifampicin") {
      p.enzyme_inducer = true;
    }
    if (d == "amiodarone") p.amiodarone = true;
  }
  if (auto data = pgx::PgxData::Default(); data.ok()) {
    const auto g = pgx::WarfarinGenotypes(GeneCallsOf(record_), **data);
    p.cyp2c9 = g.cyp2c9;
    p.vkorc1 = g.vkorc1;
    notes = g.notes;
  }
  auto dose = decide::IwpcPharmacogeneticDose(p);
  if (!dose.ok()) return {{"error", dose.error().ToString()}};
  notes.push_back("race not recorded: IWPC's missing/mixed category");
  return {{"weekly_mg", dose->weekly_mg},
          {"daily_mg", dose->daily_mg},
          {"cyp2c9", p.cyp2c9.empty() ? json(nullptr) : json(p.cyp2c9)},
          {"vkorc1", p.vkorc1.empty() ? json(nullptr) : json(p.vkorc1)},
          {"enzyme_inducer", p.enzyme_inducer},
          {"amiodarone", p.amiodarone},
          {"notes", notes},
          {"source", "IWPC pharmacogenetic algorithm, N Engl J Med 2009;360:753"}};
}

void LiveTwin::RefitDrugTwin() {
  drug_->stale = false;
  DrugTwin& d = *drug_;
  d.state_notes.clear();
  if (d.doses.empty() || d.levels.empty()) return;
  const auto* spec = DrugSpec();
  if (spec == nullptr) return;
  const std::string population = record_.population_model.empty()
                                     ? std::string(spec->default_population_model)
                                     : record_.population_model;
  auto pop = estimate::FindPopulationModel(population);
  if (!pop.ok()) {
    d.state = {{"error", pop.error().ToString()}};
    return;
  }
  auto estimator = estimate::MapEstimator::Create(*pop);
  if (!estimator.ok()) {
    d.state = {{"error", estimator.error().ToString()}};
    return;
  }
  // Records in hours since the first dose, covariates from the patient record on each record.
  const Instant origin = d.doses.front().time;
  auto hours = [&](Instant t) {
    return static_cast<double>(t.us_since_epoch - origin.us_since_epoch) / 3.6e9;
  };
  const std::vector<std::string> names = estimator->data_info().covariates;  // a copy: moved below
  std::vector<double> covariates(names.size(), std::numeric_limits<double>::quiet_NaN());
  const bool dialysis =
      std::any_of(record_.conditions.begin(), record_.conditions.end(),
                  [](const std::string& c) { return c.find("dialysis") != std::string::npos; });
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string& n = names[k];
    if (n == "WT" && record_.weight_kg) covariates[k] = *record_.weight_kg;
    if (n == "SCR" && record_.scr_mg_dl) covariates[k] = *record_.scr_mg_dl;
    if (n == "SEX" && (record_.sex == "female" || record_.sex == "male")) {
      covariates[k] = record_.sex == "female" ? 1 : 0;
    }
    if (n == "DIAL") covariates[k] = dialysis ? 1 : 0;
    if (n == "CYP2C9" || n == "VKORC1") covariates[k] = GenotypeCovariate(n, &d.state_notes);
    if (n == "AGE" && record_.birth_date) {
      auto born = ParseRfc3339(*record_.birth_date + "T00:00:00Z");
      if (born.ok()) {
        covariates[k] = std::floor(
            static_cast<double>(origin.us_since_epoch - born->us_since_epoch) / (365.25 * 86400e6));
      }
    }
  }
  sim::Subject subject;
  subject.id = record_.id;
  std::vector<std::pair<double, sim::Record>> records;
  for (const auto& e : d.doses) {
    sim::Record r;
    r.time = hours(e.time);
    r.evid = sim::Evid::kDose;
    r.amt = e.amount;
    r.rate = e.duration_h > 0 ? e.amount / e.duration_h : 0;
    r.covariates = covariates;
    records.emplace_back(r.time, r);
  }
  for (const auto& [t, v] : d.levels) {
    sim::Record r;
    r.time = hours(t);
    r.evid = sim::Evid::kObservation;
    r.dv = v;
    r.covariates = covariates;
    records.emplace_back(r.time, r);
  }
  std::stable_sort(records.begin(), records.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  for (auto& [t, r] : records) subject.records.push_back(std::move(r));
  auto fit = estimator->Fit(subject);
  if (!fit.ok()) {
    d.state = {{"error", fit.error().ToString()}};
    return;
  }
  d.estimator = std::make_shared<estimate::MapEstimator>(std::move(*estimator));
  d.eta = fit->eta;
  d.eta_covariance = fit->eta_covariance;
  d.covariates = decide::LatestCovariates(subject, names.size());
  json params = json::object(), eta = json::object(), se = json::object();
  for (std::size_t k = 0; k < fit->parameter_names.size(); ++k) {
    params[fit->parameter_names[k]] = fit->parameters[k];
    se[fit->parameter_names[k]] = fit->parameter_se[k];
  }
  for (std::size_t k = 0; k < pop->eta_names.size(); ++k) {
    eta[pop->eta_names[k]] = fit->eta(static_cast<Eigen::Index>(k));
  }
  json preds = json::array();
  for (const auto& p : fit->predictions) {
    preds.push_back({{"hours_after_first_dose", p.time},
                     {"observed_mg_l", p.dv},
                     {"individual_mg_l", p.ipred},
                     {"population_mg_l", p.pred}});
  }
  d.state = {{"population_model", pop->name},
             {"drug", std::string(spec->drug)},
             {"notes", d.state_notes},
             {"levels", d.levels.size()},
             {"doses", d.doses.size()},
             {"eta", eta},
             {"parameters", params},
             {"parameter_se", se},
             {"ofv", fit->ofv},
             {"predictions", preds}};
  // Rank the spec's menu for its target (this runs on the shard's thread).
  decide::RegimenSearch search = spec->menu;  // its posterior samples sized for the shard thread
  decide::PatientPosterior posterior{fit->eta, fit->eta_covariance, d.covariates};
  auto ranked = decide::RankRegimens(*d.estimator, posterior, spec->target, search);
  if (!ranked.ok()) {
    d.state["recommendation_error"] = ranked.error().ToString();
    return;
  }
  if (ranked->empty()) return;
  const auto& best = ranked->front();
  d.recommendation = {
      {"status", "draft"},
      {"kind", "dose"},
      {"drug", std::string(spec->drug)},
      {"dose_mg", best.regimen.dose_mg},
      {"interval_h", best.regimen.interval_h},
      {"infusion_h", best.regimen.infusion_h},
      {"probability_of_target_attainment", best.pta},
      {"target", std::string(spec->target_text)},
      {"basis", "MAP fit of " + std::to_string(d.levels.size()) + " level(s), " + pop->name}};
  if (spec->model == "warfarin") {
    d.recommendation["predicted_inr_trough"] = best.trough;
    d.recommendation["predicted_inr_peak"] = best.cmax;
  } else {
    d.recommendation["predicted_auc24_mg_h_per_l"] = best.auc24;
    d.recommendation["predicted_trough_mg_l"] = best.trough;
  }
}

Result<json> LiveTwin::WhatIf(const json& plan) {
  if (!plan.is_object() || !plan.contains("model") || !plan["model"].is_string()) {
    return InvalidArgument("model", "vancomycin, warfarin or glucose");
  }
  const std::string model = plan["model"];
  if (model == "vancomycin" || model == "warfarin") {
    const DrugTwinSpec* spec = DrugSpec();
    if (spec == nullptr || spec->model != model) {
      return InvalidArgument("model", "this patient has no " + model + " twin");
    }
    if (drug_ && drug_->stale) RefitDrugTwin();
    if (!drug_ || !drug_->estimator) {
      return InvalidArgument("model", "the " + model + " twin has no fit yet (doses and a level)");
    }
    if (!plan.contains("regimens") || !plan["regimens"].is_array() || plan["regimens"].empty() ||
        plan["regimens"].size() > 20) {
      return InvalidArgument("regimens", "1–20 regimens {dose_mg, interval_h, infusion_h}");
    }
    const decide::Target target = spec->target;
    decide::RegimenSearch search;
    search.samples = 200;
    search.curve_bands = true;
    decide::PatientPosterior posterior{drug_->eta, drug_->eta_covariance, drug_->covariates};
    json out = json::array();
    for (std::size_t i = 0; i < plan["regimens"].size(); ++i) {
      const json& r = plan["regimens"][i];
      const std::string where = "regimens[" + std::to_string(i) + "]";
      decide::Regimen reg;
      if (!r.is_object() || !r.value("dose_mg", json()).is_number() ||
          !r.value("interval_h", json()).is_number()) {
        return InvalidArgument(where, "needs dose_mg and interval_h");
      }
      reg.dose_mg = r["dose_mg"];
      reg.interval_h = r["interval_h"];
      reg.infusion_h = r.value("infusion_h", 1.0);
      if (!(reg.dose_mg > 0 && reg.dose_mg <= 6000) ||
          !(reg.interval_h >= 4 && reg.interval_h <= 72) ||
          !(reg.infusion_h >= 0 && reg.infusion_h < reg.interval_h)) {
        return InvalidArgument(where, "dose 0–6000 mg, interval 4–72 h, infusion shorter than it");
      }
      MEDTWIN_TRY(decide::RegimenOutcome o,
                  decide::EvaluateRegimen(*drug_->estimator, posterior, reg, target, search));
      MEDTWIN_TRY(decide::Curve curve,
                  decide::SteadyStateCurve(*drug_->estimator, posterior, reg, drug_->eta));
      json points = json::array();
      for (std::size_t k = 0; k < curve.size(); k += 6) {  // every 30 min
        json p = {{"hours", curve[k].first}, {"mg_l", curve[k].second}};
        if (k < o.curve_p05.size()) {
          p["p05_mg_l"] = o.curve_p05[k].second;
          p["p95_mg_l"] = o.curve_p95[k].second;
        }
        points.push_back(std::move(p));
      }
      out.push_back({{"regimen", r},
                     {"auc24_mg_h_per_l", o.auc24},
                     {"trough_mg_l", o.trough},
                     {"cmax_mg_l", o.cmax},
                     {"probability_of_target_attainment", o.pta},
                     {"auc24_p05", o.auc24_p05},
                     {"auc24_p95", o.auc24_p95},
                     {"trough_p05", o.trough_p05},
                     {"trough_p95", o.trough_p95},
                     {"steady_state_curve", points}});
    }
    return json{{"model", model}, {"target", std::string(spec->target_text)}, {"regimens", out}};
  }
  if (model == "glucose") {
    if (!glucose_) return InvalidArgument("model", "the glucose twin has no data yet");
    const double horizon = plan.value("horizon_min", 240.0);
    if (!(horizon >= 15 && horizon <= 1440)) return InvalidArgument("horizon_min", "15–1440");
    auto& g = *glucose_;
    auto uva = models::FindModel("uva_padova");
    if (!uva.ok()) return uva.error();
    sim::SimOptions options;
    options.tolerances.rtol = 1e-6;
    options.tolerances.atol = 1e-8;
    MEDTWIN_TRY(sim::LiveSimulation sim,
                sim::LiveSimulation::Create(**uva, g.filter.Parameters(), 0, options));
    const double vg = g.filter.Parameters()[models::uva::kParamVg];
    models::GlucoseInputs current = g.filter.inputs();
    models::GlucoseInputs proposed = current;
    if (plan.contains("basal_u_per_h")) {
      if (!plan["basal_u_per_h"].is_number() || plan["basal_u_per_h"] < 0 ||
          plan["basal_u_per_h"] > 40) {
        return InvalidArgument("basal_u_per_h", "0–40 U/h");
      }
      proposed.basal_u_per_min = plan["basal_u_per_h"].get<double>() / 60;
    }
    // Meals and boluses at their offsets, applied when the simulation reaches them.
    struct Item {
      double at;
      bool meal;
      double amount;
    };
    std::vector<Item> items;
    for (const char* key : {"meals", "insulin"}) {
      if (!plan.contains(key)) continue;
      if (!plan[key].is_array()) return InvalidArgument(key, "an array");
      for (const auto& m : plan[key]) {
        const bool meal = std::string(key) == "meals";
        const char* amount_key = meal ? "grams" : "units";
        if (!m.is_object() || !m.value("in_min", json()).is_number() ||
            !m.value(amount_key, json()).is_number() || m["in_min"] < 0 || m["in_min"] > horizon ||
            m[amount_key] <= 0 || m[amount_key] > (meal ? 500 : 50)) {
          return InvalidArgument(key, std::string("each needs in_min (0–horizon) and ") +
                                          amount_key + (meal ? " (0–500)" : " (0–50)"));
        }
        items.push_back({m["in_min"].get<double>(), meal, m[amount_key].get<double>()});
      }
    }
    std::sort(items.begin(), items.end(), [](const Item& a, const Item& b) { return a.at < b.at; });
    // BG every 15 min from the twin's mean state under `inputs`, with `plan_items` given on the
    // way (none for the current inputs).
    auto run = [&](models::GlucoseInputs inputs,
                   const std::vector<Item>& plan_items) -> Result<json> {
      sim.Restore(g.filter.MeanCheckpoint());
      const double t0 = g.filter.time();
      json points = json::array();
      double lo = 1e9, hi = 0;
      std::size_t next = 0;
      for (double dt = 15; dt <= horizon + 1e-9; dt += 15) {
        for (; next < plan_items.size() && plan_items[next].at < dt; ++next) {
          const Item& it = plan_items[next];
          MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(sim, inputs, t0 + it.at));
          if (it.meal) {
            inputs.StartMeal(t0 + it.at, it.amount);
          } else {
            inputs.GiveBolus(t0 + it.at, it.amount);
          }
        }
        MEDTWIN_RETURN_IF_ERROR(models::AdvanceGlucose(sim, inputs, t0 + dt));
        const double bg = sim.state()[models::uva::kGp] / vg;
        lo = std::min(lo, bg);
        hi = std::max(hi, bg);
        points.push_back({{"minutes_ahead", dt}, {"bg_mg_dl", bg}});
      }
      return json{{"points", points}, {"lowest_mg_dl", lo}, {"highest_mg_dl", hi}};
    };
    MEDTWIN_TRY(json base, run(current, {}));
    MEDTWIN_TRY(json with_plan, run(proposed, items));
    return json{{"model", "glucose"}, {"current", base}, {"proposed", with_plan}};
  }
  return InvalidArgument("model",
                         "'" + model.substr(0, 24) + "' is not vancomycin, warfarin or glucose");
}

const Alert* LiveTwin::CheckDrug(const std::string& drug, Instant t,
                                 std::uint64_t (*next_alert_id)()) {
  if (record_.genotype.empty()) return nullptr;
  const auto g = GuidanceFor(record_, drug);
  if (!g || !g->Conflicts()) return nullptr;
  const bool severe =
      g->action == "avoid" || (g->action == "alternative" && g->strength == "strong");
  std::string genotype;
  for (const auto& x : g->genotype) genotype += (genotype.empty() ? "" : "; ") + x;
  return Raise("pgx-" + g->drug, severe ? Severity::kHigh : Severity::kMedium, t,
               g->drug + " with " + genotype + ": " + g->recommendation + " (" + g->source + ")",
               next_alert_id);
}

std::vector<Alert> LiveTwin::CheckPrescriptions(Instant t, std::uint64_t (*next_alert_id)()) {
  std::vector<Alert> out;
  for (const auto& drug : drugs_) {
    if (const Alert* a = CheckDrug(drug, t, next_alert_id)) out.push_back(*a);
  }
  return out;
}

std::vector<Alert> LiveTwin::ApplyEvent(const io::Event& e, std::uint64_t (*next_alert_id)()) {
  std::vector<Alert> raised;
  if ((e.type == "dose" || e.type == "order") && !e.drug.empty()) {
    std::string drug = e.drug;
    std::transform(drug.begin(), drug.end(), drug.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    if (std::find(drugs_.begin(), drugs_.end(), drug) == drugs_.end() && drugs_.size() < 64) {
      drugs_.push_back(drug);
    }
    if (next_alert_id != nullptr) {
      if (const Alert* a = CheckDrug(drug, e.time, next_alert_id)) raised.push_back(*a);
    }
  }
  ApplyEventToModels(e);
  return raised;
}

void LiveTwin::ApplyEventToModels(const io::Event& e) {
  if (e.type == "order") {
    if (!drug_) drug_ = std::make_unique<DrugTwin>();
    drug_->orders.push_back(e);
    if (drug_->orders.size() > 10) drug_->orders.erase(drug_->orders.begin());
    return;
  }
  if (e.type == "ack") {  // a stored acknowledgement, replayed
    for (auto& a : alerts_) {
      if (a.kind == e.alert_kind && a.raised_at == e.alert_raised_at && a.status == "open") {
        a.status = "acknowledged";
        a.acknowledged_by = e.by;
      }
    }
    return;
  }
  const auto* spec = DrugSpec();
  if (e.type == "dose" && spec != nullptr && e.drug == spec->drug) {
    if (!drug_) drug_ = std::make_unique<DrugTwin>();
    drug_->doses.push_back(e);
    std::stable_sort(drug_->doses.begin(), drug_->doses.end(),
                     [](const io::Event& a, const io::Event& b) { return a.time < b.time; });
    return;
  }
  GlucoseTwin* g = Glucose(e.time);
  if (g == nullptr) return;
  const double t = GlucoseMinutes(*g, e.time);
  if (t < g->filter.time()) return;  // the filter has moved past it
  if (t > g->filter.time() && !g->filter.Predict(t).ok()) return;
  auto& in = g->filter.inputs();
  if (e.type == "meal") {
    in.StartMeal(t, e.amount);
    if (!record_.closed_loop.empty()) g->announced_meal_g += e.amount;
  }
  if (e.type == "insulin") in.GiveBolus(t, e.amount);
  if (e.type == "basal") in.basal_u_per_min = e.rate / 60.0;
}

std::string_view SeverityName(Severity s) {
  switch (s) {
    case Severity::kLow:
      return "low";
    case Severity::kLowMedium:
      return "low-medium";
    case Severity::kMedium:
      return "medium";
    case Severity::kHigh:
      return "high";
    case Severity::kCritical:
      return "critical";
  }
  return "low";
}

json OrderToJson(const io::Event& o) {
  if (o.drug == "insulin") {
    return {{"kind", "order"},      {"status", "draft"},
            {"patient", o.patient}, {"drug", o.drug},
            {"bolus_u", o.amount},  {"basal_u_per_h", o.rate >= 0 ? json(o.rate) : json(nullptr)},
            {"accepted_by", o.by},  {"accepted_at", FormatRfc3339(o.time)}};
  }
  return {{"kind", "order"},
          {"status", "draft"},
          {"patient", o.patient},
          {"drug", o.drug},
          {"dose_mg", o.amount},
          {"interval_h", o.interval_h},
          {"infusion_h", o.duration_h},
          {"accepted_by", o.by},
          {"accepted_at", FormatRfc3339(o.time)}};
}

json AlertToJson(const Alert& a) {
  return {{"id", std::to_string(a.id)},
          {"patient", a.patient},
          {"kind", a.kind},
          {"severity", SeverityName(a.severity)},
          {"status", a.status},
          {"raised_at", FormatRfc3339(a.raised_at)},
          {"updated_at", FormatRfc3339(a.updated_at)},
          {"message", a.message},
          {"escalations", a.escalations},
          {"acknowledged_by", a.acknowledged_by}};
}

void LiveTwin::RateWindow::Push(Instant t, double v, std::int64_t window_us, bool keep_raw) {
  while (!mins.empty() && mins.back().second >= v) mins.pop_back();
  mins.emplace_back(t, v);
  while (!maxs.empty() && maxs.back().second <= v) maxs.pop_back();
  maxs.emplace_back(t, v);
  const std::int64_t oldest = t.us_since_epoch - window_us;
  while (mins.front().first.us_since_epoch < oldest) mins.pop_front();
  while (maxs.front().first.us_since_epoch < oldest) maxs.pop_front();
  if (keep_raw) {
    raw.emplace_back(t, v);
    while (!raw.empty() && (raw.front().first.us_since_epoch < oldest || raw.size() > 256)) {
      raw.pop_front();
    }
  }
}

const Alert* LiveTwin::Raise(const std::string& kind, Severity severity, Instant t,
                             std::string message, std::uint64_t (*next_alert_id)()) {
  for (auto& a : alerts_) {
    if (a.kind != kind || a.status == "resolved") continue;
    if (severity > a.severity) {  // escalate: back to open even if acknowledged
      a.severity = severity;
      a.status = "open";
      a.updated_at = t;
      a.message = std::move(message);
      ++a.escalations;
      return &a;
    }
    if (severity < a.severity) {  // better but not resolved: de-escalate
      a.severity = severity;
      a.updated_at = t;
      a.message = std::move(message);
      return &a;
    }
    return nullptr;  // the same condition again: deduplicated
  }
  Alert a;
  a.id = next_alert_id();
  a.patient = record_.id;
  a.kind = kind;
  a.severity = severity;
  a.raised_at = a.updated_at = t;
  a.message = std::move(message);
  alerts_.push_back(std::move(a));
  // Keep the list bounded: drop the oldest resolved alerts beyond 50.
  if (alerts_.size() > 50) {
    auto it = std::find_if(alerts_.begin(), alerts_.end(),
                           [](const Alert& x) { return x.status == "resolved"; });
    if (it != alerts_.end()) alerts_.erase(it);
  }
  return &alerts_.back();
}

const Alert* LiveTwin::Resolve(const std::string& kind, Instant t) {
  for (auto& a : alerts_) {
    if (a.kind == kind && a.status != "resolved") {
      a.status = "resolved";
      a.updated_at = t;
      return &a;
    }
  }
  return nullptr;
}

monitor::News2Score ScoreLatestVitals(const std::map<std::string, LatestValue>& latest,
                                      int spo2_scale) {
  // The newest vital sign sets the reference time; older than 4 h before it does not count.
  Instant newest{};
  for (auto code : kNews2VitalCodes) {
    auto it = latest.find(std::string(code));
    if (it != latest.end()) newest = std::max(newest, it->second.time);
  }
  auto fresh = [&](std::string_view code) -> const LatestValue* {
    auto it = latest.find(std::string(code));
    if (it == latest.end()) return nullptr;
    if (it->second.time.us_since_epoch < newest.us_since_epoch - kNews2WindowUs) return nullptr;
    return &it->second;
  };
  monitor::VitalSigns v;
  v.spo2_scale2 = spo2_scale == 2;
  if (const auto* l = fresh(loinc::kRespiratoryRate)) v.respiration_per_min = l->value;
  if (const auto* l = fresh(loinc::kSpo2)) v.spo2_percent = l->value;
  if (const auto* l = fresh(loinc::kInhaledO2Flow)) v.on_oxygen = l->value > 0;
  if (const auto* l = fresh(loinc::kSystolicBp)) v.systolic_mmhg = l->value;
  if (const auto* l = fresh(loinc::kHeartRate)) v.pulse_per_min = l->value;
  if (const auto* l = fresh(loinc::kConsciousness)) v.consciousness = monitor::ParseAcvpu(l->text);
  if (const auto* l = fresh(loinc::kBodyTemperature)) v.temperature_c = l->value;
  return monitor::ScoreNews2(v);
}

std::vector<News2Point> News2History(std::vector<io::Observation> observations, int spo2_scale) {
  std::stable_sort(
      observations.begin(), observations.end(),
      [](const io::Observation& a, const io::Observation& b) { return a.time < b.time; });
  std::map<std::string, LatestValue> latest;
  std::vector<News2Point> out;
  for (std::size_t i = 0; i < observations.size(); ++i) {
    const io::Observation& o = observations[i];
    if (std::find(kNews2VitalCodes.begin(), kNews2VitalCodes.end(), o.code) ==
        kNews2VitalCodes.end()) {
      continue;
    }
    latest[o.code] = {o.value, o.text, o.time};
    // Score once per instant, after every observation made at it.
    const bool last_at_instant = i + 1 == observations.size() || observations[i + 1].time != o.time;
    if (last_at_instant) out.push_back({o.time, ScoreLatestVitals(latest, spo2_scale)});
  }
  return out;
}

json News2ToJson(const monitor::News2Score& s) {
  json parts = json::object();
  for (std::size_t i = 0; i < s.parts.size(); ++i) {
    parts[monitor::News2Score::kParts[i]] = s.parts[i] ? json(*s.parts[i]) : json(nullptr);
  }
  return {{"total", s.total ? json(*s.total) : json(nullptr)},
          {"complete", s.complete},
          {"risk", s.risk ? json(std::string(monitor::News2RiskName(*s.risk))) : json(nullptr)},
          {"parts", parts}};
}

monitor::News2Score LiveTwin::News2() const {
  return ScoreLatestVitals(latest_, record_.spo2_scale);
}

TwinUpdate LiveTwin::Apply(const io::Observation& o, std::uint64_t (*next_alert_id)(), bool live) {
  TwinUpdate update;
  auto& latest = latest_[o.code];
  const bool newest = o.time >= latest.time;
  if (newest) latest = {o.value, o.text, o.time};
  // Late observations go to history (the store) but do not replace the present state.
  if (!newest) return update;
  auto note = [&](const Alert* a) {
    if (a != nullptr) update.alerts.push_back(*a);
  };

  // Rate-of-change history.
  const bool rated =
      o.code == loinc::kHeartRate || o.code == loinc::kSystolicBp || o.code == loinc::kCgmGlucose;
  if (rated) recent_[o.code].Push(o.time, o.value, kRateWindowUs, o.code == loinc::kCgmGlucose);

  // Threshold rules (values as stored: canonical units).
  if (o.code == loinc::kSpo2) {
    const double limit = record_.spo2_scale == 2 ? 85 : 90;
    if (o.value < limit) {
      note(Raise("spo2-low", o.value < limit - 5 ? Severity::kCritical : Severity::kHigh, o.time,
                 Fmt("SpO2 %.0f %%", o.value), next_alert_id));
    } else if (o.value >= limit + 2) {
      note(Resolve("spo2-low", o.time));
    }
  }
  if (o.code == loinc::kBloodGlucose || o.code == loinc::kCgmGlucose) {
    if (o.value < 70) {
      note(Raise("hypoglycemia", o.value < 54 ? Severity::kCritical : Severity::kHigh, o.time,
                 Fmt("glucose %.0f mg/dL", o.value), next_alert_id));
    } else if (o.value >= 80) {
      note(Resolve("hypoglycemia", o.time));
    }
    if (o.value > 300) {
      note(Raise("hyperglycemia", Severity::kMedium, o.time, Fmt("glucose %.0f mg/dL", o.value),
                 next_alert_id));
    } else if (o.value < 250) {
      note(Resolve("hyperglycemia", o.time));
    }
  }
  if (o.code == loinc::kSystolicBp) {
    if (o.value < 90) {
      note(Raise("hypotension", Severity::kHigh, o.time, Fmt("systolic %.0f mmHg", o.value),
                 next_alert_id));
    } else if (o.value >= 100) {
      note(Resolve("hypotension", o.time));
    }
  }
  // Rate rules over the last hour: a rise of 30 /min in heart rate, a fall of 30 mmHg in
  // systolic pressure, a CGM fall faster than 2 mg/dL/min over 15 min.
  if (rated) {
    const auto& h = recent_[o.code];
    const double lo = h.mins.front().second, hi = h.maxs.front().second;
    if (o.code == loinc::kHeartRate) {
      if (o.value - lo >= 30) {
        note(Raise("heart-rate-rising", Severity::kMedium, o.time,
                   Fmt("heart rate up %.0f /min within the hour", o.value - lo), next_alert_id));
      } else if (o.value - lo < 15) {
        note(Resolve("heart-rate-rising", o.time));
      }
    }
    if (o.code == loinc::kSystolicBp) {
      if (hi - o.value >= 30) {
        note(Raise("systolic-falling", Severity::kMedium, o.time,
                   Fmt("systolic down %.0f mmHg within the hour", hi - o.value), next_alert_id));
      } else if (hi - o.value < 15) {
        note(Resolve("systolic-falling", o.time));
      }
    }
    if (o.code == loinc::kCgmGlucose) {
      for (const auto& [t, v] : h.raw) {
        const double minutes = static_cast<double>(o.time.us_since_epoch - t.us_since_epoch) / 6e7;
        if (minutes >= 15 && minutes <= 20) {
          const double slope = (o.value - v) / minutes;
          if (slope < -2) {
            note(Raise("glucose-falling-fast", Severity::kMedium, o.time,
                       Fmt("glucose falling %.1f mg/dL/min", -slope), next_alert_id));
          } else if (slope > -1) {
            note(Resolve("glucose-falling-fast", o.time));
          }
          break;
        }
      }
    }
  }

  // A drug level refits the drug twin and renews its dose recommendation.
  const auto* spec = DrugSpec();
  if (spec != nullptr && o.code == spec->level_code &&
      (!record_.population_model.empty() || !spec->default_population_model.empty())) {
    if (!drug_) drug_ = std::make_unique<DrugTwin>();
    drug_->levels.emplace_back(o.time, o.value);
    if (live) {
      RefitDrugTwin();
      update.recommendation_changed = !drug_->recommendation.is_null();
    } else {
      drug_->stale = true;
    }
  }

  // The glucose twin assimilates CGM readings and warns of predicted hypoglycemia.
  if (o.code == loinc::kCgmGlucose) {
    if (GlucoseTwin* g = Glucose(o.time); g != nullptr) {
      const double t = GlucoseMinutes(*g, o.time);
      bool ok = t >= g->filter.time();
      if (ok && t > g->filter.time()) ok = g->filter.Predict(t).ok();
      if (ok) ok = g->filter.Update(o.value).ok();
      if (ok) {
        auto path = g->filter.ForecastMean(30, 5);
        if (path.ok() && !path->empty()) {
          g->forecast30_mg_dl = path->back();
          g->lowest30_mg_dl = *std::min_element(path->begin(), path->end());
          if (g->lowest30_mg_dl < 70 && o.value >= 70) {
            g->predicted_hypo = true;
            note(Raise(
                "hypoglycemia-predicted", Severity::kHigh, o.time,
                Fmt("glucose predicted to fall to %.0f mg/dL within 30 min", g->lowest30_mg_dl),
                next_alert_id));
          } else if (g->lowest30_mg_dl > 80) {
            g->predicted_hypo = false;
            note(Resolve("hypoglycemia-predicted", o.time));
          }
        }
        if (!record_.closed_loop.empty()) update.command = CloseTheLoop(*g, t, o);
      }
    }
  }

  // NEWS2 on every vital sign.
  const monitor::News2Score score = News2();
  if (score.total != last_total_ || score.risk != last_risk_) update.news2_changed = true;
  last_total_ = score.total;
  last_risk_ = score.risk;
  if (score.risk && *score.risk != monitor::News2Risk::kLow) {
    const Severity sev = *score.risk == monitor::News2Risk::kHigh     ? Severity::kHigh
                         : *score.risk == monitor::News2Risk::kMedium ? Severity::kMedium
                                                                      : Severity::kLowMedium;
    note(Raise("news2", sev, o.time,
               "NEWS2 " + std::to_string(*score.total) + " (" +
                   std::string(monitor::News2RiskName(*score.risk)) + " risk)",
               next_alert_id));
  } else if (score.risk) {
    note(Resolve("news2", o.time));
  }
  return update;
}

json LiveTwin::News2Json() const {
  json out = News2ToJson(News2());
  out["spo2_scale"] = record_.spo2_scale;
  return out;
}

json LiveTwin::ToJson(bool forecast_bands) {
  json latest = json::object();
  for (const auto& [code, l] : latest_) {
    const io::ObservationCode* c = io::FindObservationCode(code);
    json v = {{"time", FormatRfc3339(l.time)}};
    if (c != nullptr && c->coded) {
      v["value"] = l.text;
    } else {
      v["value"] = l.value;
      v["unit"] = c != nullptr ? std::string(c->unit) : "";
    }
    if (c != nullptr) v["name"] = std::string(c->name);
    latest[code] = v;
  }
  json news2 = News2Json();
  json model_state = json::object();
  if (glucose_) {
    auto& g = *glucose_;
    const auto est = g.filter.EstimatedParameters();
    const auto& names = g.filter.estimated_names();
    json params = json::object();
    for (std::size_t k = 0; k < est.size(); ++k) params[names[k]] = est[k];
    const auto at = [&](double minutes) {
      return FormatRfc3339(
          Instant{g.origin.us_since_epoch + static_cast<std::int64_t>(minutes * 6e7)});
    };
    json glucose = {
        {"model", "uva_padova"},
        {"parameters_from", g.virtual_patient},
        {"time", at(g.filter.time())},
        {"bg_estimate_mg_dl", g.filter.bg_mg_dl()},
        {"estimated_parameters", params},
        {"forecast30_mg_dl", g.forecast30_mg_dl},
        {"lowest_next_30min_mg_dl", g.lowest30_mg_dl},
        {"hypoglycemia_predicted", g.predicted_hypo},
        {"closed_loop", record_.closed_loop.empty() ? json(nullptr) : json(record_.closed_loop)}};
    if (!g.last_command.is_null()) glucose["last_command"] = g.last_command;
    if (forecast_bands) {
      json bands = json::array();
      auto f = g.filter.Forecast(120, 30);
      if (f.ok()) {
        // Steps at 30, 60, 90 and 120 min: report 30, 60 and 120 (by index: the filter's
        // clock is in fractional minutes, so comparing times would be fragile).
        for (std::size_t k : {std::size_t{0}, std::size_t{1}, std::size_t{3}}) {
          if (k >= f->size()) break;
          const auto& p = (*f)[k];
          bands.push_back({{"time", at(p.t_min)},
                           {"minutes_ahead", 30 * (k + 1)},
                           {"mean_mg_dl", p.mean_mg_dl},
                           {"p05_mg_dl", p.p05_mg_dl},
                           {"p95_mg_dl", p.p95_mg_dl}});
        }
      }
      glucose["forecast"] = bands;
    }
    model_state["glucose"] = glucose;
  }
  json recommendations = json::array(), orders = json::array();
  if (drug_ && drug_->stale) RefitDrugTwin();
  if (const auto* spec = DrugSpec(); spec != nullptr && spec->model == "warfarin") {
    // Before (and beside) the INR-driven fit: the IWPC pharmacogenetic starting dose.
    model_state["warfarin"] = drug_ && !drug_->state.empty() ? drug_->state : json::object();
    model_state["warfarin"]["iwpc"] = IwpcStartingDose();
  }
  if (drug_) {
    const auto* spec = DrugSpec();
    if (!drug_->state.empty() && spec != nullptr && spec->model != "warfarin") {
      model_state[std::string(spec->model)] = drug_->state;
    }
    if (!drug_->recommendation.is_null()) recommendations.push_back(drug_->recommendation);
    for (const auto& o : drug_->orders) orders.push_back(OrderToJson(o));
  }
  json open = json::array();
  for (const auto& a : alerts_) {
    if (a.status != "resolved") open.push_back(AlertToJson(a));
  }
  return {{"patient", PatientToJson(record_)},
          {"latest", latest},
          {"news2", news2},
          {"alerts", open},
          {"models", record_.models},
          {"model_state", model_state},
          {"recommendations", recommendations},
          {"orders", orders}};
}

std::size_t LiveTwin::ApproxBytes() const {
  std::size_t bytes = sizeof(*this) + record_.id.size() + record_.name.size();
  bytes += latest_.size() * (sizeof(Latest) + 64);
  for (const auto& [code, h] : recent_) {
    bytes += 64 + (h.mins.size() + h.maxs.size() + h.raw.size()) * 16;
  }
  bytes += alerts_.size() * (sizeof(Alert) + 64);
  return bytes;
}

}  // namespace medtwin::twin
