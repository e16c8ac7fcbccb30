#include "medtwin/cli/pgx_command.h"

#include <CLI/CLI.hpp>

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>

#include "medtwin/cli/command.h"
#include "medtwin/decide/exposure.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/io/svg_plot.h"
#include "medtwin/pgx/calls.h"
#include "medtwin/pgx/guidance.h"
#include "medtwin/twin/warfarin_trial.h"

namespace medtwin::cli {

Status RunPgxCall(const PgxCallArgs& args) {
  if (args.vcf.empty()) return InvalidArgument("--vcf", "give a VCF file (or - for stdin)");
  if (args.out_json.empty() && args.out_tsv.empty()) {
    return InvalidArgument("--out", "give --out CALLS.json and/or --tsv CALLS.tsv");
  }
  const pgx::PgxData* data = nullptr;
  pgx::PgxData own;
  if (args.data_dir.empty()) {
    MEDTWIN_TRY(data, pgx::PgxData::Default());
  } else {
    MEDTWIN_TRY(own, pgx::PgxData::Load(args.data_dir));
    data = &own;
  }
  const auto start = std::chrono::steady_clock::now();
  std::vector<pgx::SampleCalls> calls;
  pgx::MatchOptions options;
  options.top_candidate_only = !args.all_results;
  options.find_combinations = args.combinations;
  if (args.vcf == "-") {
    MEDTWIN_TRY(calls, pgx::CallVcf(std::cin, *data, "stdin", options));
  } else {
    std::ifstream in(args.vcf);
    if (!in) return Error{ErrorCode::kIoError, "--vcf", "cannot open " + args.vcf};
    MEDTWIN_TRY(calls, pgx::CallVcf(in, *data, args.vcf, options));
  }
  if (!args.outside_calls.empty()) {
    std::ifstream in(args.outside_calls);
    if (!in)
      return Error{ErrorCode::kIoError, "--outside-calls", "cannot open " + args.outside_calls};
    MEDTWIN_TRY(auto outside, pgx::ReadOutsideCalls(in, *data, args.outside_calls));
    pgx::MergeOutsideCalls(calls, outside);
  }
  if (!calls.empty()) {
    for (const auto& w : calls.front().warnings) {
      std::fprintf(stderr, "medtwin pgx call: warning: %s\n", w.c_str());
    }
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!args.out_json.empty()) {
    MEDTWIN_RETURN_IF_ERROR(
        io::WriteFileAtomically(args.out_json, pgx::CallsToJson(calls).dump(2) + "\n"));
  }
  if (!args.out_tsv.empty()) {
    MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_tsv, pgx::CallsToTsv(calls)));
  }
  std::size_t called = 0, total = 0;
  for (const auto& s : calls) {
    for (const auto& g : s.genes) {
      ++total;
      called += g.called ? 1 : 0;
    }
  }
  // Counts only: sample names can be identifiers.
  std::fprintf(stderr, "medtwin pgx call: %zu sample(s), %zu of %zu gene calls made, %.3f s\n",
               calls.size(), called, total, seconds);
  return Ok{};
}

Status RunPgxGuide(const PgxGuideArgs& args) {
  if (args.drug.empty()) return InvalidArgument("--drug", "name the drug");
  std::ifstream in(args.calls);
  if (!in) return Error{ErrorCode::kIoError, "--calls", "cannot open " + args.calls};
  const nlohmann::json j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded()) return InvalidArgument("--calls", args.calls + " is not JSON");
  MEDTWIN_TRY(auto samples, pgx::CallsFromJson(j));
  MEDTWIN_TRY(const pgx::GuidanceTable* table, pgx::GuidanceTable::Default());
  nlohmann::json out = {{"drug", args.drug}, {"guidance", nlohmann::json::array()}};
  bool found = args.sample.empty();
  for (const auto& s : samples) {
    if (!args.sample.empty() && s.sample != args.sample) continue;
    found = true;
    MEDTWIN_TRY(pgx::DrugGuidance g, table->Guide(args.drug, s.genes));
    nlohmann::json entry = pgx::GuidanceToJson(g);
    entry["sample"] = s.sample;
    out["guidance"].push_back(std::move(entry));
  }
  if (!found)
    return NotFound("--sample", "no sample '" + args.sample.substr(0, 40) + "' in " + args.calls);
  const std::string text = out.dump(2) + "\n";
  if (args.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    return Ok{};
  }
  return io::WriteFileAtomically(args.out, text);
}

}  // namespace medtwin::cli

namespace medtwin::cli {

Status RunWarfarinTrialCommand(const WarfarinTrialArgs& args) {
  if (args.out_dir.empty()) return InvalidArgument("--out", "give a directory");
  twin::WarfarinTrialOptions o;
  o.ancestries.clear();
  std::stringstream list(args.ancestries);
  for (std::string a; std::getline(list, a, ',');) {
    if (!a.empty()) o.ancestries.push_back(a);
  }
  if (o.ancestries.empty()) return InvalidArgument("--ancestry", "name at least one group");
  o.patients_per_ancestry = args.patients;
  o.days = args.days;
  o.seed = args.seed;
  const bool tty = ::isatty(2) != 0;
  MEDTWIN_TRY(auto patients, twin::RunWarfarinTrial(o, [tty](int done, int total) {
                if (tty) std::fprintf(stderr, "\r%d/%d virtual patients", done, total);
                if (tty && done == total) std::fprintf(stderr, "\n");
              }));
  std::error_code ec;
  std::filesystem::create_directories(args.out_dir, ec);
  if (ec) return InvalidArgument("--out", "cannot create " + args.out_dir + ": " + ec.message());
  // Per patient and arm.
  std::string csv =
      "patient,ancestry,arm,age_years,height_cm,weight_kg,cyp2c9,vkorc1,daily_dose_mg,ttr_pct,"
      "inr_above4_pct,inr_day7,inr_last\n";
  for (const auto& p : patients) {
    char line[512];
    std::snprintf(line, sizeof line, "%s,%s,%s,%.1f,%.1f,%.1f,%s,%s,%.1f,%.1f,%.1f,%.2f,%.2f\n",
                  p.id.c_str(), p.ancestry.c_str(), p.arm.c_str(), p.age_years, p.height_cm,
                  p.weight_kg, p.cyp2c9.c_str(), p.vkorc1.c_str(), p.daily_dose_mg, p.ttr_pct,
                  p.above4_pct, p.inr_by_day[6], p.inr_by_day.back());
    csv += line;
  }
  // Summaries by ancestry × arm, and by genotype stratum (CYP2C9 carrier of *2/*3 or not ×
  // VKORC1 A alleles) × arm.
  struct Acc {
    int n = 0;
    double ttr = 0, above4 = 0, dose = 0;
  };
  std::map<std::string, Acc> by_group, by_stratum;
  for (const auto& p : patients) {
    const std::string stratum =
        std::string(p.cyp2c9 == "*1/*1" ? "CYP2C9 *1/*1" : "CYP2C9 variant") + ", VKORC1 " +
        p.vkorc1;
    for (auto* acc :
         {&by_group[p.ancestry + " | " + p.arm], &by_stratum[stratum + " | " + p.arm]}) {
      ++acc->n;
      acc->ttr += p.ttr_pct;
      acc->above4 += p.above4_pct;
      acc->dose += p.daily_dose_mg;
    }
  }
  auto table = [](const std::map<std::string, Acc>& m, const char* first) {
    nlohmann::json rows = nlohmann::json::array();
    std::string md =
        std::string("| ") + first +
        " | arm | patients | mean dose mg/day | mean TTR % (days 8+) | days INR > 4 % |\n"
        "|---|---|---:|---:|---:|---:|\n";
    for (const auto& [key, a] : m) {
      const auto bar = key.find(" | ");
      const std::string group = key.substr(0, bar), arm = key.substr(bar + 3);
      rows.push_back({{"group", group},
                      {"arm", arm},
                      {"patients", a.n},
                      {"mean_daily_dose_mg", a.dose / a.n},
                      {"mean_ttr_pct", a.ttr / a.n},
                      {"mean_days_inr_above_4_pct", a.above4 / a.n}});
      char line[256];
      std::snprintf(line, sizeof line, "| %s | %s | %d | %.1f | %.1f | %.1f |\n", group.c_str(),
                    arm.c_str(), a.n, a.dose / a.n, a.ttr / a.n, a.above4 / a.n);
      md += line;
    }
    return std::make_pair(rows, md);
  };
  const auto [groups, groups_md] = table(by_group, "ancestry");
  const auto [strata, strata_md] = table(by_stratum, "genotype stratum");
  const nlohmann::json summary = {{"ancestries", o.ancestries},
                                  {"patients_per_ancestry", o.patients_per_ancestry},
                                  {"days", o.days},
                                  {"seed", o.seed},
                                  {"model", "warfarin_hamberg2007"},
                                  {"by_ancestry", groups},
                                  {"by_genotype", strata}};
  const std::string md =
      "# Warfarin precision-twin trial\n\nEach virtual patient is followed in both arms on the "
      "Hamberg 2007 INR model (no titration: the starting strategy alone). TTR: days 8-" +
      std::to_string(o.days) + " with INR 2-3.\n\n" + groups_md + "\n" + strata_md;
  // Median INR by day per ancestry and arm.
  io::PlotSpec plot;
  plot.title = "Median INR by day (virtual patients, Hamberg 2007)";
  plot.x_label = "Day";
  plot.y_label = "INR";
  std::map<std::string, std::vector<std::vector<double>>> by_day;
  for (const auto& p : patients) {
    auto& days = by_day[p.ancestry + ", " + p.arm];
    days.resize(p.inr_by_day.size());
    for (std::size_t d = 0; d < p.inr_by_day.size(); ++d) days[d].push_back(p.inr_by_day[d]);
  }
  for (auto& [label, days] : by_day) {
    io::PlotSeries s{label, {}, {}, false, label.find("fixed") != std::string::npos, ""};
    for (std::size_t d = 0; d < days.size(); ++d) {
      s.x.push_back(static_cast<double>(d + 1));
      s.y.push_back(decide::Quantile(days[d], 0.5));
    }
    plot.series.push_back(std::move(s));
  }
  for (double level : {2.0, 3.0}) {
    plot.series.push_back(io::PlotSeries{level == 2 ? "INR 2" : "INR 3",
                                         {1, static_cast<double>(o.days)},
                                         {level, level},
                                         false,
                                         true,
                                         "#D55E00"});
  }
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_dir + "/cohort.csv", csv));
  MEDTWIN_RETURN_IF_ERROR(
      io::WriteFileAtomically(args.out_dir + "/summary.json", summary.dump(2) + "\n"));
  MEDTWIN_RETURN_IF_ERROR(io::WriteFileAtomically(args.out_dir + "/summary.md", md));
  MEDTWIN_RETURN_IF_ERROR(
      io::WriteFileAtomically(args.out_dir + "/inr.svg", io::RenderSvgLinePlot(plot)));
  std::fprintf(stderr, "medtwin warfarin-trial: %zu patient-arms; wrote %s\n", patients.size(),
               args.out_dir.c_str());
  return Ok{};
}

void AddPgxCommand(CLI::App& app) {
  auto* pgx = app.add_subcommand(
      "pgx",
      "Pharmacogenomics: star-allele diplotypes, phenotypes and activity scores from a VCF\n"
      "(CPIC/PharmCAT allele definitions in data/pgx).");
  pgx->require_subcommand(1);
  auto call_args = std::make_shared<PgxCallArgs>();
  auto* pgx_call = pgx->add_subcommand(
      "call",
      "Call every sample of a GRCh38 VCF (single or multi-sample, GT phased or not) for every\n"
      "gene in data/pgx: diplotype(s) with match score and missing positions, phenotype and\n"
      "activity score. Outside calls (CYP2D6, HLA, …) come from a TSV:\n"
      "GENE<TAB>DIPLOTYPE[<TAB>PHENOTYPE[<TAB>ACTIVITY]]. A gene with no data is 'not called',\n"
      "never guessed. Calls are PharmCAT's (v3.1.1 matcher semantics, checked on its own test\n"
      "suite): FORMAT/PS phase sets are used; DPYD by its two lowest-function alleles.");
  pgx_call->add_option("--vcf", call_args->vcf, "VCF file (- for standard input)")->required();
  pgx_call->add_option("--outside-calls", call_args->outside_calls, "Outside calls (TSV)");
  pgx_call->add_option("--out", call_args->out_json, "CALLS.json");
  pgx_call->add_option("--tsv", call_args->out_tsv, "CALLS.tsv (one row per sample and gene)");
  pgx_call->add_option("--data", call_args->data_dir,
                       "Directory with alleles/ and phenotype/ (default: data/pgx)");
  pgx_call->add_flag("--all-results", call_args->all_results,
                     "List every diplotype that explains the genotypes, best score first, not\n"
                     "only the top-scoring ones (PharmCAT's --matcher-all-results)");
  pgx_call->add_flag("--research-combinations", call_args->combinations,
                     "When no pair of defined alleles explains the genotypes, name each strand by\n"
                     "the alleles and variants it carries, e.g. [*2 + *3] or g.94781859G>A\n"
                     "(PharmCAT's research mode; not for clinical use)");

  auto guide_args = std::make_shared<PgxGuideArgs>();
  auto* pgx_guide = pgx->add_subcommand(
      "guide",
      "The CPIC recommendation for a drug given the calls (clopidogrel, voriconazole,\n"
      "simvastatin, azathioprine, mercaptopurine, fluorouracil, capecitabine, tacrolimus,\n"
      "efavirenz, atazanavir, codeine, abacavir, allopurinol, carbamazepine, warfarin; from\n"
      "data/pgx/guidance.json): action, strength, text and source, per sample.");
  pgx_guide->add_option("--calls", guide_args->calls, "CALLS.json from pgx call")->required();
  pgx_guide->add_option("--drug", guide_args->drug, "Drug name")->required();
  pgx_guide->add_option("--sample", guide_args->sample, "Only this sample");
  pgx_guide->add_option("--out", guide_args->out, "Write here instead of standard output");

  OnChosen(pgx_call, [call_args] { return Report("pgx call", RunPgxCall(*call_args)); });
  OnChosen(pgx_guide, [guide_args] { return Report("pgx guide", RunPgxGuide(*guide_args)); });
}

void AddWarfarinTrialCommand(CLI::App& app) {
  auto args = std::make_shared<WarfarinTrialArgs>();
  auto* warfarin_trial = app.add_subcommand(
      "warfarin-trial",
      "Precision twins for warfarin: virtual patients per ancestry group (CYP2C9 and VKORC1\n"
      "genotypes from data/pgx/ancestry_frequencies.json, Hamberg 2007 variability), each\n"
      "started on a fixed 5 mg/day and on the IWPC pharmacogenetic dose, followed on the INR\n"
      "model: time in range 2-3 and INR > 4 by ancestry and genotype. Writes DIR/cohort.csv,\n"
      "summary.json, summary.md and inr.svg.");
  warfarin_trial
      ->add_option("--ancestry", args->ancestries,
                   "Groups, comma-separated (european, east_asian, african)")
      ->capture_default_str();
  warfarin_trial->add_option("--patients", args->patients, "Patients per group")
      ->capture_default_str();
  warfarin_trial->add_option("--days", args->days, "Days followed")->capture_default_str();
  warfarin_trial->add_option("--seed", args->seed, "Random seed")->capture_default_str();
  warfarin_trial->add_option("--out", args->out_dir, "Output directory")->required();

  OnChosen(warfarin_trial,
           [args] { return Report("warfarin-trial", RunWarfarinTrialCommand(*args)); });
}

}  // namespace medtwin::cli
