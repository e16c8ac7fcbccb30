#include "medtwin/twin/live_twin.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "medtwin/models/glucose.h"
#include "medtwin/models/registry.h"
#include "medtwin/twin/drug_twin.h"
#include "medtwin/twin/pharmacogenomics.h"

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
  glucose_ = std::make_unique<GlucoseTwin>(GlucoseTwin{
      t, std::move(*filter), 0, 0, false, name, nullptr, 0, json(), monitor::HypoglycemiaAlert()});
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

Result<json> LiveTwin::WhatIf(const json& plan) {
  if (!plan.is_object() || !plan.contains("model") || !plan["model"].is_string()) {
    return InvalidArgument("model", "vancomycin, warfarin or glucose");
  }
  const std::string model = plan["model"];
  if (DrugSpecNamed(model) != nullptr) {
    MEDTWIN_TRY(DrugWhatIfInputs in, DrugWhatIfInputsFor(model));
    return DrugWhatIf(*in.spec, *in.fit, in.history, WallClockNow(), plan);
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
    drug_->stale = true;
    update.drug_fit_needed = live;
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
          // monitor::HypoglycemiaAlert decides (docs/glucose.md scores this very rule).
          const bool was_active = g->hypo_alert.active();
          if (g->hypo_alert.Feed(t, o.value, *path)) {
            note(Raise(
                "hypoglycemia-predicted", Severity::kHigh, o.time,
                Fmt("glucose predicted to fall to %.0f mg/dL within 30 min", g->lowest30_mg_dl),
                next_alert_id));
          } else if (was_active && !g->hypo_alert.active()) {
            note(Resolve("hypoglycemia-predicted", o.time));
          }
          g->predicted_hypo = g->hypo_alert.active();
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
  const DrugTwinSpec* spec = DrugSpec();
  if (spec != nullptr &&
      (spec->model == "warfarin" || (drug_ && (drug_->fit || !drug_->levels.empty())))) {
    json state = drug_ && drug_->fit ? drug_->fit->state : json::object();
    // A level newer than the fit shown: its refit is queued or running.
    if (drug_ && !drug_->levels.empty()) state["refit_pending"] = DrugFitPending();
    // Before (and beside) the INR-driven fit: the IWPC pharmacogenetic starting dose.
    if (spec->model == "warfarin")
      state["iwpc"] = IwpcStartingDose(record_, drugs_, WallClockNow());
    if (!state.empty()) model_state[std::string(spec->model)] = std::move(state);
  }
  if (drug_) {
    if (drug_->fit && !drug_->fit->recommendation.is_null()) {
      recommendations.push_back(drug_->fit->recommendation);
    }
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

const DrugTwinSpec* LiveTwin::DrugSpec() const { return DrugSpecFor(record_); }

bool LiveTwin::DrugFitDue() const {
  // `stale` is set only with a new level, so there are levels; a fit also needs doses and a
  // drug-twin model on the record.
  return drug_ && drug_->stale && !drug_->doses.empty() && DrugSpec() != nullptr;
}

std::optional<DrugFitJob> LiveTwin::TakeDrugFitJob(bool announce) {
  if (!drug_ || drug_->fitting) return std::nullopt;
  const bool due = DrugFitDue();
  drug_->stale = false;  // not due: nothing to fit until the next level
  if (!due) return std::nullopt;
  drug_->fitting = true;
  return DrugFitJob{record_, DrugSpec(), drug_->doses, drug_->levels, announce};
}

bool LiveTwin::InstallDrugFit(std::shared_ptr<const DrugFit> fit) {
  if (!drug_) return false;
  drug_->fitting = false;
  if (!fit->model && drug_->fit && drug_->fit->model) {
    // A failed refit reports its error but keeps the last good posterior and advice.
    auto kept = std::make_shared<DrugFit>(*drug_->fit);
    kept->state = fit->state;
    kept->announce = false;
    fit = std::move(kept);
  }
  drug_->fit = std::move(fit);
  return !drug_->fit->recommendation.is_null();
}

bool LiveTwin::DrugFitPending() const { return drug_ && (drug_->fitting || DrugFitDue()); }

void LiveTwin::RefitDrugTwinNow() {
  if (auto job = TakeDrugFitJob(false)) {
    InstallDrugFit(std::make_shared<const DrugFit>(FitDrugTwin(*job)));
  }
}

Result<DrugWhatIfInputs> LiveTwin::DrugWhatIfInputsFor(const std::string& model) const {
  const DrugTwinSpec* spec = DrugSpec();
  if (spec == nullptr || spec->model != model) {
    return InvalidArgument("model", "this patient has no " + model + " twin");
  }
  if (!drug_ || !drug_->fit || !drug_->fit->model) {
    return InvalidArgument("model", "the " + model + " twin has no fit yet (doses and a level)");
  }
  return DrugWhatIfInputs{spec, drug_->fit, DrugHistory{drug_->doses, drug_->levels}};
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
