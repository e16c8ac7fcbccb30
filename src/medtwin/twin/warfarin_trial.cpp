#include "medtwin/twin/warfarin_trial.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <random>

#include "medtwin/core/data_dir.h"
#include "medtwin/decide/warfarin_dose.h"
#include "medtwin/models/registry.h"
#include "medtwin/models/warfarin.h"
#include "medtwin/sim/simulator.h"

namespace medtwin::twin {
namespace {

using nlohmann::json;

struct Frequencies {
  double cyp2c9_2 = 0, cyp2c9_3 = 0, vkorc1_a = 0;
};

Result<std::map<std::string, Frequencies>> LoadFrequencies(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Error{ErrorCode::kIoError, path, "cannot open"};
  const json j = json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.contains("ancestries") || !j["ancestries"].is_object()) {
    return InvalidArgument(path, "expected {\"ancestries\": {...}}");
  }
  std::map<std::string, Frequencies> out;
  for (const auto& [name, a] : j["ancestries"].items()) {
    try {
      Frequencies f{a.at("CYP2C9").at("*2").get<double>(), a.at("CYP2C9").at("*3").get<double>(),
                    a.at("VKORC1").at("A").get<double>()};
      if (f.cyp2c9_2 < 0 || f.cyp2c9_3 < 0 || f.cyp2c9_2 + f.cyp2c9_3 > 1 || f.vkorc1_a < 0 ||
          f.vkorc1_a > 1) {
        return InvalidArgument(path + ": " + name, "frequencies must lie in [0, 1]");
      }
      out[name] = f;
    } catch (const json::exception&) {
      return InvalidArgument(path + ": " + name, "needs CYP2C9 *2, *3 and VKORC1 A");
    }
  }
  return out;
}

}  // namespace

Result<std::vector<WarfarinTrialPatient>> RunWarfarinTrial(const WarfarinTrialOptions& o,
                                                           const WarfarinTrialProgress& progress) {
  if (o.patients_per_ancestry < 1 || o.patients_per_ancestry > 100000) {
    return InvalidArgument("--patients", "1..100000 per ancestry group");
  }
  if (o.days < 8 || o.days > 365) return InvalidArgument("--days", "8..365");
  MEDTWIN_TRY(auto freq, LoadFrequencies(o.frequencies_path.empty()
                                             ? DataDirectory() + "/pgx/ancestry_frequencies.json"
                                             : o.frequencies_path));
  for (const auto& a : o.ancestries) {
    if (!freq.contains(a)) {
      std::string known;
      for (const auto& [name, f] : freq) known += (known.empty() ? "" : ", ") + name;
      return InvalidArgument("--ancestry", "unknown '" + a.substr(0, 24) + "' (" + known + ")");
    }
  }
  MEDTWIN_TRY(const sim::Model* model, models::FindModel("warfarin_hamberg2007"));
  sim::SimOptions sim_options;
  sim_options.tolerances.rtol = 1e-6;
  sim_options.tolerances.atol = 1e-9;
  MEDTWIN_TRY(sim::Simulator simulator, sim::Simulator::Create(*model, sim_options));
  const sim::ParameterLayout& layout = simulator.layout();
  const auto idx = [&](const char* name) { return static_cast<std::size_t>(layout.Find(name)); };

  std::mt19937_64 rng(o.seed);
  std::normal_distribution<double> z(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<WarfarinTrialPatient> out;
  const int total = o.patients_per_ancestry * static_cast<int>(o.ancestries.size());
  int done = 0;
  for (const auto& ancestry : o.ancestries) {
    const Frequencies& f = freq.at(ancestry);
    for (int k = 0; k < o.patients_per_ancestry; ++k) {
      // Demographics of a typical anticoagulation clinic (IWPC cohort ranges).
      WarfarinTrialPatient base;
      base.id = ancestry + "-" + std::to_string(k + 1);
      base.ancestry = ancestry;
      base.age_years = std::clamp(65 + 12 * z(rng), 25.0, 95.0);
      base.height_cm = std::clamp(170 + 10 * z(rng), 145.0, 200.0);
      base.weight_kg = std::clamp(80 + 16 * z(rng), 45.0, 160.0);
      auto cyp_allele = [&] {
        const double r = u(rng);
        return r < f.cyp2c9_2 ? 2 : (r < f.cyp2c9_2 + f.cyp2c9_3 ? 3 : 1);
      };
      int a1 = cyp_allele(), a2 = cyp_allele();
      if (a2 < a1) std::swap(a1, a2);
      base.cyp2c9 = "*" + std::to_string(a1) + "/*" + std::to_string(a2);
      const int a_alleles = (u(rng) < f.vkorc1_a ? 1 : 0) + (u(rng) < f.vkorc1_a ? 1 : 0);
      base.vkorc1 = a_alleles == 0 ? "G/G" : (a_alleles == 1 ? "A/G" : "A/A");
      // The patient's own PK/PD (Hamberg 2007 typical values and between-patient variances).
      std::vector<double> p = layout.Defaults();
      p[idx("CL")] = models::hamberg::kClS11 * models::hamberg::Cyp2c9ClFactor(base.cyp2c9) *
                     (1 - models::hamberg::kClAgePerYear * (base.age_years - 71)) *
                     std::exp(std::sqrt(0.310) * z(rng));
      p[idx("V1")] *= std::exp(std::sqrt(0.262) * z(rng));
      p[idx("V2")] *= std::exp(std::sqrt(0.991) * z(rng));
      p[idx("EC50")] = models::hamberg::kEc50[a_alleles] * std::exp(std::sqrt(0.409) * z(rng));
      p[idx("MTT1")] *= std::exp(std::sqrt(0.141) * z(rng));
      p[idx("MTT2")] *= std::exp(std::sqrt(1.020) * z(rng));
      // The same patient in each arm.
      decide::WarfarinPatient w;
      w.age_years = base.age_years;
      w.height_cm = base.height_cm;
      w.weight_kg = base.weight_kg;
      w.race = ancestry == "east_asian" ? decide::IwpcRace::kAsian
               : ancestry == "african"  ? decide::IwpcRace::kBlackOrAfricanAmerican
                                        : decide::IwpcRace::kWhite;
      w.cyp2c9 = base.cyp2c9;
      w.vkorc1 = base.vkorc1;
      MEDTWIN_TRY(decide::WarfarinDose iwpc, decide::IwpcPharmacogeneticDose(w));
      for (const auto& [arm, dose] : std::vector<std::pair<std::string, double>>{
               {"fixed 5 mg", 5.0}, {"IWPC", std::round(iwpc.daily_mg * 2) / 2}}) {
        WarfarinTrialPatient pt = base;
        pt.arm = arm;
        pt.daily_dose_mg = std::max(0.5, dose);
        sim::Subject s{pt.id, {}};
        sim::Record d;
        d.evid = sim::Evid::kDose;
        d.amt = pt.daily_dose_mg;
        d.cmt = 1;
        d.ii = 24;
        d.addl = o.days - 1;
        s.records.push_back(d);
        for (int day = 1; day <= o.days; ++day) {
          sim::Record obs;
          obs.time = 24.0 * day - 1e-6;  // just before that day's dose
          s.records.push_back(obs);
        }
        MEDTWIN_TRY(sim::SubjectResult r, simulator.Run(s, p));
        int in_range = 0, counted = 0, high = 0;
        for (int day = 1; day <= o.days; ++day) {
          const double inr = r.Output(static_cast<std::size_t>(day), 0);
          pt.inr_by_day.push_back(inr);
          high += inr > 4 ? 1 : 0;
          if (day >= 8) {
            ++counted;
            in_range += inr >= 2 && inr <= 3 ? 1 : 0;
          }
        }
        pt.ttr_pct = 100.0 * in_range / counted;
        pt.above4_pct = 100.0 * high / o.days;
        out.push_back(std::move(pt));
      }
      if (progress) progress(++done, total);
    }
  }
  return out;
}

}  // namespace medtwin::twin
