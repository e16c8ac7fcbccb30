#include "medtwin/io/event.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "medtwin/core/units.h"

namespace medtwin::io {
namespace {

Result<double> Quantity(const nlohmann::json& j, const char* key, const char* unit_key,
                        const char* canonical, double lo, double hi) {
  auto v = j.find(key);
  if (v == j.end() || !v->is_number()) return InvalidArgument(key, "a number is required");
  const double x = v->get<double>();
  std::string unit = canonical;
  if (auto u = j.find(unit_key); u != j.end()) {
    if (!u->is_string()) return InvalidArgument(unit_key, "must be a string");
    unit = u->get<std::string>();
  }
  auto converted = ConvertUnit(x, unit, canonical);
  if (!converted.ok()) {
    return Error{ErrorCode::kUnitMismatch, unit_key,
                 "'" + unit.substr(0, 24) + "' cannot be converted to " + canonical};
  }
  if (!std::isfinite(*converted) || *converted < lo || *converted > hi) {
    char buf[128];
    std::snprintf(buf, sizeof buf, "%g %s is outside %g–%g %s", *converted, canonical, lo, hi,
                  canonical);
    return InvalidArgument(key, buf);
  }
  return *converted;
}

}  // namespace

Result<Event> ParseEvent(const nlohmann::json& j, std::string_view patient_from_path,
                         const ObservationLimits& limits) {
  if (!j.is_object()) return InvalidArgument("event", "must be a JSON object");
  Event e;
  if (auto p = j.find("patient"); p != j.end() && !p->is_null()) {
    if (!p->is_string()) return InvalidArgument("patient", "must be a string");
    e.patient = p->get<std::string>();
  }
  if (!patient_from_path.empty()) {
    if (!e.patient.empty() && e.patient != patient_from_path) {
      return InvalidArgument("patient", "differs from the patient in the URL");
    }
    e.patient = std::string(patient_from_path);
  }
  if (e.patient.empty()) return InvalidArgument("patient", "missing");
  auto type = j.find("type");
  if (type == j.end() || !type->is_string()) return InvalidArgument("type", "missing");
  e.type = type->get<std::string>();
  if (e.type == "meal") {
    MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "g", 0.1, 500));
  } else if (e.type == "insulin") {
    MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "U", 0.01, 100));
  } else if (e.type == "basal") {
    MEDTWIN_TRY(e.rate, Quantity(j, "rate", "unit", "U/h", 0, 40));
  } else if (e.type == "dose") {
    auto drug = j.find("drug");
    if (drug == j.end() || !drug->is_string() || drug->get<std::string>().empty()) {
      return InvalidArgument("drug", "name the drug");
    }
    e.drug = drug->get<std::string>().substr(0, 64);
    MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "mg", 0.001, 100000));
    if (auto d = j.find("duration_h"); d != j.end()) {
      if (!d->is_number() || d->get<double>() < 0 || d->get<double>() > 48) {
        return InvalidArgument("duration_h", "0–48 h");
      }
      e.duration_h = d->get<double>();
    }
  } else if (e.type == "ack") {
    auto kind = j.find("alert_kind");
    auto raised = j.find("alert_raised_at");
    if (kind == j.end() || !kind->is_string() || raised == j.end() || !raised->is_string()) {
      return InvalidArgument("alert_kind", "an ack names the alert's kind and raised time");
    }
    e.alert_kind = kind->get<std::string>().substr(0, 64);
    auto raised_at = ParseRfc3339(raised->get<std::string>());
    if (!raised_at.ok()) return InvalidArgument("alert_raised_at", "not RFC 3339");
    e.alert_raised_at = *raised_at;
    if (auto by = j.find("by"); by != j.end() && by->is_string()) {
      e.by = by->get<std::string>().substr(0, 64);
    }
  } else {
    return InvalidArgument("type",
                           "'" + e.type.substr(0, 24) + "' is not meal, insulin, basal or dose");
  }
  auto time = j.find("time");
  if (time == j.end() || !time->is_string()) return InvalidArgument("time", "missing");
  auto t = ParseRfc3339(time->get<std::string>());
  if (!t.ok()) return InvalidArgument("time", "not RFC 3339");
  e.time = *t;
  if (limits.now.us_since_epoch > 0 &&
      e.time.us_since_epoch > limits.now.us_since_epoch + limits.max_future_us) {
    return InvalidArgument("time", "more than 5 min in the future");
  }
  if (auto s = j.find("source"); s != j.end() && s->is_string()) {
    e.source = s->get<std::string>().substr(0, 256);
  }
  return e;
}

nlohmann::json EventToJson(const Event& e) {
  nlohmann::json j = {{"patient", e.patient},
                      {"type", e.type},
                      {"time", FormatRfc3339(e.time)},
                      {"source", e.source}};
  if (e.type == "meal") {
    j["amount"] = e.amount;
    j["unit"] = "g";
  } else if (e.type == "insulin") {
    j["amount"] = e.amount;
    j["unit"] = "U";
  } else if (e.type == "basal") {
    j["rate"] = e.rate;
    j["unit"] = "U/h";
  } else if (e.type == "ack") {
    j["alert_kind"] = e.alert_kind;
    j["alert_raised_at"] = FormatRfc3339(e.alert_raised_at);
    j["by"] = e.by;
  } else {
    j["drug"] = e.drug;
    j["amount"] = e.amount;
    j["unit"] = "mg";
    j["duration_h"] = e.duration_h;
  }
  return j;
}

}  // namespace medtwin::io
