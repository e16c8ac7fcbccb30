#include "medtwin/cli/simulate_command.h"

#include <CLI/CLI.hpp>
#include <iostream>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

#include "medtwin/cli/command.h"
#include "medtwin/core/format.h"
#include "medtwin/estimate/map_estimator.h"
#include "medtwin/estimate/population_model.h"
#include "medtwin/estimate/population_simulation.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::cli {
namespace {

Result<std::vector<double>> BaseParameters(const sim::Model& model,
                                           const sim::ParameterLayout& layout,
                                           const std::string& patient,
                                           const std::vector<std::string>& assignments) {
  std::vector<double> p = layout.Defaults();
  if (!patient.empty()) {
    if (model.Info().name != "uva_padova") {
      return InvalidArgument(
          "--patient", "virtual patients belong to model uva_padova, not " + model.Info().name);
    }
    MEDTWIN_TRY(const models::VirtualPatient* vp, models::FindVirtualPatient(patient));
    std::copy(vp->params.begin(), vp->params.end(), p.begin());
  }
  for (const std::string& a : assignments) {
    const auto eq = a.find('=');
    if (eq == std::string::npos) {
      return InvalidArgument("--param", "'" + a + "' is not NAME=VALUE");
    }
    const std::string name = ToUpperAscii(a.substr(0, eq));
    const int index = layout.Find(name);
    if (index < 0) return NotFound("--param", "model has no parameter '" + name + "'");
    double v = 0;
    const std::string text = a.substr(eq + 1);
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return InvalidArgument("--param " + name, "'" + text + "' is not a number");
    }
    MEDTWIN_RETURN_IF_ERROR(layout.Validate(index, v), "--param");
    p[static_cast<std::size_t>(index)] = v;
  }
  return p;
}

// --grid START:END:STEP: an observation row at each time from START to END (inclusive) for
// every subject, after the records at or before it; carried columns from the record before
// (DV as ".", the row has no observation).
Status AddGrid(const std::string& spec, io::Dataset& data) {
  double start = 0, end = 0, step = 0;
  char extra = 0;
  if (std::sscanf(spec.c_str(), "%lf:%lf:%lf%c", &start, &end, &step, &extra) != 3 ||
      !std::isfinite(start) || !std::isfinite(end) || !(step > 0) || end < start) {
    return InvalidArgument("--grid",
                           "'" + spec + "' is not START:END:STEP with STEP > 0, END >= START");
  }
  const double count = std::floor((end - start) / step + 1e-9) + 1;
  if (count > 100'000) return InvalidArgument("--grid", "more than 100000 times per subject");
  const auto dv = std::find(data.carry_names.begin(), data.carry_names.end(), "DV");
  for (std::size_t s = 0; s < data.subjects.size(); ++s) {
    auto& records = data.subjects[s].records;
    std::vector<sim::Record> merged;
    std::vector<std::vector<std::string>> carried;
    std::size_t next = 0;
    auto take_record = [&] {
      merged.push_back(records[next]);
      if (!data.carried.empty()) carried.push_back(data.carried[s][next]);
      ++next;
    };
    for (int k = 0; k < static_cast<int>(count); ++k) {
      const double t = start + k * step;
      while (next < records.size() && records[next].time <= t) take_record();
      sim::Record row;
      row.time = t;
      row.evid = sim::Evid::kObservation;
      if (!merged.empty()) row.covariates = merged.back().covariates;
      merged.push_back(row);
      if (!data.carried.empty()) {
        std::vector<std::string> values =
            carried.empty() ? std::vector<std::string>(data.carry_names.size(), ".")
                            : carried.back();
        if (dv != data.carry_names.end())
          values[static_cast<std::size_t>(dv - data.carry_names.begin())] = ".";
        carried.push_back(std::move(values));
      }
    }
    while (next < records.size()) take_record();
    data.record_count += merged.size() - records.size();
    records = std::move(merged);
    if (!data.carried.empty()) data.carried[s] = std::move(carried);
  }
  return Ok{};
}

io::CsvReadOptions ReadOptions(const SimulateArgs& args) {
  io::CsvReadOptions read = IgnoringColumns(args.ignore_columns);
  for (const std::string& c : args.carry) read.carry_columns.push_back(ToUpperAscii(c));
  return read;
}

// --population: each data subject `subjects` times, with η drawn from the model's Ω and the
// observed output with the model's residual error added (DV_SIM), as mrgsolve's idata-style
// replicates or NONMEM's $SIMULATION.
Status RunPopulationSimulation(const SimulateArgs& args, const sim::Model& model) {
  MEDTWIN_TRY(estimate::PopulationModel pop, estimate::FindPopulationModel(args.population));
  if (pop.structural_model != model.Info().name) {
    return InvalidArgument("--population", pop.name + " is a population model of " +
                                               pop.structural_model + ", not of --model " +
                                               model.Info().name);
  }
  if (args.subjects < 1 || args.subjects > 100'000) {
    return InvalidArgument("--subjects", "1..100000 replicates of each subject");
  }
  MEDTWIN_TRY(estimate::MapEstimator estimator,
              estimate::MapEstimator::Create(pop, SimOptionsFor(args.locf)));
  MEDTWIN_TRY(io::Dataset data,
              io::ReadNonmemCsv(args.data_path, estimator.data_info(), ReadOptions(args)));
  if (!args.grid.empty()) MEDTWIN_RETURN_IF_ERROR(AddGrid(args.grid, data));
  MEDTWIN_TRY(auto replicates,
              estimate::SimulatePopulation(estimator, data.subjects, args.subjects, args.seed),
              args.data_path);
  const std::string observed = model.Info().outputs.front().name;
  std::string out = "ID,REP,TIME,EVID";
  for (const auto& c : data.carry_names) out += "," + c;
  out += "," + observed + ",DV_SIM";
  for (const auto& e : pop.eta_names) out += ",ETA_" + e;
  out += "\n";
  char buf[64];
  for (const auto& r : replicates) {
    const sim::Subject& subject = data.subjects[r.subject];
    std::string etas;
    for (Eigen::Index k = 0; k < r.eta.size(); ++k) {
      std::snprintf(buf, sizeof buf, ",%.10g", r.eta(k));
      etas += buf;
    }
    for (std::size_t k = 0; k < subject.records.size(); ++k) {
      const sim::Record& rec = subject.records[k];
      std::snprintf(buf, sizeof buf, ",%d,%.10g,%d", r.replicate, rec.time,
                    static_cast<int>(rec.evid));
      out += subject.id + buf;
      if (!data.carry_names.empty()) {
        for (const auto& v : data.carried[r.subject][k]) out += "," + v;
      }
      std::snprintf(buf, sizeof buf, ",%.10g,", r.ipred[k]);
      out += buf;
      if (std::isnan(r.dv[k])) {  // residual error on observation rows only
        out += ".";
      } else {
        std::snprintf(buf, sizeof buf, "%.10g", r.dv[k]);
        out += buf;
      }
      out += etas + "\n";
    }
  }
  return io::WriteFileAtomically(args.out_path, out);
}

}  // namespace

Status RunSimulate(const SimulateArgs& args) {
  MEDTWIN_TRY(const sim::Model* model, models::FindModel(args.model));
  MEDTWIN_TRY(sim::Method method, sim::ParseMethod(args.method));
  if (!args.population.empty()) return RunPopulationSimulation(args, *model);
  sim::SimOptions options;
  options.method = method;
  options.tolerances.rtol = args.rtol;
  options.tolerances.atol = args.atol;
  options.time_varying = TimeVaryingRule(args.locf);
  MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(*model, options));
  MEDTWIN_TRY(std::vector<double> base,
              BaseParameters(*model, simulator.layout(), args.patient, args.params));

  MEDTWIN_TRY(io::Dataset data,
              io::ReadNonmemCsv(args.data_path, model->Info(), ReadOptions(args)));
  if (!args.grid.empty()) MEDTWIN_RETURN_IF_ERROR(AddGrid(args.grid, data));

  std::vector<sim::SubjectResult> results;
  results.reserve(data.subjects.size());
  for (const auto& subject : data.subjects) {
    auto r = simulator.Run(subject, base);
    if (!r.ok()) return r.error().WithContext(args.data_path + ": ID " + subject.id);
    results.push_back(std::move(r).value());
  }
  // Plot first, so a failure to write it also leaves no OUT.csv behind.
  if (!args.plot_path.empty()) {
    io::PlotSpec plot;
    const auto& info = model->Info();
    plot.title = info.name + ": " + info.outputs[0].name + " over time";
    plot.x_label = "Time (" + info.time_unit + ")";
    plot.y_label = info.outputs[0].name + " (" + info.outputs[0].unit + ")";
    for (std::size_t s = 0; s < data.subjects.size(); ++s) {
      io::PlotSeries series;
      series.label = "ID " + data.subjects[s].id;
      series.x = results[s].times;
      for (std::size_t r = 0; r < results[s].times.size(); ++r) {
        series.y.push_back(results[s].Output(r, 0));
      }
      plot.series.push_back(std::move(series));
    }
    MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.plot_path, io::RenderSvgLinePlot(plot)));
  }
  return io::WriteResultsCsv(args.out_path, model->Info(), data, results);
}

std::string DescribeModels() {
  std::string out;
  char buf[256];
  for (const sim::Model* m : models::AllModels()) {
    const auto& info = m->Info();
    out += info.name + "  —  " + info.description + "\n";
    out += "  time unit: " + info.time_unit + "; compartments:";
    for (std::size_t i = 0; i < info.states.size(); ++i) {
      out += " " + std::to_string(i + 1) + "=" + info.states[i].name;
    }
    out += "; default dose CMT " + std::to_string(info.default_dose_cmt) + "\n";
    for (const auto& p : info.parameters) {
      std::snprintf(buf, sizeof buf, "    %-6s %-6s default %-8g range [%g, %g]  %s\n",
                    p.name.c_str(), p.unit.c_str(), p.default_value, p.lower, p.upper,
                    p.description.c_str());
      out += buf;
    }
    out += "    outputs:";
    for (const auto& o : info.outputs) out += " " + o.name + " (" + o.unit + ")";
    out += "\n    dose modifiers per compartment n: Fn (fraction), ALAGn (" + info.time_unit +
           "), Rn (dose unit/" + info.time_unit + "), Dn (" + info.time_unit + ")\n";
    if (info.name == "uva_padova") {
      out += "    virtual patients (--patient):";
      auto all = models::VirtualPatients();
      if (all.ok()) {
        for (const auto& vp : **all) out += " " + vp.name;
      } else {
        out += " (cannot load: " + all.error().ToString() + ")";
      }
      out += "\n";
    }
    out += "\n";
  }
  out += "Population models (for medtwin fit and dose; data/models/NAME.json):\n";
  for (const std::string& name : estimate::BuiltInPopulationModels()) {
    auto m = estimate::FindPopulationModel(name);
    if (!m.ok()) {
      out += "  " + name + "  (cannot load: " + m.error().ToString() + ")\n";
      continue;
    }
    out += "  " + m->name + "  —  " + m->description + "; structural model " + m->structural_model +
           "\n    source: " + m->source + "\n    covariates:";
    for (const auto& c : m->covariates) out += " " + c;
    out += "; IIV on:";
    for (const auto& e : m->eta_names) out += " " + e;
    if (m->dosing) {
      out += "\n    dose: " + m->dosing->route + ", targets:";
      for (const auto& t : m->dosing->targets) out += " " + t;
    }
    out += "\n";
  }
  return out;
}

void AddSimulateCommand(CLI::App& app) {
  auto args = std::make_shared<SimulateArgs>();
  auto* simulate = app.add_subcommand(
      "simulate",
      "Run a model through a NONMEM-style record file (ID, TIME, EVID, AMT, CMT, RATE, II, ADDL,\n"
      "SS, DV and parameter columns) and write one output row per record: ID, TIME, EVID and\n"
      "every model output (CP in mg/L, amounts A1..An in mg). Time is in hours for PK models.\n"
      "uva_padova (type-1 diabetes, time in min): meals are infusions into CMT 1 (AMT g, RATE\n"
      "g/min, e.g. 5), insulin into CMT 11 (AMT U, RATE U/min); outputs BG and Gsub (mg/dL);\n"
      "--patient adult#001 picks one of the 30 virtual patients.\n"
      "Bad input exits with code 2 and one line naming file, line, column and reason.");
  simulate->add_option("--model", args->model, "Model name (see `medtwin models`)")->required();
  simulate->add_option("--data", args->data_path, "Input records, CSV")->required();
  simulate->add_option("--out", args->out_path, "Output CSV (written atomically)")->required();
  simulate->add_option("--plot", args->plot_path, "Also write an SVG plot of CP over time per ID");
  simulate->add_option("--grid", args->grid,
                       "Output rows at START:END:STEP (e.g. 0:24:0.5) besides the records");
  simulate
      ->add_option("--carry", args->carry, "Copy input columns to the output, e.g. --carry DV,WT")
      ->delimiter(',');
  simulate->add_option("--population", args->population,
                       "Population model (data/models name or .json) of --model: simulate each "
                       "subject --subjects times with IIV drawn from its Omega and residual "
                       "error (DV_SIM)");
  simulate->add_option("--subjects", args->subjects, "Replicates of each subject (--population)")
      ->capture_default_str();
  simulate->add_option("--seed", args->seed, "Random seed (--population)")->capture_default_str();
  simulate->add_option("--patient", args->patient,
                       "Virtual patient for uva_padova: adolescent#001..010, adult#001..010,\n"
                       "child#001..010 (parameters from data/uva_padova)");
  simulate->add_option("--param", args->params,
                       "Parameter value NAME=VALUE before the first record (repeatable), e.g. "
                       "--param CL=4.2 --param F1=0.8");
  AddIgnoreColumnOption(simulate, &args->ignore_columns);
  AddLocfOption(simulate, &args->locf);
  simulate
      ->add_option("--method", args->method,
                   "auto (closed form for linear models, else dopri5), closed, dopri5, cvode")
      ->capture_default_str();
  simulate->add_option("--rtol", args->rtol, "Relative tolerance of ODE methods")
      ->capture_default_str();
  simulate->add_option("--atol", args->atol, "Absolute tolerance of ODE methods (mg)")
      ->capture_default_str();

  OnChosen(simulate, [args] { return Report("simulate", RunSimulate(*args)); });
}

void AddModelsCommand(CLI::App& app) {
  auto* models = app.add_subcommand("models", "List the built-in models with parameters and units");

  OnChosen(models, [] {
    std::cout << DescribeModels();
    return 0;
  });
}

}  // namespace medtwin::cli
