#include "medtwin/cli/trial_command.h"

#include <CLI/CLI.hpp>

#include <unistd.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "medtwin/cli/command.h"
#include "medtwin/decide/exposure.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/models/registry.h"
#include "medtwin/server/twin_json.h"
#include "medtwin/twin/trial.h"

namespace medtwin::cli {
namespace {

std::string F(double v, int decimals = 1) {
  if (std::isnan(v)) return "";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Percentiles of BG by time of day (5-min bins) over every patient and day.
io::PlotSpec AgpPlot(const std::vector<twin::LoopOutcome>& runs, const std::string& title) {
  const twin::GlucoseProfile profile = twin::AmbulatoryGlucoseProfile(runs);
  io::PlotSpec plot;
  plot.title = title;
  plot.x_label = "Time of day (h)";
  plot.y_label = "Plasma glucose (mg/dL)";
  const struct {
    const char* label;
    bool dashed;
    const char* colour;
  } bands[] = {{"5th percentile", true, "#56B4E9"},
               {"25th percentile", false, "#0072B2"},
               {"median", false, "#000000"},
               {"75th percentile", false, "#0072B2"},
               {"95th percentile", true, "#56B4E9"}};
  for (std::size_t q = 0; q < profile.mg_dl.size(); ++q) {
    plot.series.push_back(io::PlotSeries{bands[q].label, profile.hour_of_day, profile.mg_dl[q],
                                         false, bands[q].dashed, bands[q].colour});
  }
  for (double level : {70.0, 180.0}) {
    io::PlotSeries s{
        level == 70 ? "70 mg/dL" : "180 mg/dL", {0, 24}, {level, level}, false, true, "#D55E00"};
    plot.series.push_back(std::move(s));
  }
  return plot;
}

io::PlotSpec PatientPlot(const twin::LoopOutcome& r) {
  io::PlotSpec plot;
  plot.title = r.patient + ": plasma glucose, CGM and the twin's 30-min forecast";
  plot.x_label = "Time (h)";
  plot.y_label = "Glucose (mg/dL)";
  io::PlotSeries bg{"plasma glucose", {}, {}, false, false, "#000000"};
  io::PlotSeries cgm{"CGM", {}, {}, true, false, "#0072B2"};
  io::PlotSeries fc{"twin, 30 min ahead", {}, {}, false, true, "#D55E00"};
  for (std::size_t k = 0; k < r.trace.t_min.size(); ++k) {
    const double h = r.trace.t_min[k] / 60;
    bg.x.push_back(h);
    bg.y.push_back(r.trace.bg_mg_dl[k]);
    cgm.x.push_back(h);
    cgm.y.push_back(r.trace.cgm_mg_dl[k]);
    if (!std::isnan(r.trace.forecast30_mg_dl[k])) {
      fc.x.push_back(h);
      fc.y.push_back(r.trace.forecast30_mg_dl[k]);
    }
  }
  plot.series = {bg, cgm};
  if (!fc.x.empty()) plot.series.push_back(fc);
  if (!r.trace.ahead30.empty()) {
    io::PlotSeries lo{"30 min ahead, 5 %", {}, {}, false, true, "#E69F00"};
    io::PlotSeries hi{"30 min ahead, 95 %", {}, {}, false, true, "#E69F00"};
    for (const auto& f : r.trace.ahead30) {
      lo.x.push_back(f.t_min / 60);
      lo.y.push_back(f.p05_mg_dl);
      hi.x.push_back(f.t_min / 60);
      hi.y.push_back(f.p95_mg_dl);
    }
    plot.series.push_back(std::move(lo));
    plot.series.push_back(std::move(hi));
  }
  return plot;
}

// Text progress bar on stderr, redrawn in place; only when stderr is a terminal.
void ShowProgress(int done, int total) {
  if (::isatty(2) == 0) return;
  const int width = 30;
  const int filled = total > 0 ? done * width / total : width;
  std::fprintf(stderr, "\r[%s%s] %d/%d patients",
               std::string(static_cast<std::size_t>(filled), '#').c_str(),
               std::string(static_cast<std::size_t>(width - filled), '-').c_str(), done, total);
  if (done == total) std::fprintf(stderr, "\n");
  std::fflush(stderr);
}

}  // namespace

Status RunTrialCommand(const TrialArgs& args) {
  if (args.model != "uva_padova") {
    return InvalidArgument("--model", "trials run on uva_padova (got '" + args.model + "')");
  }
  if (args.days < 1 || args.days > 365) return InvalidArgument("--days", "must be 1..365");
  if (args.threads < 1 || args.threads > 256) return InvalidArgument("--threads", "must be 1..256");
  if (args.out_dir.empty()) return InvalidArgument("--out", "give a directory");
  MEDTWIN_TRY(const sim::Model* model, models::FindModel(args.model));
  MEDTWIN_TRY(auto cohort, models::VirtualCohort(args.cohort));
  MEDTWIN_TRY(decide::ControllerKind kind, decide::ParseControllerKind(args.controller));
  MEDTWIN_TRY(auto meals, twin::ParseMealSpec(args.meals));

  twin::TrialOptions options;
  options.loop.days = args.days;
  options.loop.controller = kind;
  options.loop.meals = meals;
  options.loop.seed = args.seed;
  options.loop.cgm.noise = !args.ideal_sensor;
  options.loop.alerts = !args.no_alerts;
  options.loop.forecast_bands = args.bands;
  if (args.bands && args.no_alerts) {
    return InvalidArgument("--bands", "needs the twin's filter: drop --no-alerts");
  }
  options.threads = args.threads;
  MEDTWIN_TRY(auto runs, twin::RunTrial(*model, cohort, options, ShowProgress));

  std::error_code ec;
  std::filesystem::create_directories(args.out_dir + "/patients", ec);
  if (ec) return InvalidArgument("--out", "cannot create " + args.out_dir + ": " + ec.message());

  // Cohort table.
  const char* header =
      "patient,cohort,tir_70_180_pct,below_70_pct,below_54_pct,above_180_pct,above_250_pct,"
      "mean_mg_dl,cv_pct,min_mg_dl,max_mg_dl,lbgi,hbgi,basal_u_per_day,bolus_u_per_day,"
      "total_u_per_day,hypo_events,hypo_alerts,events_alerted,mean_alert_lead_min,"
      "false_alerts,forecast30_rmse_mg_dl,cvga_zone\n";
  std::string csv = header;
  std::string md =
      "# In-silico trial: " + args.controller + " on " + args.cohort + ", " +
      std::to_string(args.days) + " day(s), meals " + args.meals + ", seed " +
      std::to_string(args.seed) + "\n\n" +
      "| patient | TIR 70–180 % | <70 % | <54 % | >180 % | >250 % | mean | CV % | "
      "LBGI | HBGI | insulin U/day (basal + bolus) | hypo events (alerted, lead "
      "min) | CVGA |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n";
  std::vector<io::CvgaPoint> cvga;
  const nlohmann::json results = server::TrialSummaryToJson(runs);
  const double mean_tir = results["mean_tir_70_180_pct"], mean_low = results["mean_below_70_pct"];
  for (const auto& r : runs) {
    const auto& m = r.metrics;
    const std::string zone = io::CvgaZone(m.min_mg_dl, m.max_mg_dl);
    csv += r.patient + "," + r.cohort + "," + F(m.tir_70_180, 2) + "," + F(m.below_70, 2) + "," +
           F(m.below_54, 2) + "," + F(m.above_180, 2) + "," + F(m.above_250, 2) + "," +
           F(m.mean_mg_dl, 2) + "," + F(m.cv_percent, 2) + "," + F(m.min_mg_dl, 2) + "," +
           F(m.max_mg_dl, 2) + "," + F(m.lbgi, 3) + "," + F(m.hbgi, 3) + "," +
           F(r.basal_u_per_day, 2) + "," + F(r.bolus_u_per_day, 2) + "," +
           F(r.basal_u_per_day + r.bolus_u_per_day, 2) + "," + std::to_string(r.alerts.events) +
           "," + std::to_string(r.alerts.alerts) + "," + std::to_string(r.alerts.detected) + "," +
           F(r.alerts.MeanLeadMin(), 1) + "," + std::to_string(r.alerts.false_alerts) + "," +
           F(r.forecast30_rmse_mg_dl, 2) + "," + zone + "\n";
    md += "| " + r.patient + " | " + F(m.tir_70_180) + " | " + F(m.below_70) + " | " +
          F(m.below_54) + " | " + F(m.above_180) + " | " + F(m.above_250) + " | " +
          F(m.mean_mg_dl) + " | " + F(m.cv_percent) + " | " + F(m.lbgi, 2) + " | " + F(m.hbgi, 2) +
          " | " + F(r.basal_u_per_day + r.bolus_u_per_day) + " (" + F(r.basal_u_per_day) + " + " +
          F(r.bolus_u_per_day) + ") | " + std::to_string(r.alerts.events) + " (" +
          std::to_string(r.alerts.detected) + ", " + F(r.alerts.MeanLeadMin(), 0) + ") | " + zone +
          " |\n";
    cvga.push_back({r.patient, m.min_mg_dl, m.max_mg_dl});
    // Per-patient trace.
    const bool bands = !r.trace.ahead30.empty();
    std::string trace = "t_min,bg_mg_dl,cgm_mg_dl,basal_u_per_min,bolus_u,meal_g,forecast30_mg_dl";
    if (bands) {
      for (const char* h : {"30", "60", "120"}) {
        trace += std::string(",ahead") + h + "_mean,ahead" + h + "_p05,ahead" + h + "_p95";
      }
    }
    trace += "\n";
    for (std::size_t k = 0; k < r.trace.t_min.size(); ++k) {
      trace += F(r.trace.t_min[k], 0) + "," + F(r.trace.bg_mg_dl[k], 3) + "," +
               F(r.trace.cgm_mg_dl[k], 1) + "," + F(r.trace.basal_u_per_min[k], 6) + "," +
               F(r.trace.bolus_u[k], 2) + "," + F(r.trace.meal_g[k], 1) + "," +
               F(r.trace.forecast30_mg_dl[k], 3);
      if (bands) {
        for (const auto* v : {&r.trace.ahead30, &r.trace.ahead60, &r.trace.ahead120}) {
          const auto& f = (*v)[k];
          trace += "," + F(f.mean_mg_dl, 2) + "," + F(f.p05_mg_dl, 2) + "," + F(f.p95_mg_dl, 2);
        }
      }
      trace += "\n";
    }
    std::string file = r.patient;
    std::replace(file.begin(), file.end(), '#', '_');
    MEDTWIN_RETURN_IF_ERROR(
        io::WriteFileAtomically(args.out_dir + "/patients/" + file + ".csv", trace));
    MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_dir + "/patients/" + file + ".svg",
                                                    io::RenderSvgLinePlot(PatientPlot(r))));
  }
  md += "\nCohort mean: TIR " + F(mean_tir) + " %, time below 70 " + F(mean_low) +
        " %, mean glucose " + F(results["mean_glucose_mg_dl"].get<double>()) + " mg/dL (" +
        std::to_string(runs.size()) +
        " patients). Metrics of plasma glucose every 5 min; CVGA zone from its min and max.\n";
  const std::string title =
      args.controller + " on " + args.cohort + ", " + std::to_string(args.days) + " day(s)";
  nlohmann::json summary = {{"model", args.model},
                            {"cohort", args.cohort},
                            {"controller", args.controller},
                            {"days", args.days},
                            {"meals", args.meals},
                            {"seed", args.seed},
                            {"ideal_sensor", args.ideal_sensor}};
  summary.update(results);
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_dir + "/cohort.csv", csv));
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_dir + "/cohort.md", md));
  MEDTWIN_RETURN_IF_ERROR(
      io::WriteFileAtomically(args.out_dir + "/trial.json", summary.dump(2) + "\n"));
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(
      args.out_dir + "/agp.svg",
      io::RenderSvgLinePlot(AgpPlot(runs, "Ambulatory glucose profile: " + title))));
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(
      args.out_dir + "/cvga.svg", io::RenderCvgaPlot("Control-variability grid: " + title, cvga)));
  std::fprintf(stderr,
               "medtwin trial: %zu patients, mean TIR %.1f %%, below 70 %.1f %%; wrote %s\n",
               runs.size(), mean_tir, mean_low, args.out_dir.c_str());
  return Ok{};
}

void AddTrialCommand(CLI::App& app) {
  auto args = std::make_shared<TrialArgs>();
  auto* trial = app.add_subcommand(
      "trial",
      "In-silico trial of a glucose controller on UVA/Padova virtual patients: each patient\n"
      "lives --days under the controller (CGM every 5 min with sensor noise, pump limits, hard\n"
      "safety limits) while its twin (an unscented Kalman filter) forecasts and raises\n"
      "predictive hypoglycemia alerts. Writes DIR/cohort.csv, cohort.md, trial.json, agp.svg\n"
      "(ambulatory glucose profile), cvga.svg (control-variability grid) and patients/.\n"
      "Same seed, same results, whatever --threads.");
  trial->add_option("--model", args->model, "Model (uva_padova)")->capture_default_str();
  trial->add_option("--cohort", args->cohort, "adults, adolescents, children or all")
      ->capture_default_str();
  trial->add_option("--days", args->days, "Days per patient")->capture_default_str();
  trial
      ->add_option("--controller", args->controller,
                   "bb (basal-bolus, CR/CF from Quest.csv), pid (PID + meal bolus) or mpc\n"
                   "(model predictive control on the patient's twin)")
      ->capture_default_str();
  trial
      ->add_option("--meals", args->meals,
                   "Daily meals HH:MM=GRAMS,... on the 5-min grid, eaten at 5 g/min, announced")
      ->capture_default_str();
  trial->add_option("--seed", args->seed, "Random seed (sensor noise)")->capture_default_str();
  trial->add_option("--threads", args->threads, "Worker threads")->capture_default_str();
  trial->add_flag("--ideal-sensor", args->ideal_sensor, "CGM without noise or calibration error");
  trial->add_flag("--no-alerts", args->no_alerts,
                  "Skip the twin's filter and alerts (faster; no forecast columns)");
  trial->add_flag("--bands", args->bands,
                  "Also forecast 30/60/120 min ahead with 5-95 % bands every 5 min (patients/\n"
                  "NAME.csv columns ahead30_mean,_p05,_p95 ...; slower)");
  trial->add_option("--out", args->out_dir, "Output directory")->required();

  OnChosen(trial, [args] { return Report("trial", RunTrialCommand(*args)); });
}

}  // namespace medtwin::cli
