#include "medtwin/twin/drug_twin.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

#include "medtwin/decide/exposure.h"
#include "medtwin/decide/warfarin_dose.h"
#include "medtwin/estimate/map_estimator.h"
#include "medtwin/io/observation.h"
#include "medtwin/models/warfarin.h"
#include "medtwin/pgx/warfarin.h"
#include "medtwin/twin/pharmacogenomics.h"

namespace medtwin::twin {
namespace {

namespace loinc = io::loinc;

// The drug twin's vancomycin target: AUC24 400–600 mg·h/L (shared by the advice and what-if).
decide::Target VancomycinTarget() {
  decide::Target target;
  target.has_auc24 = true;
  target.auc24_lo = 400;
  target.auc24_hi = 600;
  return target;
}

const std::vector<DrugTwinSpec>& DrugTwinSpecs() {
  static const std::vector<DrugTwinSpec> specs = [] {
    // Vancomycin: AUC24 400-600 mg·h/L (ASHP/IDSA 2020), infusions every 8, 12 or 24 h.
    decide::RegimenSearch infusions;
    infusions.samples = 100;  // fewer than the CLI's: ~0.2 s per level
    // Before any dose: 1 g every 12 h over 1 h, a usual adult start (ASHP/IDSA 2020 suggest
    // 15-20 mg/kg per dose).
    DrugTwinSpec vanco{.model = "vancomycin",
                       .drug = "vancomycin",
                       .level_code = loinc::kVancomycin,
                       .default_population_model = "",  // the record names one
                       .target = VancomycinTarget(),
                       .target_text = "AUC24 400-600 mg*h/L",
                       .menu = infusions,
                       .default_regimen = {1000, 12, 1}};
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
    // The INR follows a dose change over days: a week ahead on a 2-h grid.
    DrugTwinSpec warfarin{.model = "warfarin",
                          .drug = "warfarin",
                          .level_code = loinc::kInr,
                          .default_population_model = "warfarin_hamberg2007",
                          .target = inr,
                          .target_text = "INR 2-3",
                          .menu = daily,
                          .forecast_h = 168,
                          .forecast_step_h = 2,
                          .default_regimen = {5, 24, 0}};  // 5 mg a day (IWPC 2009's fixed start)
    warfarin.what_if_max_dose_mg = 50;  // tablets are 0.5-10 mg; 50 mg a day is a typo
    return std::vector<DrugTwinSpec>{vanco, warfarin};
  }();
  return specs;
}

constexpr int kForecastDraws = 100;
constexpr unsigned kForecastSeed = 20240611;

// From now on: the history's doses up to the regimen's start, then the regimen's doses from
// `start_h` (hours since the first dose) every interval until `end_h`; concentration (the
// model's first output) on a grid from `from_h` to `end_h`, at η̂ and over posterior draws.
Result<std::vector<DrugForecastPoint>> ForecastFromNow(estimate::MapEstimator& estimator,
                                                       const DrugFit& fit,
                                                       const DrugHistory& history, Instant origin,
                                                       double now_h, const decide::Regimen& reg,
                                                       double start_h, double end_h,
                                                       double step_h) {
  auto hours = [&](Instant t) {
    return static_cast<double>(t.us_since_epoch - origin.us_since_epoch) / 3.6e9;
  };
  sim::Subject subject;
  subject.id = "forecast";
  auto add = [&](double t, sim::Evid evid, double amt, double rate) {
    sim::Record r;
    r.time = t;
    r.evid = evid;
    r.amt = amt;
    r.rate = rate;
    r.covariates = fit.posterior.covariates;
    subject.records.push_back(std::move(r));
  };
  for (const auto& e : history.doses) {
    const double t = hours(e.time);
    if (t >= start_h) break;  // the regimen replaces what was planned from its start
    add(t, sim::Evid::kDose, e.amount, e.duration_h > 0 ? e.amount / e.duration_h : 0);
  }
  for (int k = 0; start_h + k * reg.interval_h <= end_h + 1e-9; ++k) {
    add(start_h + k * reg.interval_h, sim::Evid::kDose, reg.dose_mg,
        reg.infusion_h > 0 ? reg.dose_mg / reg.infusion_h : 0);
  }
  std::vector<double> grid;
  // The grid in hours from now (exact multiples of the step from −24 h, or from the first dose
  // if that is later), and in hours since the first dose for the simulation.
  std::vector<double> from_now;
  const double first_k = std::ceil(std::max(-24.0, -now_h) / step_h - 1e-9);
  for (int k = 0; (first_k + k) * step_h <= end_h - now_h + 1e-9; ++k) {
    from_now.push_back((first_k + k) * step_h);
    grid.push_back(now_h + from_now.back());
    add(grid.back(), sim::Evid::kObservation, 0, 0);
  }
  // By time, doses before observations at equal times (they were added first, and the sort
  // is stable): a dose at a grid time counts there. The grid points are then the observation
  // rows, in order.
  std::stable_sort(subject.records.begin(), subject.records.end(),
                   [](const sim::Record& a, const sim::Record& b) { return a.time < b.time; });
  std::vector<std::size_t> grid_at;
  for (std::size_t row = 0; row < subject.records.size(); ++row) {
    if (subject.records[row].evid == sim::Evid::kObservation) grid_at.push_back(row);
  }
  MEDTWIN_TRY(std::vector<double> mean, estimator.Simulate(subject, fit.posterior.eta));
  std::vector<std::vector<double>> draws(grid.size());
  for (const auto& eta : estimate::SamplePosterior(fit.posterior.eta, fit.posterior.covariance,
                                                   kForecastDraws, kForecastSeed)) {
    auto c = estimator.Simulate(subject, eta);
    if (!c.ok()) continue;
    for (std::size_t k = 0; k < grid.size(); ++k) draws[k].push_back((*c)[grid_at[k]]);
  }
  std::vector<DrugForecastPoint> points;
  for (std::size_t k = 0; k < grid.size(); ++k) {
    DrugForecastPoint p;
    p.time = Instant{origin.us_since_epoch + static_cast<std::int64_t>(grid[k] * 3.6e9)};
    p.hours_from_now = from_now[k];
    p.mg_l = mean[grid_at[k]];
    if (!draws[k].empty()) {
      p.p05_mg_l = decide::Quantile(draws[k], 0.05);
      p.p95_mg_l = decide::Quantile(draws[k], 0.95);
    }
    points.push_back(p);
  }
  return points;
}

}  // namespace

const DrugTwinSpec* DrugSpecFor(const record::PatientRecord& record) {
  for (const auto& model : record.models) {
    if (const DrugTwinSpec* spec = DrugSpecNamed(model)) return spec;
  }
  return nullptr;
}

const DrugTwinSpec* DrugSpecNamed(std::string_view model) {
  for (const auto& spec : DrugTwinSpecs()) {
    if (spec.model == model) return &spec;
  }
  return nullptr;
}

double GenotypeCovariate(const record::PatientRecord& record, const std::string& name,
                         std::vector<std::string>* notes) {
  auto data = pgx::PgxData::Default();
  pgx::IwpcGenotypes g;
  if (data.ok()) g = pgx::WarfarinGenotypes(GeneCallsOf(record), **data);
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

Result<IwpcStart> IwpcStartingDose(const record::PatientRecord& record,
                                   const std::vector<std::string>& drugs_given, Instant now) {
  decide::WarfarinPatient p;
  std::vector<std::string> notes;
  if (!record.birth_date || !record.height_cm || !record.weight_kg) {
    return Error{ErrorCode::kFailedPrecondition, "",
                 "needs birth_date, height_cm and weight_kg on the record"};
  }
  auto born = ParseRfc3339(*record.birth_date + "T00:00:00Z");
  if (!born.ok()) return InvalidArgument("birth_date", "not a date");
  p.age_years = static_cast<double>(now.us_since_epoch - born->us_since_epoch) / (365.25 * 86400e6);
  p.height_cm = *record.height_cm;
  p.weight_kg = *record.weight_kg;
  // "other" (and an unrecorded race) fall in IWPC's missing/mixed category.
  auto race = decide::ParseIwpcRace(record.race == "other" ? "" : record.race);
  p.race = race.ok() ? *race : decide::IwpcRace::kMissingOrMixed;
  for (const auto& d : drugs_given) {
    if (d == "carbamazepine" || d == "phenytoin" || d == "rifampin" || d == "rifampicin") {
      p.enzyme_inducer = true;
    }
    if (d == "amiodarone") p.amiodarone = true;
  }
  if (auto data = pgx::PgxData::Default(); data.ok()) {
    const auto g = pgx::WarfarinGenotypes(GeneCallsOf(record), **data);
    p.cyp2c9 = g.cyp2c9;
    p.vkorc1 = g.vkorc1;
    notes = g.notes;
  }
  MEDTWIN_TRY(decide::WarfarinDose dose, decide::IwpcPharmacogeneticDose(p));
  if (record.race.empty() || record.race == "unknown") {
    notes.push_back("race not recorded: IWPC's missing/mixed category");
  }
  return IwpcStart{dose.weekly_mg,
                   dose.daily_mg,
                   p.cyp2c9,
                   p.vkorc1,
                   p.enzyme_inducer,
                   p.amiodarone,
                   record.race,
                   std::move(notes),
                   "IWPC pharmacogenetic algorithm, N Engl J Med 2009;360:753"};
}

DrugFit FitDrugTwin(const DrugFitJob& job) {
  DrugFit out;
  out.announce = job.announce;
  const DrugTwinSpec* spec = job.spec;
  if (spec == nullptr || job.doses.empty() || job.levels.empty()) return out;
  const record::PatientRecord& record = job.record;
  const std::string population = record.population_model.empty()
                                     ? std::string(spec->default_population_model)
                                     : record.population_model;
  auto pop = estimate::FindPopulationModel(population);
  if (!pop.ok()) {
    out.error = pop.error().ToString();
    return out;
  }
  auto estimator = estimate::MapEstimator::Create(*pop);
  if (!estimator.ok()) {
    out.error = estimator.error().ToString();
    return out;
  }
  // Records in hours since the first dose, covariates from the patient record on each record.
  const Instant origin = job.doses.front().time;
  auto hours = [&](Instant t) {
    return static_cast<double>(t.us_since_epoch - origin.us_since_epoch) / 3.6e9;
  };
  std::vector<std::string> notes;
  const std::vector<std::string>& names = estimator->data_info().covariates;
  std::vector<double> covariates(names.size(), std::numeric_limits<double>::quiet_NaN());
  const bool dialysis =
      std::any_of(record.conditions.begin(), record.conditions.end(),
                  [](const std::string& c) { return c.find("dialysis") != std::string::npos; });
  for (std::size_t k = 0; k < names.size(); ++k) {
    const std::string& n = names[k];
    if (n == "WT" && record.weight_kg) covariates[k] = *record.weight_kg;
    if (n == "SCR" && record.scr_mg_dl) covariates[k] = *record.scr_mg_dl;
    if (n == "SEX" && (record.sex == "female" || record.sex == "male")) {
      covariates[k] = record.sex == "female" ? 1 : 0;
    }
    if (n == "DIAL") covariates[k] = dialysis ? 1 : 0;
    if (n == "CYP2C9" || n == "VKORC1") covariates[k] = GenotypeCovariate(record, n, &notes);
    if (n == "AGE" && record.birth_date) {
      auto born = ParseRfc3339(*record.birth_date + "T00:00:00Z");
      if (born.ok()) {
        covariates[k] = std::floor(
            static_cast<double>(origin.us_since_epoch - born->us_since_epoch) / (365.25 * 86400e6));
      }
    }
  }
  sim::Subject subject;
  subject.id = record.id;
  std::vector<std::pair<double, sim::Record>> records;
  for (const auto& e : job.doses) {
    sim::Record r;
    r.time = hours(e.time);
    r.evid = sim::Evid::kDose;
    r.amt = e.amount;
    r.rate = e.duration_h > 0 ? e.amount / e.duration_h : 0;
    r.covariates = covariates;
    records.emplace_back(r.time, r);
  }
  for (const auto& [t, v] : job.levels) {
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
    out.error = fit.error().ToString();
    return out;
  }
  out.model = std::make_shared<const estimate::PopulationModel>(*pop);
  out.posterior = {fit->eta, fit->eta_covariance, decide::LatestCovariates(subject, names.size())};
  DrugFitSummary& summary = out.summary.emplace();
  for (std::size_t k = 0; k < fit->parameter_names.size(); ++k) {
    summary.parameters.emplace_back(fit->parameter_names[k], fit->parameters[k]);
    summary.parameter_se.emplace_back(fit->parameter_names[k], fit->parameter_se[k]);
  }
  for (std::size_t k = 0; k < pop->eta_names.size(); ++k) {
    summary.eta.emplace_back(pop->eta_names[k], fit->eta(static_cast<Eigen::Index>(k)));
  }
  for (const auto& p : fit->predictions) {
    summary.predictions.push_back({p.time, p.dv, p.ipred, p.pred});
  }
  summary.population_model = pop->name;
  summary.drug = std::string(spec->drug);
  summary.notes = std::move(notes);
  summary.levels = job.levels.size();
  summary.doses = job.doses.size();
  summary.ofv = fit->ofv;
  // Rank the spec's menu for its target.
  auto ranked = decide::RankRegimens(*estimator, out.posterior, spec->target, spec->menu);
  if (!ranked.ok()) {
    summary.recommendation_error = ranked.error().ToString();
    return out;
  }
  if (ranked->empty()) return out;
  const auto& best = ranked->front();
  record::Recommendation rec;
  rec.drug = std::string(spec->drug);
  rec.dose_mg = best.regimen.dose_mg;
  rec.interval_h = best.regimen.interval_h;
  rec.infusion_h = best.regimen.infusion_h;
  rec.probability_of_target_attainment = best.pta;
  rec.target = std::string(spec->target_text);
  rec.basis = "MAP fit of " + std::to_string(job.levels.size()) + " level(s), " + pop->name;
  if (spec->model == "warfarin") {
    rec.predicted_inr_trough = best.trough;
    rec.predicted_inr_peak = best.cmax;
  } else {
    rec.predicted_auc24_mg_h_per_l = best.auc24;
    rec.predicted_trough_mg_l = best.trough;
  }
  out.recommendation = std::move(rec);
  return out;
}

Result<std::unique_ptr<WhatIfOutcome>> DrugWhatIf(const DrugTwinSpec& spec, const DrugFit& fit,
                                                  const DrugHistory& history, Instant now,
                                                  const DrugWhatIfPlan& plan) {
  if (!fit.model) {
    return InvalidArgument(
        "model", "the " + std::string(spec.model) + " twin has no fit yet (doses and a level)");
  }
  if (plan.regimens.empty() || plan.regimens.size() > 20) {
    return InvalidArgument("regimens", "1–20 regimens {dose_mg, interval_h, infusion_h}");
  }
  const double forecast_h = plan.forecast_h.value_or(spec.forecast_h);
  if (!(forecast_h >= 12 && forecast_h <= 336)) {
    return InvalidArgument("forecast_h", "hours to forecast after now, 12–336");
  }
  const double start_in_h = plan.start_in_h;
  if (!(start_in_h >= 0 && start_in_h <= 72)) {
    return InvalidArgument("start_in_h", "hours from now to the regimen's first dose, 0–72");
  }
  if (history.doses.empty()) return InvalidArgument("model", "the twin has no doses");
  auto out = std::make_unique<DrugWhatIfOutcome>();
  out->model = std::string(spec.model);
  out->target = std::string(spec.target_text);
  out->now = now;
  out->forecast_h = forecast_h;
  out->start_in_h = start_in_h;
  // Hours since the first dose, as the fit counts them.
  const Instant origin = history.doses.front().time;
  const double now_h = static_cast<double>(now.us_since_epoch - origin.us_since_epoch) / 3.6e9;
  for (const auto& [t, v] : history.levels) {
    const double h = static_cast<double>(t.us_since_epoch - now.us_since_epoch) / 3.6e9;
    if (h >= -24 && h <= forecast_h) out->observed.push_back({t, h, v});
  }
  // An estimator of its own: MapEstimator keeps scratch state, and what-ifs run on the
  // caller's thread.
  MEDTWIN_TRY(estimate::MapEstimator estimator, estimate::MapEstimator::Create(*fit.model));
  const decide::PatientPosterior& posterior = fit.posterior;
  const decide::Target target = spec.target;
  decide::RegimenSearch search;
  search.samples = 200;
  search.curve_bands = true;
  for (std::size_t i = 0; i < plan.regimens.size(); ++i) {
    const decide::Regimen& reg = plan.regimens[i];
    const std::string where = "regimens[" + std::to_string(i) + "]";
    if (std::isnan(reg.dose_mg) || std::isnan(reg.interval_h)) {
      return InvalidArgument(where, "needs dose_mg and interval_h");
    }
    if (!(reg.dose_mg >= kWhatIfMinDoseMg && reg.dose_mg <= spec.what_if_max_dose_mg) ||
        !(reg.interval_h >= kWhatIfMinIntervalH && reg.interval_h <= kWhatIfMaxIntervalH) ||
        !(reg.infusion_h >= 0 && reg.infusion_h < reg.interval_h)) {
      char limits[160];
      std::snprintf(limits, sizeof limits,
                    "dose %g–%g mg, interval %g–%g h, infusion shorter than the interval",
                    kWhatIfMinDoseMg, spec.what_if_max_dose_mg, kWhatIfMinIntervalH,
                    kWhatIfMaxIntervalH);
      return InvalidArgument(where, limits);
    }
    DrugRegimenForecast r;
    MEDTWIN_TRY(r.outcome, decide::EvaluateRegimen(estimator, posterior, reg, target, search));
    MEDTWIN_TRY(decide::Curve curve,
                decide::SteadyStateCurve(estimator, posterior, reg, posterior.eta));
    MEDTWIN_TRY(r.forecast,
                ForecastFromNow(estimator, fit, history, origin, now_h, reg, now_h + start_in_h,
                                now_h + forecast_h, spec.forecast_step_h));
    const decide::RegimenOutcome& o = r.outcome;
    for (std::size_t k = 0; k < curve.size(); k += 6) {  // every 30 min
      DrugCurvePoint p{curve[k].first, curve[k].second, std::nullopt, std::nullopt};
      if (k < o.curve_p05.size()) {
        p.p05_mg_l = o.curve_p05[k].second;
        p.p95_mg_l = o.curve_p95[k].second;
      }
      r.steady_state_curve.push_back(p);
    }
    r.outcome.regimen = reg;
    r.outcome.curve_p05.clear();
    r.outcome.curve_p95.clear();
    out->regimens.push_back(std::move(r));
  }
  return std::unique_ptr<WhatIfOutcome>(std::move(out));
}

}  // namespace medtwin::twin
