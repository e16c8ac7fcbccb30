#include "medtwin/cli/demo_devices.h"

#include <chrono>
#include <cmath>
#include <random>

#include "medtwin/decide/glucose_control.h"
#include "medtwin/estimate/map_estimator.h"
#include "medtwin/models/glucose.h"
#include "medtwin/models/glucose_devices.h"
#include "medtwin/models/registry.h"
#include "medtwin/models/vitals.h"

namespace medtwin::cli {
namespace {

using nlohmann::json;
namespace loinc = io::loinc;

std::string WardId(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "ward-%02d", i + 1);
  return buf;
}
std::string GlucoseId(int i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "t1d-%02d", i + 1);
  return buf;
}

std::string VancomycinId(int i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "vanco-%02d", i + 1);
  return buf;
}

constexpr const char* kVancomycinBirthDate = "1958-03-14";
constexpr double kVancomycinWeightKg = 82, kVancomycinScrMgDl = 1.1;
constexpr int kVancomycinTherapyDoses = 56;
constexpr long long kHourUs = 3'600'000'000LL;

std::string WarfarinId(int i) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "warf-%02d", i + 1);
  return buf;
}

// The demo's warfarin therapy: 5 mg a day at 18:00 UTC for the last week (a fixed daily grid,
// so a restart re-sends the same records), INR at 08:00 on the 3rd, 5th and 7th day. The INR
// values come from the Hamberg 2007 model itself for the record's genotype (CYP2C9 *1/*3: code
// 2; VKORC1 -1639 G/A: 1) and age at the typical individual (η = 0), rounded to 0.1 as a lab
// reports it.
constexpr const char* kWarfarinBirthDate = "1952-09-02";
void WarfarinHistory(int index, long long now_us, std::vector<json>& events,
                     std::vector<json>& levels) {
  const std::string patient = WarfarinId(index);
  constexpr long long kDayUs = 24 * kHourUs;
  long long last = now_us / kDayUs * kDayUs + 18 * kHourUs;
  if (last > now_us) last -= kDayUs;
  const long long first = last - 6 * kDayUs;
  sim::Subject truth{patient, {}};
  auto pop = estimate::FindPopulationModel("warfarin_hamberg2007");
  if (!pop.ok()) return;
  auto estimator = estimate::MapEstimator::Create(*pop);
  if (!estimator.ok()) return;
  std::vector<double> covariates;
  const auto born = ParseRfc3339(std::string(kWarfarinBirthDate) + "T00:00:00Z");
  for (const auto& name : estimator->data_info().covariates) {
    double v = 0;
    if (name == "CYP2C9") v = 2;
    if (name == "VKORC1") v = 1;
    if (name == "AGE" && born.ok()) {
      v = std::floor(static_cast<double>(first - born->us_since_epoch) / (365.25 * kDayUs));
    }
    covariates.push_back(v);
  }
  std::vector<long long> inr_times;
  for (int day = 0; day < 7; ++day) {
    const long long d = first + day * kDayUs;
    events.push_back({{"patient", patient},
                      {"type", "dose"},
                      {"drug", "warfarin"},
                      {"amount", 5},
                      {"unit", "mg"},
                      {"time", FormatRfc3339(Instant{d})},
                      {"source", "demo-ehr"}});
    sim::Record r;
    r.time = static_cast<double>(d - first) / static_cast<double>(kHourUs);
    r.evid = sim::Evid::kDose;
    r.amt = 5;
    r.covariates = covariates;
    truth.records.push_back(r);
    // INR the morning after the 3rd, 5th and 7th dose (14 h after it).
    if ((day == 2 || day == 4 || day == 6) && d + 14 * kHourUs <= now_us) {
      inr_times.push_back(d + 14 * kHourUs);
      sim::Record o;
      o.time = static_cast<double>(inr_times.back() - first) / static_cast<double>(kHourUs);
      o.evid = sim::Evid::kObservation;
      o.covariates = covariates;
      truth.records.push_back(o);
    }
  }
  auto inr = estimator->Simulate(
      truth, Eigen::VectorXd::Zero(static_cast<Eigen::Index>(pop->eta_names.size())));
  if (!inr.ok()) return;
  std::size_t next = 0;
  for (std::size_t k = 0; k < truth.records.size(); ++k) {
    if (truth.records[k].evid != sim::Evid::kObservation) continue;
    levels.push_back({{"patient", patient},
                      {"code", loinc::kInr},
                      {"value", std::round((*inr)[k] * 10) / 10},
                      {"unit", "{INR}"},
                      {"time", FormatRfc3339(Instant{inr_times[next++]})},
                      {"source", "demo-lab"}});
  }
}

long long NowUs() { return WallClockNow().us_since_epoch; }

std::string NowRfc3339() {
  const long long us = NowUs();
  // Whole milliseconds: readable and unique enough per source.
  return FormatRfc3339(Instant{us - us % 1000});
}

// One ward patient's monitor.
struct WardPatient {
  std::string id;
  models::WardPatientVitals vitals;
};

}  // namespace

namespace {

constexpr const char* kVancomycinPopulationModel = "vancomycin_goti2018";

// The truth of demo patient `index` under its population model `pop`.
DemoDrugTruth VancomycinTruthUnder(const estimate::PopulationModel& pop, int index,
                                   long long first_dose_us) {
  DemoDrugTruth truth{kVancomycinPopulationModel, {}, {}};
  const Eigen::VectorXd eta =
      estimate::SamplePosterior(Eigen::VectorXd::Zero(pop.omega.rows()), pop.omega, 1,
                                20261207U + static_cast<unsigned>(index))
          .front();
  truth.eta.assign(eta.data(), eta.data() + eta.size());
  // The record's values, as the drug twin reads them (CRCL is computed from them).
  const auto born = ParseRfc3339(std::string(kVancomycinBirthDate) + "T00:00:00Z");
  for (const auto& name : pop.DataColumns()) {  // the columns the twin's records carry
    double v = std::nan("");
    if (name == "WT") v = kVancomycinWeightKg;
    if (name == "SCR") v = kVancomycinScrMgDl;
    if (name == "SEX") v = 0;  // male
    if (name == "DIAL") v = 0;
    if (name == "AGE" && born.ok()) {
      v = std::floor(static_cast<double>(first_dose_us - born->us_since_epoch) /
                     (365.25 * 24 * kHourUs));
    }
    truth.covariates.push_back(v);
  }
  return truth;
}

}  // namespace

Result<DemoDrugTruth> DemoVancomycinTruth(int index, long long first_dose_us) {
  MEDTWIN_TRY(estimate::PopulationModel pop,
              estimate::FindPopulationModel(kVancomycinPopulationModel));
  return VancomycinTruthUnder(pop, index, first_dose_us);
}

void DemoVancomycinHistory(int index, long long now_us, std::vector<json>& events,
                           std::vector<json>& levels) {
  const std::string patient = VancomycinId(index);
  const long long last = now_us / (12 * kHourUs) * (12 * kHourUs);
  const double dose_mg = 1000, infusion_h = 1;
  std::vector<long long> doses;
  for (int k = kVancomycinTherapyDoses - 1; k >= 0; --k) doses.push_back(last - k * 12 * kHourUs);
  for (long long d : doses) {
    events.push_back({{"patient", patient},
                      {"type", "dose"},
                      {"drug", "vancomycin"},
                      {"amount", dose_mg},
                      {"unit", "mg"},
                      {"duration_h", infusion_h},
                      {"time", FormatRfc3339(Instant{d})},
                      {"source", "demo-ehr"}});
  }
  auto pop = estimate::FindPopulationModel(kVancomycinPopulationModel);
  if (!pop.ok()) return;
  auto estimator = estimate::MapEstimator::Create(*pop);
  if (!estimator.ok()) return;
  const DemoDrugTruth truth = VancomycinTruthUnder(*pop, index, doses.front());
  auto hours = [&](long long t_us) {
    return static_cast<double>(t_us - doses.front()) / static_cast<double>(kHourUs);
  };
  sim::Subject subject{patient, {}};
  for (long long d : doses) {
    sim::Record r;
    r.time = hours(d);
    r.evid = sim::Evid::kDose;
    r.amt = dose_mg;
    r.rate = dose_mg / infusion_h;
    r.covariates = truth.covariates;
    subject.records.push_back(r);
  }
  // Two levels around the dose before the last. The first pair is a trough and a peak; the
  // sampling times then move through the interval from one dose to the next, so the levels
  // determine the two-compartment curve (repeated trough-peak pairs at steady state carry the
  // same two numbers, which leave V1 and V2 apart undetermined).
  const long long middle = doses[doses.size() - 2];
  constexpr long long kOffsetsMin[3][2] = {{-30, 120}, {90, 360}, {240, 600}};
  const auto& offsets = kOffsetsMin[(middle / (12 * kHourUs)) % 3];
  std::vector<long long> times;
  for (long long minutes : offsets) {
    const long long t = middle + minutes * kHourUs / 60;
    if (t > now_us) continue;
    sim::Record o;
    o.time = hours(t);
    o.covariates = truth.covariates;
    times.push_back(t);
    subject.records.push_back(o);
  }
  std::stable_sort(subject.records.begin(), subject.records.end(),
                   [](const sim::Record& a, const sim::Record& b) { return a.time < b.time; });
  const Eigen::Map<const Eigen::VectorXd> eta(truth.eta.data(),
                                              static_cast<Eigen::Index>(truth.eta.size()));
  auto levels_mg_l = estimator->Simulate(subject, eta);
  if (!levels_mg_l.ok()) return;
  std::size_t next = 0;
  for (std::size_t k = 0; k < subject.records.size(); ++k) {
    if (subject.records[k].evid != sim::Evid::kObservation) continue;
    // The measured level: the truth plus the model's own residual error (so the twin's
    // likelihood describes the data it gets; noise-free levels would pull the MAP fit off the
    // truth through the ln R term of a concentration-dependent error), drawn from a stream
    // fixed by the patient and the level's time so a re-sent level is the same. Labs report
    // 0.1 mg/L steps, nothing below 0.1.
    const long long t_us = times[next];
    std::mt19937_64 rng(20261207ULL + 1'000'003ULL * static_cast<unsigned long long>(index) +
                        static_cast<unsigned long long>(t_us / 60'000'000LL));
    const double f = (*levels_mg_l)[k];
    const double measured = f + pop->residual.Sd(f) * std::normal_distribution<double>()(rng);
    levels.push_back({{"patient", patient},
                      {"code", loinc::kVancomycin},
                      {"value", std::max(0.1, std::round(measured * 10) / 10)},
                      {"unit", "mg/L"},
                      {"time", FormatRfc3339(Instant{times[next++]})},
                      {"source", "demo-lab"}});
  }
}

std::vector<json> DemoPatients(const DemoOptions& o) {
  static const char* kConditions[] = {"pneumonia",  "hip fracture",  "COPD",
                                      "cellulitis", "heart failure", "pyelonephritis"};
  std::vector<json> out;
  for (int i = 0; i < o.ward_patients; ++i) {
    out.push_back({{"id", WardId(i)},
                   {"name", "Demo ward patient " + std::to_string(i + 1)},
                   {"sex", i % 2 == 0 ? "female" : "male"},
                   {"weight_kg", 60 + (i * 7) % 35},
                   {"conditions", {kConditions[i % 6]}},
                   {"spo2_scale", kConditions[i % 6] == std::string("COPD") ? 2 : 1},
                   {"models", {"news2"}},
                   {"care_team", {kDemoClinician}}});
    if (i == 1) {
      // A CYP2C19 poor metabolizer on clopidogrel (given below): the pharmacogenomic alert.
      out.back()["genotype"] = {
          {{"gene", "CYP2C19"}, {"diplotype", "*2/*2"}, {"phenotype", "Poor Metabolizer"}},
          {{"gene", "SLCO1B1"}, {"diplotype", "*1/*5"}, {"phenotype", "Decreased Function"}}};
    }
  }
  const char* kVirtual[] = {"adult#001", "adolescent#003", "adult#004", "child#002"};
  for (int i = 0; i < o.glucose_patients; ++i) {
    out.push_back({{"id", GlucoseId(i)},
                   {"name", "Demo type-1 diabetes patient " + std::to_string(i + 1)},
                   {"conditions", {"type 1 diabetes"}},
                   {"models", {"news2", "glucose"}},
                   {"virtual_patient", kVirtual[i % 4]},
                   {"care_team", {kDemoClinician}}});
  }
  for (int i = 0; i < o.vancomycin_patients; ++i) {
    out.push_back({{"id", VancomycinId(i)},
                   {"name", "Demo vancomycin patient " + std::to_string(i + 1)},
                   {"sex", "male"},
                   {"birth_date", kVancomycinBirthDate},
                   {"weight_kg", kVancomycinWeightKg},
                   {"scr_mg_dl", kVancomycinScrMgDl},
                   {"conditions", {"MRSA bacteraemia"}},
                   {"models", {"news2", "vancomycin"}},
                   {"population_model", "vancomycin_goti2018"},
                   {"care_team", {kDemoClinician}}});
  }
  for (int i = 0; i < o.warfarin_patients; ++i) {
    out.push_back(
        {{"id", WarfarinId(i)},
         {"name", "Demo warfarin patient " + std::to_string(i + 1)},
         {"sex", "female"},
         {"race", "white"},
         {"birth_date", kWarfarinBirthDate},
         {"height_cm", 165},
         {"weight_kg", 70},
         {"conditions", {"atrial fibrillation"}},
         {"models", {"news2", "warfarin"}},
         {"genotype",
          {{{"gene", "CYP2C9"}, {"diplotype", "*1/*3"}, {"phenotype", "Intermediate Metabolizer"}},
           {{"gene", "VKORC1"},
            {"diplotype", "rs9923231 reference (C)/rs9923231 variant (T)"},
            {"phenotype", "-1639 AG"}}}},
         {"care_team", {kDemoClinician}}});
  }
  return out;
}

Result<std::unique_ptr<DemoFeeder>> DemoFeeder::Start(server::TwinService& service,
                                                      const DemoOptions& o) {
  DeviceSink sink;
  sink.create_patient = [&service](const json& p) -> Status {
    if (service.Patient(p["id"].get<std::string>())) return Ok{};
    auto created = service.CreatePatient(p);
    if (!created.ok()) return created.error();
    return Ok{};
  };
  sink.send = [&service](const std::vector<json>& batch) -> Result<std::size_t> {
    MEDTWIN_TRY(server::IngestReport r, service.Ingest(batch, ""));
    return r.accepted.size();
  };
  sink.send_events = [&service](const std::vector<json>& events) -> Status {
    auto r = service.IngestEvents(events, "");
    if (!r.ok()) return r.error();
    return Ok{};
  };
  return Start(std::move(sink), o);
}

Result<std::unique_ptr<DemoFeeder>> DemoFeeder::Start(DeviceSink sink, const DemoOptions& o) {
  if (!(o.speed > 0) || o.speed > 100'000) {
    return InvalidArgument("--speed", "must be in (0, 100000]");
  }
  if (o.ward_patients < 0 || o.ward_patients > 10'000 || o.glucose_patients < 0 ||
      o.glucose_patients > 100) {
    return InvalidArgument("--patients", "0..10000 ward patients, 0..100 glucose patients");
  }
  if (o.vancomycin_patients < 0 || o.vancomycin_patients > 100) {
    return InvalidArgument("--vancomycin-patients", "0..100");
  }
  if (o.warfarin_patients < 0 || o.warfarin_patients > 100) {
    return InvalidArgument("--warfarin-patients", "0..100");
  }
  for (const json& p : DemoPatients(o)) MEDTWIN_RETURN_IF_ERROR(sink.create_patient(p));
  std::unique_ptr<DemoFeeder> f(new DemoFeeder(std::move(sink), o));
  f->thread_ = std::thread([raw = f.get()] { raw->Run(); });
  return f;
}

DemoFeeder::~DemoFeeder() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

void DemoFeeder::Run() {
  std::mt19937_64 rng(options_.seed);
  std::normal_distribution<double> noise(0, 1);
  std::vector<WardPatient> ward;
  for (int i = 0; i < options_.ward_patients; ++i) {
    // ward-03, ward-07, ward-11 deteriorate, from 15, 45 and 75 simulated minutes on.
    ward.push_back({WardId(i), models::WardPatientVitals(i % 4 == 2, 0.25 + 0.5 * (i / 4))});
  }
  // Glucose patients: the UVA/Padova body, a CGM, a pump and basal-bolus therapy.
  struct GlucosePatient {
    std::string id;
    const models::VirtualPatient* vp;
    std::unique_ptr<sim::LiveSimulation> body;
    std::unique_ptr<decide::GlucoseController> controller;
    models::GlucoseInputs inputs;
    std::unique_ptr<models::CgmSensor> cgm;
  };
  std::vector<GlucosePatient> diabetics;
  const sim::Model* uva = *models::FindModel("uva_padova");
  const char* kVirtual[] = {"adult#001", "adolescent#003", "adult#004", "child#002"};
  for (int i = 0; i < options_.glucose_patients; ++i) {
    auto vp = models::FindVirtualPatient(kVirtual[i % 4]);
    if (!vp.ok()) continue;
    auto body = sim::LiveSimulation::Create(*uva, (*vp)->params, 0);
    auto controller = decide::MakeController(decide::ControllerKind::kBasalBolus, *uva, **vp);
    if (!body.ok() || !controller.ok()) continue;
    GlucosePatient g{
        GlucoseId(i),           *vp, std::make_unique<sim::LiveSimulation>(std::move(*body)),
        std::move(*controller), {},  nullptr};
    g.inputs.basal_u_per_min = (*vp)->basal_u_per_min;
    g.cgm = std::make_unique<models::CgmSensor>(
        models::CgmSpec{}, options_.seed + 100 + static_cast<std::uint64_t>(i));
    diabetics.push_back(std::move(g));
  }

  const auto start = std::chrono::steady_clock::now();
  double next_vitals_min = 0;
  // CGM clock: whole 5-min steps starting 24 h ago (the backfill), then real time.
  const long long cgm_origin_us =
      (NowUs() - 24LL * 3600 * 1'000'000) / 300'000'000LL * 300'000'000LL;
  long long next_cgm_us = cgm_origin_us;
  models::InsulinPump pump(models::PumpSpec{});
  long long vancomycin_sent_until = 0, warfarin_sent_until = 0;
  if (options_.ward_patients > 1 && sink_.send_events) {
    // ward-02's clopidogrel, once a day at 00:00 UTC (the same record again after a restart).
    const long long day_us = 24 * 3'600'000'000LL;
    const std::vector<json> clopidogrel = {
        {{"patient", WardId(1)},
         {"type", "dose"},
         {"drug", "clopidogrel"},
         {"amount", 75},
         {"unit", "mg"},
         {"time", FormatRfc3339(Instant{NowUs() / day_us * day_us})},
         {"source", "demo-ehr"}}};
    if (!sink_.send_events(clopidogrel).ok()) ++failed_;
  }
  // Drug therapies: each patient's history (doses as events, then levels) at start and again
  // every `period_us`, when a new dose or level time may have come (repeats are recognized by
  // the store).
  using History = void (*)(int, long long, std::vector<json>&, std::vector<json>&);
  auto send_history = [&](int patients, History history, long long period_us,
                          long long& sent_until) {
    if (patients <= 0 || NowUs() < sent_until) return;
    std::vector<json> doses, levels;
    for (int i = 0; i < patients; ++i) history(i, NowUs(), doses, levels);
    if (sink_.send_events && !sink_.send_events(doses).ok()) ++failed_;
    if (!levels.empty()) {
      if (auto r = sink_.send(levels); r.ok()) {
        sent_ += *r;
      } else {
        ++failed_;
      }
    }
    sent_until = (NowUs() / period_us + 1) * period_us;
  };
  constexpr long long k1hUs = 3'600'000'000LL;
  while (!stop_) {
    // Vancomycin: at every new 12-h dose time; warfarin: every hour (doses at 18:00, INRs at
    // 08:00).
    send_history(options_.vancomycin_patients, DemoVancomycinHistory, 12 * k1hUs,
                 vancomycin_sent_until);
    send_history(options_.warfarin_patients, WarfarinHistory, k1hUs, warfarin_sent_until);
    const double sim_min =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() *
        options_.speed / 60.0;
    std::vector<json> batch;
    if (sim_min >= next_vitals_min) {
      next_vitals_min += 15;  // a set every 15 simulated minutes
      const std::string now = NowRfc3339();
      const double h = sim_min / 60;
      for (auto& w : ward) {
        const models::VitalSignsReading v = w.vitals.Read(h, rng, noise);
        auto add = [&](std::string_view code, json value, const char* unit) {
          json o = {{"patient", w.id},
                    {"code", code},
                    {"value", value},
                    {"time", now},
                    {"source", "demo-monitor"}};
          if (unit != nullptr) o["unit"] = unit;
          batch.push_back(std::move(o));
        };
        add(loinc::kRespiratoryRate, v.respiration_per_min, "/min");
        add(loinc::kSpo2, v.spo2_percent, "%");
        add(loinc::kInhaledO2Flow, v.o2_flow_l_per_min, "L/min");
        add(loinc::kSystolicBp, v.systolic_mmhg, "mm[Hg]");
        add(loinc::kDiastolicBp, v.diastolic_mmhg, "mm[Hg]");
        add(loinc::kHeartRate, v.heart_rate_per_min, "/min");
        add(loinc::kBodyTemperature, v.temperature_c, "Cel");
        add(loinc::kConsciousness, std::string(1, v.acvpu), nullptr);
      }
    }
    // CGM patients live in real time (their twins' physiology must match the clock), after
    // a backfill of the last 24 h at start-up.
    const auto now_us = NowUs();
    std::vector<json> events;
    while (!diabetics.empty() && next_cgm_us <= now_us) {
      const long long t_us = next_cgm_us;
      next_cgm_us += 5 * 60'000'000LL;
      const double t = static_cast<double>(t_us - cgm_origin_us) / 6e7;  // body minutes
      const std::string when = FormatRfc3339(Instant{t_us});
      const double tod = std::fmod(static_cast<double>(t_us / 60'000'000LL), 1440.0);  // UTC
      for (auto& g : diabetics) {
        double meal = 0;
        for (double m : {420.0, 720.0, 1080.0}) {
          if (tod == m) meal = m == 420 ? 45 : (m == 720 ? 70 : 80);
        }
        if (meal > 0) {
          g.inputs.StartMeal(t, meal);
          events.push_back({{"patient", g.id},
                            {"type", "meal"},
                            {"amount", meal},
                            {"unit", "g"},
                            {"time", when},
                            {"source", "demo-app"}});
        }
        const double reading = g.cgm->Read(g.body->Output(1));
        auto req = g.controller->Decide({t, reading, meal});
        if (req.ok()) {
          const auto delivered = pump.Deliver(req->basal_u_per_min, req->bolus_u);
          g.controller->Delivered(t, delivered);
          if (delivered.basal_u_per_min != g.inputs.basal_u_per_min || t == 0) {
            events.push_back({{"patient", g.id},
                              {"type", "basal"},
                              {"rate", delivered.basal_u_per_min * 60},
                              {"unit", "U/h"},
                              {"time", when},
                              {"source", "demo-pump"}});
          }
          if (delivered.bolus_u > 0) {
            events.push_back({{"patient", g.id},
                              {"type", "insulin"},
                              {"amount", delivered.bolus_u},
                              {"unit", "U"},
                              {"time", when},
                              {"source", "demo-pump"}});
          }
          g.inputs.basal_u_per_min = delivered.basal_u_per_min;
          g.inputs.GiveBolus(t, delivered.bolus_u);
        }
        (void)models::AdvanceGlucose(*g.body, g.inputs, t + 5);
        batch.push_back({{"patient", g.id},
                         {"code", loinc::kCgmGlucose},
                         {"value", reading},
                         {"unit", "mg/dL"},
                         {"time", when},
                         {"source", "demo-cgm"}});
      }
      // Events go first so the twin knows the meal and insulin when the reading arrives.
      if (batch.size() > 2000) break;
    }
    if (!events.empty() && sink_.send_events) {
      if (!sink_.send_events(events).ok()) ++failed_;
    }
    if (!batch.empty()) {
      auto r = sink_.send(batch);
      if (r.ok()) {
        sent_ += *r;
      } else {
        ++failed_;
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace medtwin::cli
