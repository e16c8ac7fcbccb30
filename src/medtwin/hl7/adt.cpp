#include "medtwin/hl7/adt.h"

#include "medtwin/core/text.h"

namespace medtwin::hl7 {
namespace {

// HL7 table 0004 (patient class) to the v3 ActCode FHIR R4 Encounter.class uses
// (terminology.hl7.org v3-ActCode; the v2-to-FHIR mapping "IS[Encounter.class]").
std::string ClassCode(std::string_view pv1_2) {
  if (pv1_2 == "I") return "IMP";
  if (pv1_2 == "E") return "EMER";
  if (pv1_2 == "O") return "AMB";
  if (pv1_2 == "P") return "PRENC";
  // B (obstetrics), R (recurring), C (commercial account), U, N: no class of their own in
  // v3 ActCode; an inpatient stay is what medtwin's encounters are.
  return pv1_2.empty() ? "" : "IMP";
}

// HL7 table 0001 (administrative sex) to FHIR AdministrativeGender.
std::string Gender(std::string_view pid_8) {
  if (pid_8 == "F") return "female";
  if (pid_8 == "M") return "male";
  if (pid_8 == "O" || pid_8 == "A" || pid_8 == "N") return "other";
  return pid_8.empty() ? "" : "unknown";
}

}  // namespace

Result<AdtContent> ReadAdt(const Message& m, const IdentifierPolicy& policy) {
  AdtContent out;
  const std::string trigger = m.trigger();
  if (trigger == "A01" || trigger == "A04") {  // A04 registers an outpatient: a stay begins too
    out.event = AdtEvent::kAdmit;
  } else if (trigger == "A02") {
    out.event = AdtEvent::kTransfer;
  } else if (trigger == "A03") {
    out.event = AdtEvent::kDischarge;
  } else if (trigger == "A08") {
    out.event = AdtEvent::kUpdate;
  } else {
    return Error{ErrorCode::kUnimplemented, "MSH-9",
                 "ADT^" + Printable(trigger, 8) + " is not taken (A01, A02, A03, A04, A08 are)"};
  }
  const Segment* pid = m.Find("PID");
  if (pid == nullptr) return InvalidArgument("PID", "an ADT message names its patient in PID");
  out.identifiers = PatientIdentifiers(*pid, policy);
  if (out.identifiers.empty()) return InvalidArgument("PID-3", "a patient identifier is required");
  const std::string family = pid->Get(5, 1), given = pid->Get(5, 2);
  out.name = given.empty() ? family : family.empty() ? given : given + " " + family;
  // Text that goes into the record is text a record may hold (no control characters, valid
  // UTF-8 whatever \Xhh\ escapes said, bounded).
  MEDTWIN_RETURN_IF_ERROR(ValidateText(out.name, "PID-5", 200));
  if (const std::string dob = pid->Get(7); !dob.empty()) {
    MEDTWIN_TRY(Instant t, ParseDtm(dob), "PID-7");
    // The record keeps a whole date; a birth year or month alone is left out.
    if (dob.size() >= 8) out.birth_date = FormatRfc3339(t).substr(0, 10);
  }
  out.sex = Gender(pid->Get(8));

  auto time_of = [&](const Segment* s, int field) -> Result<std::optional<Instant>> {
    if (s == nullptr || s->Get(field).empty()) return std::optional<Instant>();
    MEDTWIN_TRY(Instant t, ParseDtm(s->Get(field), policy.utc_offset_min),
                std::string(s->id()) + "-" + std::to_string(field));
    return std::optional<Instant>(t);
  };
  const Segment* evn = m.Find("EVN");
  MEDTWIN_TRY(std::optional<Instant> occurred, time_of(evn, 6));
  MEDTWIN_TRY(std::optional<Instant> recorded, time_of(evn, 2));
  MEDTWIN_TRY(std::optional<Instant> sent, time_of(&m.msh(), 7));
  const std::optional<Instant> when = occurred ? occurred : recorded ? recorded : sent;
  if (!when) return InvalidArgument("EVN-6", "no time for the event (EVN-6, EVN-2 or MSH-7)");
  out.when = *when;

  const Segment* pv1 = m.Find("PV1");
  if (pv1 == nullptr && out.event != AdtEvent::kUpdate) {
    return InvalidArgument("PV1", "ADT^" + trigger + " needs the visit (PV1)");
  }
  if (pv1 != nullptr) {
    out.class_code = ClassCode(pv1->Get(2));
    out.bed = {pv1->Get(3, 1), pv1->Get(3, 2), pv1->Get(3, 3), pv1->Get(3, 4)};
    for (const auto& [part, text] :
         {std::pair{"PV1-3.1", &out.bed.ward}, std::pair{"PV1-3.2", &out.bed.room},
          std::pair{"PV1-3.3", &out.bed.bed}, std::pair{"PV1-3.4", &out.bed.facility}}) {
      MEDTWIN_RETURN_IF_ERROR(ValidateText(*text, part, 64));
    }
    out.visit_number = pv1->Get(19);
    if (!out.visit_number.empty() && !IsValidId(out.visit_number)) {
      return InvalidArgument("PV1-19",
                             "a visit number is 1–64 of A–Z a–z 0–9 '-' '.' '_' (it names the "
                             "FHIR Encounter)");
    }
    MEDTWIN_TRY(out.admitted, time_of(pv1, 44));
    MEDTWIN_TRY(out.discharged, time_of(pv1, 45));
    if ((out.event == AdtEvent::kAdmit || out.event == AdtEvent::kTransfer) && out.bed.empty()) {
      return InvalidArgument("PV1-3", "the bed (point of care ^ room ^ bed) is required");
    }
  }
  return out;
}

Result<std::vector<record::Encounter>> ApplyAdt(std::vector<record::Encounter> encounters,
                                                const AdtContent& adt, const std::string& new_id) {
  const std::string when = FormatRfc3339(adt.when);
  // The encounter the message is about: by visit number, else the one in progress.
  record::Encounter* target = nullptr;
  for (auto& e : encounters) {
    if (!adt.visit_number.empty() && e.id == adt.visit_number) target = &e;
  }
  if (target == nullptr && (adt.visit_number.empty() || adt.event != AdtEvent::kAdmit)) {
    target = record::CurrentEncounter(encounters);
  }
  auto close_bed = [&](record::Encounter& e, const std::string& at) {
    if (!e.locations.empty() && e.locations.back().status == "active") {
      e.locations.back().status = "completed";
      e.locations.back().end = at;
    }
  };
  switch (adt.event) {
    case AdtEvent::kAdmit: {
      // An A01 resent for a visit that has ended changes nothing (the sender retried).
      if (target != nullptr && target->status == "finished" && !adt.visit_number.empty() &&
          target->id == adt.visit_number) {
        break;
      }
      if (target != nullptr && target->status == "in-progress" &&
          (adt.visit_number.empty() || target->id == adt.visit_number)) {
        // Admitted again while in progress (a resent A01): the same stay, perhaps a bed change.
        if (!target->locations.empty() && target->locations.back().bed == adt.bed) break;
        close_bed(*target, when);
        target->locations.push_back(
            {adt.bed, "active", when, "", record::LocationIdFor(adt.bed), ""});
        break;
      }
      // A new stay; one still open elsewhere ends (a patient is in one bed).
      for (auto& e : encounters) {
        if (e.status == "in-progress") {
          close_bed(e, when);
          e.status = "finished";
          e.end = when;
        }
      }
      record::Encounter e;
      e.id = adt.visit_number.empty() ? new_id : adt.visit_number;
      e.status = "in-progress";
      e.class_code = adt.class_code.empty() ? "IMP" : adt.class_code;
      e.start = adt.admitted ? FormatRfc3339(*adt.admitted) : when;
      e.locations.push_back({adt.bed, "active", when, "", record::LocationIdFor(adt.bed), ""});
      encounters.push_back(std::move(e));
      break;
    }
    case AdtEvent::kTransfer: {
      if (target == nullptr || target->status != "in-progress") {
        return Error{ErrorCode::kFailedPrecondition, "PV1-19",
                     "a transfer needs an admission in progress (send A01 first)"};
      }
      if (!target->locations.empty() && target->locations.back().bed == adt.bed) break;
      close_bed(*target, when);
      target->locations.push_back(
          {adt.bed, "active", when, "", record::LocationIdFor(adt.bed), ""});
      break;
    }
    case AdtEvent::kDischarge: {
      if (target == nullptr) {
        return Error{ErrorCode::kFailedPrecondition, "PV1-19",
                     "a discharge needs an admission (send A01 first)"};
      }
      if (target->status == "finished") break;  // resent A03
      const std::string end = adt.discharged ? FormatRfc3339(*adt.discharged) : when;
      close_bed(*target, end);
      target->status = "finished";
      target->end = end;
      break;
    }
    case AdtEvent::kUpdate: {
      if (target == nullptr) break;  // demographics only
      if (!adt.class_code.empty()) target->class_code = adt.class_code;
      if (adt.admitted) target->start = FormatRfc3339(*adt.admitted);
      break;
    }
  }
  // A record keeps its last 100 stays.
  if (encounters.size() > 100) encounters.erase(encounters.begin(), encounters.end() - 100);
  return encounters;
}

}  // namespace medtwin::hl7
