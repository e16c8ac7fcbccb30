#include "medtwin/cli/dose_command.h"

#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "medtwin/cli/command.h"
#include "medtwin/decide/regimen.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/models/registry.h"

namespace medtwin::cli {
namespace {

using nlohmann::json;

constexpr std::size_t kPatientsPerPlot = 4;  // readable: 4 bands, lines and point sets a page

// Default start of the new regimen: the dose after the last one the records give (last dose
// record + (ADDL+1)·II), or the last record's time when no dose repeats.
double NextDoseTime(const sim::Subject& s) {
  double t = s.records.empty() ? 0 : s.records.back().time;
  for (const auto& r : s.records) {
    if (r.evid == sim::Evid::kDose || r.evid == sim::Evid::kResetDose) {
      if (r.ii > 0) t = std::max(t, r.time + (r.addl + 1) * r.ii);
    }
  }
  return t;
}

json OutcomeJson(const decide::RegimenOutcome& o, const decide::Target& target) {
  json j = {{"dose_mg", o.regimen.dose_mg},
            {"interval_h", o.regimen.interval_h},
            {"infusion_h", o.regimen.infusion_h},
            {"auc24", o.auc24},
            {"trough", o.trough},
            {"cmax", o.cmax},
            {"pta", o.pta},
            {"auc24_quantiles", {o.auc24_p05, o.auc24_p50, o.auc24_p95}},
            {"trough_quantiles", {o.trough_p05, o.trough_p50, o.trough_p95}},
            {"cmax_quantiles", {o.cmax_p05, o.cmax_p50, o.cmax_p95}}};
  if (target.has_time_above_mic) j["time_above_mic_pct"] = o.time_above_mic_pct;
  return j;
}

// The regimen menu and the targets: the command line's where given, else the model file's
// "dosing" section; a model file without one (popfit's) gives the route by its structural
// model (a dose compartment named depot: oral) and needs the rest on the command line.
struct DosePlan {
  decide::Target target;
  decide::RegimenSearch search;
  std::string route;
  std::string targets_source;
};

Result<DosePlan> PlanDosing(const DoseArgs& args, const estimate::PopulationModel& pop,
                            const sim::ModelInfo& structural) {
  DosePlan plan;
  const estimate::DosingDefaults* file = pop.dosing ? &*pop.dosing : nullptr;
  const int dose_cmt = structural.default_dose_cmt;
  const bool depot = dose_cmt >= 1 &&
                     static_cast<std::size_t>(dose_cmt) <= structural.states.size() &&
                     structural.states[static_cast<std::size_t>(dose_cmt - 1)].name == "depot";
  plan.route = file != nullptr ? file->route : (depot ? "oral" : "bolus");
  const std::string no_section =
      "model " + pop.name + " has no \"dosing\" section (data/models/README.md): give ";
  std::vector<std::string> targets = args.targets;
  if (targets.empty() && file != nullptr) {
    targets = file->targets;
    plan.targets_source = file->targets_source;
  }
  if (targets.empty()) {
    return InvalidArgument(
        "--target",
        (file == nullptr ? no_section : "model " + pop.name + " names no targets: give ") +
            "--target, e.g. trough=5:15");
  }
  MEDTWIN_TRY(plan.target, decide::ParseTargets(targets), "model " + pop.name + " targets");
  plan.search.intervals_h = !args.intervals_h.empty() ? args.intervals_h
                            : file != nullptr         ? file->intervals_h
                                                      : std::vector<double>{8, 12, 24};
  auto pick = [&](double given, double from_file, const char* option) -> Result<double> {
    if (!std::isnan(given)) return given;
    if (file != nullptr) return from_file;
    return InvalidArgument(option, no_section + option);
  };
  MEDTWIN_TRY(plan.search.dose_step_mg,
              pick(args.dose_step_mg, file ? file->dose_step_mg : 0, "--dose-step"));
  MEDTWIN_TRY(plan.search.dose_max_mg,
              pick(args.dose_max_mg, file ? file->dose_max_mg : 0, "--dose-max"));
  double infusion_h = plan.route == "infusion" && file != nullptr ? file->infusion_h : 0;
  if (!std::isnan(args.infusion_h)) infusion_h = args.infusion_h;
  if (infusion_h > 0 && plan.route == "oral") {
    return InvalidArgument("--infusion-h", "model " + pop.name +
                                               "'s drug is given orally (into the depot): no "
                                               "infusion time");
  }
  if (infusion_h > 0) plan.route = "infusion";
  plan.search.infusion_h = {infusion_h};
  return plan;
}

}  // namespace

Status RunDose(const DoseArgs& args) {
  for (double ii : args.intervals_h) {
    if (!(ii > 0)) return InvalidArgument("--intervals", "intervals must be > 0 h");
  }
  if (args.infusion_h < 0) return InvalidArgument("--infusion-h", "must be >= 0");
  if (args.samples < 10) return InvalidArgument("--samples", "need at least 10");
  MEDTWIN_TRY(estimate::PopulationModel pop, estimate::FindPopulationModel(args.model));
  // What "trough" and the forecast are of: the model's observed output (CP in mg/L for PK
  // models, the INR for warfarin_hamberg2007).
  MEDTWIN_TRY(const sim::Model* structural, models::FindModel(pop.structural_model));
  MEDTWIN_TRY(DosePlan plan, PlanDosing(args, pop, structural->Info()));
  const decide::Target& target = plan.target;
  decide::RegimenSearch search = plan.search;
  search.samples = args.samples;
  std::vector<decide::Regimen> proposals;
  for (const auto& text : args.what_if) {
    MEDTWIN_TRY(decide::Regimen r, decide::ParseRegimen(text, search.infusion_h.front()));
    if (r.infusion_h > 0 && plan.route == "oral") {
      return InvalidArgument("--what-if " + text, "an oral drug has no infusion time");
    }
    proposals.push_back(r);
  }
  MEDTWIN_TRY(estimate::MapEstimator estimator,
              estimate::MapEstimator::Create(pop, SimOptionsFor(args.locf)));
  MEDTWIN_TRY(io::Dataset data, io::ReadNonmemCsv(args.data_path, estimator.data_info(),
                                                  IgnoringColumns(args.ignore_columns)));

  const sim::OutputSpec& observed = structural->Info().outputs.front();
  json advice = {{"model", pop.name},
                 {"target", target.ToString()},
                 {"dosing",
                  {{"route", plan.route},
                   {"intervals_h", search.intervals_h},
                   {"infusion_h", search.infusion_h.front()},
                   {"dose_step_mg", search.dose_step_mg},
                   {"dose_max_mg", search.dose_max_mg}}},
                 {"observed_output", {{"name", observed.name}, {"unit", observed.unit}}},
                 {"patients", json::array()}};
  if (!plan.targets_source.empty()) advice["target_source"] = plan.targets_source;
  std::string forecast = "ID,TIME,P05,P50,P95,IPRED\n";
  io::PlotSpec plot;
  plot.title = pop.name + " on " + std::filesystem::path(args.data_path).filename().string() +
               ": forecast with the recommended regimen";
  std::vector<io::PlotGroup> groups;
  plot.x_label = "Time (h)";
  plot.y_label = observed.name + " (" + observed.unit + ")";
  const std::size_t columns = pop.DataColumns().size();
  for (const auto& subject : data.subjects) {
    const std::string where = args.data_path + ": ID " + subject.id;
    auto fit = estimator.Fit(subject);
    if (!fit.ok()) return fit.error().WithContext(where);
    decide::PatientPosterior patient{fit->eta, fit->eta_covariance,
                                     decide::LatestCovariates(subject, columns)};
    auto ranked = decide::RankRegimens(estimator, patient, target, search);
    if (!ranked.ok()) return ranked.error().WithContext(where);
    const decide::RegimenOutcome& best = ranked->front();
    const double start = args.start_h >= 0 ? args.start_h : NextDoseTime(subject);
    json p = {{"id", subject.id},
              {"observations", fit->observation_count},
              {"start_h", start},
              {"recommended", OutcomeJson(best, target)},
              {"alternatives", json::array()}};
    for (std::size_t k = 1; k < std::min<std::size_t>(ranked->size(), 6); ++k) {
      p["alternatives"].push_back(OutcomeJson((*ranked)[k], target));
    }
    // What-if: regimens the clinician proposes, evaluated the same way.
    p["what_if"] = json::array();
    for (const auto& proposal : proposals) {
      auto o = decide::EvaluateRegimen(estimator, patient, proposal, target, search);
      if (!o.ok()) return o.error().WithContext(where);
      p["what_if"].push_back(OutcomeJson(*o, target));
    }
    advice["patients"].push_back(p);

    // Forecast: the records so far, then the recommended regimen from `start` for 72 h.
    sim::Subject future = subject;
    sim::Record dose;
    dose.time = start;
    dose.evid = sim::Evid::kDose;
    dose.amt = best.regimen.dose_mg;
    dose.rate = best.regimen.infusion_h > 0 ? best.regimen.dose_mg / best.regimen.infusion_h : 0;
    dose.ii = best.regimen.interval_h;
    dose.addl = static_cast<int>(72 / best.regimen.interval_h);
    if (start < subject.records.back().time) {
      return InvalidArgument("--start", "must not be before the last record (" +
                                            std::to_string(subject.records.back().time) + " h)")
          .WithContext(where);
    }
    future.records.push_back(dose);
    const double t_end = start + 72;
    // The grid (every 0.5 h from the first record) is PredictCurve's; take it from there.
    std::vector<double> grid, ipred;
    std::vector<std::vector<double>> draws;  // [sample][grid]
    auto curve_for = [&](const Eigen::VectorXd& eta) -> Result<std::vector<double>> {
      MEDTWIN_TRY(auto c, estimator.PredictCurve(future, eta, t_end, 0.5));
      std::vector<double> v;
      grid.clear();
      for (auto [t, y] : c) {
        grid.push_back(t);
        v.push_back(y);
      }
      return v;
    };
    MEDTWIN_TRY(ipred, curve_for(fit->eta));
    for (const auto& eta : estimate::SamplePosterior(fit->eta, fit->eta_covariance, 200, 7)) {
      MEDTWIN_TRY(auto v, curve_for(eta));
      draws.push_back(std::move(v));
    }
    // One colour per patient on its page: the forecast a line, the 5-95 % interval a shaded
    // band, levels as points.
    const std::string colour = io::SeriesColour(groups.size() % kPatientsPerPlot);
    io::PlotBand band{"ID " + subject.id + " 5-95 %", {}, {}, {}, colour};
    io::PlotSeries mid{"ID " + subject.id + " forecast (MAP)", {}, {}, false, false, colour};
    io::PlotSeries obs{"ID " + subject.id + " observed", {}, {}, true, false, colour};
    char buf[160];
    for (std::size_t g = 0; g < ipred.size() && g < grid.size(); ++g) {
      std::vector<double> col;
      for (const auto& d : draws) col.push_back(d[g]);
      const double q05 = decide::Quantile(col, 0.05), q50 = decide::Quantile(col, 0.5),
                   q95 = decide::Quantile(col, 0.95);
      std::snprintf(buf, sizeof buf, ",%.6g,%.6g,%.6g,%.6g,%.6g\n", grid[g], q05, q50, q95,
                    ipred[g]);
      forecast += subject.id + buf;
      band.x.push_back(grid[g]);
      band.lo.push_back(q05);
      band.hi.push_back(q95);
      mid.x.push_back(grid[g]);
      mid.y.push_back(ipred[g]);
    }
    for (const auto& pr : fit->predictions) {
      obs.x.push_back(pr.time);
      obs.y.push_back(pr.dv);
    }
    groups.push_back({{std::move(mid), std::move(obs)}, {std::move(band)}});
  }
  const std::string forecast_path =
      BesideOutput(args.out_path, args.forecast_path, "_forecast.csv");
  if (!args.plot_path.empty()) {
    // Every patient, four to a page (plot.svg, plot_2.svg, ...): none left out silently.
    MEDTWIN_TRY(advice["plots"],
                io::WritePagedPlots(plot, groups, kPatientsPerPlot, args.plot_path));
  }
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(forecast_path, forecast));
  advice["forecast_csv"] = forecast_path;
  return io::WriteFileAtomically(args.out_path, advice.dump(2) + "\n");
}

void AddDoseCommand(CLI::App& app) {
  auto args = std::make_shared<DoseArgs>();
  auto* dose = app.add_subcommand(
      "dose",
      "Precision dosing: fit each patient (MAP), then rank every maintenance regimen on the menu\n"
      "(doses in steps, intervals, infusion time) by probability of target attainment over the\n"
      "posterior, at steady state. Writes ADVICE.json (recommended regimen, predicted AUC24,\n"
      "trough, PTA, alternatives), a forecast CSV with 5/50/95 % quantiles and an optional plot.");
  dose->add_option("--model", args->model, "Population model name or .json file")->required();
  dose->add_option("--data", args->data_path, "Records with doses, levels, covariates")->required();
  dose->add_option("--target", args->targets,
                   "Ranges every recommended regimen must meet (repeatable; default: the model "
                   "file's):\n"
                   "auc24=LOW:HIGH (mg*h/L), trough=LOW:HIGH and peak=LOW:HIGH or cmax=LOW:HIGH "
                   "(in the\nobserved output's unit: mg/L, the INR for warfarin_hamberg2007), "
                   "time_above_mic=LOW:HIGH\n(% of the interval) with mic=VALUE (mg/L)");
  dose->add_option("--intervals", args->intervals_h,
                   "Dosing intervals to consider, h (default: the model file's)")
      ->delimiter(',');
  dose->add_option("--infusion-h", args->infusion_h,
                   "Infusion duration, h (0: bolus; default: the model file's route)");
  dose->add_option("--dose-step", args->dose_step_mg,
                   "Dose rounding step, mg (default: the model file's)");
  dose->add_option("--dose-max", args->dose_max_mg,
                   "Largest single dose, mg (default: the model file's)");
  dose->add_option("--start", args->start_h,
                   "Time the new regimen starts, h (default: the next dose the records imply)");
  dose->add_option("--samples", args->samples, "Posterior samples for PTA")->capture_default_str();
  dose->add_option("--what-if", args->what_if,
                   "Also evaluate a proposed regimen DOSE@INTERVAL[/INFUSION_H], e.g. 1250@12/2 "
                   "(repeatable)");
  AddIgnoreColumnOption(dose, &args->ignore_columns);
  AddLocfOption(dose, &args->locf);
  dose->add_option("--out", args->out_path, "ADVICE.json")->required();
  dose->add_option("--forecast", args->forecast_path,
                   "Forecast CSV (default: OUT with _forecast.csv)");
  dose->add_option("--plot", args->plot_path, "SVG of the forecast band and levels");

  OnChosen(dose, [args] { return Report("dose", RunDose(*args)); });
}

}  // namespace medtwin::cli
