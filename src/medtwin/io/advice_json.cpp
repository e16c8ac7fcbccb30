#include "medtwin/io/advice_json.h"

#include <string>

namespace medtwin::io {

using nlohmann::json;

json AlertToJson(const record::Alert& a) {
  return {{"id", std::to_string(a.id)},
          {"patient", a.patient},
          {"kind", a.kind},
          {"severity", record::SeverityName(a.severity)},
          {"status", record::AlertStatusName(a.status)},
          {"raised_at", FormatRfc3339(a.raised_at)},
          {"updated_at", FormatRfc3339(a.updated_at)},
          {"message", a.message},
          {"escalations", a.escalations},
          {"acknowledged_by", a.acknowledged_by}};
}

json RecommendationToJson(const record::Recommendation& r) {
  json out = {{"status", "draft"},
              {"kind", "dose"},
              {"drug", r.drug},
              {"dose_mg", r.dose_mg},
              {"interval_h", r.interval_h},
              {"infusion_h", r.infusion_h},
              {"probability_of_target_attainment", r.probability_of_target_attainment},
              {"target", r.target},
              {"basis", r.basis}};
  if (!r.patient.empty()) out["patient"] = r.patient;
  if (r.predicted_auc24_mg_h_per_l)
    out["predicted_auc24_mg_h_per_l"] = *r.predicted_auc24_mg_h_per_l;
  if (r.predicted_trough_mg_l) out["predicted_trough_mg_l"] = *r.predicted_trough_mg_l;
  if (r.predicted_inr_trough) out["predicted_inr_trough"] = *r.predicted_inr_trough;
  if (r.predicted_inr_peak) out["predicted_inr_peak"] = *r.predicted_inr_peak;
  return out;
}

json InsulinCommandToJson(const record::InsulinCommand& c) {
  return {{"kind", "insulin"},          {"patient", c.patient},
          {"controller", c.controller}, {"time", FormatRfc3339(c.time)},
          {"cgm_mg_dl", c.cgm_mg_dl},   {"basal_u_per_h", c.basal_u_per_h},
          {"bolus_u", c.bolus_u},       {"suspended", c.suspended},
          {"limited", c.limited},       {"valid_for_min", c.valid_for_min}};
}

json OrderToJson(const record::Event& o) {
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

}  // namespace medtwin::io
