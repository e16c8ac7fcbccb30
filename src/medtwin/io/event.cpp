#include "medtwin/io/event.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "medtwin/core/text.h"
#include "medtwin/core/units.h"
#include "medtwin/io/json_input.h"

namespace medtwin::io {
namespace {

// An order's limits (typing guards around any real order, shared by ParseEvent and
// ValidateOrder): a drug dose 0.001 mg–100 g, every 1–168 h, infused over at most 48 h; an
// insulin bolus up to 25 U and a basal rate up to 40 U/h.
struct Range {
  double lo, hi;
};
constexpr Range kOrderDoseMg{0.001, 100000};
constexpr Range kOrderIntervalH{1, 168};
constexpr Range kInfusionH{0, 48};
constexpr Range kOrderBolusU{0, 25};
constexpr Range kBasalUPerH{0, 40};
constexpr std::size_t kMaxByBytes = 64;

// "%g mg is outside 0.001–100000 mg", the message of an amount out of range.
Error OutsideRange(const char* key, double x, const char* unit, Range r) {
  char buf[128];
  std::snprintf(buf, sizeof buf, "%g %s is outside %g–%g %s", x, unit, r.lo, r.hi, unit);
  return InvalidArgument(key, buf);
}

// "1–168 h", the message of a duration out of range.
Error HoursOutside(const char* key, Range r) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%g–%g h", r.lo, r.hi);
  return InvalidArgument(key, buf);
}

bool Within(double x, Range r) { return std::isfinite(x) && x >= r.lo && x <= r.hi; }

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
  if (!Within(*converted, {lo, hi})) return OutsideRange(key, *converted, canonical, {lo, hi});
  return *converted;
}

// A duration in hours in [lo, hi]; `missing` when absent (negative: required).
Result<double> Hours(const nlohmann::json& j, const char* key, double lo, double hi,
                     double missing) {
  auto d = j.find(key);
  if (d == j.end()) {
    if (missing < 0) return InvalidArgument(key, "missing");
    return missing;
  }
  if (!d->is_number() || !Within(d->get<double>(), {lo, hi})) return HoursOutside(key, {lo, hi});
  return d->get<double>();
}

// A dose's amount: a mass (converted to mg) or a count of a countable unit ("patch", "{tbl}").
Status ParseDoseAmount(const nlohmann::json& j, Event& e) {
  std::string unit = "mg";
  if (auto u = j.find("unit"); u != j.end() && u->is_string()) unit = u->get<std::string>();
  if (ConvertUnit(1.0, unit, "mg").ok()) {
    MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "mg", 0.001, 100000));
    e.dose_unit = "mg";
    return Ok{};
  }
  if (unit.empty() || unit.size() > 16 || unit.find_first_of(" \t\"\\") != std::string::npos) {
    return InvalidArgument("unit", "a mass (mg, g, ug) or a countable unit such as {tbl}");
  }
  if (e.drug == "vancomycin") {
    return Error{ErrorCode::kUnitMismatch, "unit", "vancomycin doses must be a mass (mg)"};
  }
  if (ConvertUnit(1.0, unit, "mL").ok()) {
    return Error{ErrorCode::kUnitMismatch, "unit",
                 "'" + unit + "' is a volume; give the dose as a mass (mg)"};
  }
  auto v = j.find("amount");
  if (v == j.end() || !v->is_number() || !(v->get<double>() > 0) || v->get<double>() > 1e4) {
    return InvalidArgument("amount", "a number > 0 is required");
  }
  e.amount = v->get<double>();
  e.dose_unit = unit;
  return Ok{};
}

}  // namespace

Result<Event> ParseEvent(const nlohmann::json& j, std::string_view patient_from_path,
                         const ObservationLimits& limits) {
  if (!j.is_object()) return InvalidArgument("event", "must be a JSON object");
  Event e;
  MEDTWIN_TRY(e.patient, TextMember(j, "patient", false, kMaxIdLength, !limits.as_stored));
  if (!patient_from_path.empty()) {
    if (!e.patient.empty() && e.patient != patient_from_path) {
      return InvalidArgument("patient", "differs from the patient in the URL");
    }
    e.patient = std::string(patient_from_path);
  }
  if (e.patient.empty()) return InvalidArgument("patient", "missing");
  MEDTWIN_RETURN_IF_ERROR(ValidateId(e.patient, "patient"));
  MEDTWIN_TRY(e.type, TextMember(j, "type", true, 32, !limits.as_stored));
  if (e.type == "meal") {
    MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "g", 0.1, 500));
  } else if (e.type == "insulin") {
    MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "U", 0.01, 100));
  } else if (e.type == "basal") {
    MEDTWIN_TRY(e.rate, Quantity(j, "rate", "unit", "U/h", 0, 40));
  } else if (e.type == "dose") {
    MEDTWIN_TRY(e.drug, TextMember(j, "drug", false, 64, !limits.as_stored));
    if (e.drug.empty()) return InvalidArgument("drug", "name the drug");
    MEDTWIN_RETURN_IF_ERROR(ParseDoseAmount(j, e));
    MEDTWIN_TRY(e.duration_h, Hours(j, "duration_h", 0, 48, 0));
  } else if (e.type == "order") {
    MEDTWIN_TRY(e.drug, TextMember(j, "drug", false, 64, !limits.as_stored));
    if (e.drug.empty()) return InvalidArgument("drug", "name the drug");
    if (e.drug == "insulin") {
      // An insulin order (from the glucose twin's what-if): a bolus now (amount, U) and/or a
      // basal rate (rate, U/h).
      e.dose_unit = "U";
      if (!j.contains("amount") && !j.contains("rate")) {
        return InvalidArgument("amount",
                               "an insulin order gives a bolus (amount, U) or a basal "
                               "rate (rate, U/h)");
      }
      if (j.contains("amount")) {
        MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "U", kOrderBolusU.lo, kOrderBolusU.hi));
      }
      e.rate = -1;  // no change to the basal rate
      if (j.contains("rate")) {
        MEDTWIN_TRY(e.rate,
                    Quantity(j, "rate", "rate_unit", "U/h", kBasalUPerH.lo, kBasalUPerH.hi));
      }
    } else {
      MEDTWIN_TRY(e.amount, Quantity(j, "amount", "unit", "mg", kOrderDoseMg.lo, kOrderDoseMg.hi));
      MEDTWIN_TRY(e.interval_h, Hours(j, "interval_h", kOrderIntervalH.lo, kOrderIntervalH.hi, -1));
      MEDTWIN_TRY(e.duration_h, Hours(j, "duration_h", kInfusionH.lo, kInfusionH.hi, 0));
    }
    MEDTWIN_TRY(e.by, TextMember(j, "by", false, kMaxByBytes, !limits.as_stored));
  } else if (e.type == "ack") {
    auto kind = j.find("alert_kind");
    auto raised = j.find("alert_raised_at");
    if (kind == j.end() || !kind->is_string() || raised == j.end() || !raised->is_string()) {
      return InvalidArgument("alert_kind", "an ack names the alert's kind and raised time");
    }
    MEDTWIN_TRY(e.alert_kind, TextMember(j, "alert_kind", true, 64, !limits.as_stored));
    auto raised_at = ParseRfc3339(raised->get<std::string>());
    if (!raised_at.ok()) return InvalidArgument("alert_raised_at", "not RFC 3339");
    e.alert_raised_at = *raised_at;
    MEDTWIN_TRY(e.by, TextMember(j, "by", false, 64, !limits.as_stored));
  } else {
    return InvalidArgument("type", "'" + e.type + "' is not meal, insulin, basal or dose");
    // (ack and order are the server's own records; the API refuses them from clients)
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
  if (e.time < limits.earliest) return InvalidArgument("time", "before 1900-01-01");
  MEDTWIN_TRY(e.source, TextMember(j, "source", false, 256, !limits.as_stored));
  return e;
}

Status ValidateOrder(const Event& e) {
  if (e.type != "order") return InvalidArgument("type", "not an order");
  if (e.drug.empty()) return InvalidArgument("drug", "name the drug");
  if (e.drug == "insulin") {
    if (!Within(e.amount, kOrderBolusU)) return OutsideRange("amount", e.amount, "U", kOrderBolusU);
    if (e.rate != -1 && !Within(e.rate, kBasalUPerH)) {  // -1: the rate stays
      return OutsideRange("rate", e.rate, "U/h", kBasalUPerH);
    }
  } else {
    if (!Within(e.amount, kOrderDoseMg))
      return OutsideRange("amount", e.amount, "mg", kOrderDoseMg);
    if (!Within(e.interval_h, kOrderIntervalH)) return HoursOutside("interval_h", kOrderIntervalH);
    if (!Within(e.duration_h, kInfusionH)) return HoursOutside("duration_h", kInfusionH);
  }
  return ValidateText(e.by, "by", kMaxByBytes);
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
  } else if (e.type == "order" && e.drug == "insulin") {
    j["drug"] = e.drug;
    j["amount"] = e.amount;
    j["unit"] = "U";
    if (e.rate >= 0) {
      j["rate"] = e.rate;
      j["rate_unit"] = "U/h";
    }
    j["by"] = e.by;
  } else if (e.type == "order") {
    j["drug"] = e.drug;
    j["amount"] = e.amount;
    j["unit"] = "mg";
    j["interval_h"] = e.interval_h;
    j["duration_h"] = e.duration_h;
    j["by"] = e.by;
  } else {
    j["drug"] = e.drug;
    j["amount"] = e.amount;
    j["unit"] = e.dose_unit;
    j["duration_h"] = e.duration_h;
  }
  return j;
}

}  // namespace medtwin::io
