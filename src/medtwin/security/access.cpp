#include "medtwin/security/access.h"

#include <algorithm>

namespace medtwin::security {
namespace {

struct Scope {
  std::string context;   // patient, user, system
  std::string resource;  // "*" or a FHIR resource type
  std::string letters;   // subset of "cruds"
};

bool ParseScope(std::string_view text, Scope* out) {
  const auto slash = text.find('/');
  const auto dot = text.rfind('.');
  if (slash == std::string_view::npos || dot == std::string_view::npos || dot < slash) return false;
  Scope s{std::string(text.substr(0, slash)), std::string(text.substr(slash + 1, dot - slash - 1)),
          std::string(text.substr(dot + 1))};
  if (s.context != "patient" && s.context != "user" && s.context != "system") return false;
  if (s.resource.empty()) return false;
  for (char c : s.resource) {
    if (!(std::isalpha(static_cast<unsigned char>(c)) || c == '*')) return false;
  }
  if (s.letters == "read") {
    s.letters = "rs";
  } else if (s.letters == "write") {
    s.letters = "cud";
  } else if (s.letters == "*") {
    s.letters = "cruds";
  } else {
    // v2: letters in the order c, r, u, d, s, each at most once.
    std::size_t at = 0;
    const std::string order = "cruds";
    for (char c : s.letters) {
      const auto pos = order.find(c, at);
      if (pos == std::string::npos) return false;
      at = pos + 1;
    }
    if (s.letters.empty()) return false;
  }
  *out = std::move(s);
  return true;
}

Decision Deny(std::string why) { return {false, std::move(why)}; }

}  // namespace

char InteractionLetter(Interaction i) {
  switch (i) {
    case Interaction::kCreate:
      return 'c';
    case Interaction::kRead:
      return 'r';
    case Interaction::kUpdate:
      return 'u';
    case Interaction::kDelete:
      return 'd';
    case Interaction::kSearch:
      return 's';
  }
  return 'r';
}

Status ValidateScope(std::string_view scope) {
  Scope s;
  if (!ParseScope(scope, &s)) {
    return InvalidArgument("--scope", "'" + std::string(scope.substr(0, 40)) +
                                          "' is not context/Resource.perms (e.g. patient/*.rs, "
                                          "user/Observation.cruds, system/*.read)");
  }
  return Ok{};
}

Decision Decide(const Claims& who, std::string_view resource_type, Interaction what,
                const std::string& patient, const std::vector<std::string>& care_team) {
  const bool reading = what == Interaction::kRead || what == Interaction::kSearch;
  if (resource_type == "AuditEvent" && who.role != Role::kAdmin) {
    return Deny("the audit trail is for administrators");
  }
  // The hospital's places (wards, rooms, beds and whether each is occupied): for the staff
  // who run it; set up by administrators.
  if (resource_type == "Location") {
    if (who.role != Role::kAdmin && who.role != Role::kClinician) {
      return Deny("the hospital's locations are for clinical staff");
    }
    if (!reading && who.role != Role::kAdmin) {
      return Deny("the hospital's locations are set up by administrators");
    }
  }
  // De-identified research data: researchers (and administrators), reading only.
  if (resource_type == "ResearchStudy") {
    if (who.role != Role::kResearcher && who.role != Role::kAdmin) {
      return Deny("research exports are for researchers");
    }
    if (!reading) return Deny("research exports are read-only");
  }
  // In-silico trials run on virtual patients only: no one's data, so any clinical or research
  // role may run and read them; patient and device tokens have no use for them.
  const bool virtual_trial = resource_type == "InSilicoTrial";
  if (virtual_trial && (who.role == Role::kPatient || who.role == Role::kDevice)) {
    return Deny("in-silico trials are for clinicians and researchers");
  }
  // The role's bounds.
  switch (who.role) {
    case Role::kAdmin:
      break;
    case Role::kClinician:
      if (!patient.empty() &&
          std::find(care_team.begin(), care_team.end(), who.subject) == care_team.end()) {
        return Deny("not on this patient's care team");
      }
      break;
    case Role::kPatient:
      // A patient reads their own record, and decides their own consent (grant or withdraw).
      if (!reading && !(resource_type == "Consent" && what == Interaction::kUpdate)) {
        return Deny("a patient token may only read (and update its own consent)");
      }
      if (!patient.empty() && patient != who.patient) return Deny("not this token's patient");
      break;
    case Role::kDevice:
      // (A Bundle's entries are checked one by one against these same rules.)
      if (what != Interaction::kCreate ||
          (resource_type != "Observation" && resource_type != "MedicationAdministration" &&
           resource_type != "Bundle")) {
        return Deny("a device token may only send observations and device events");
      }
      if (patient != who.patient) return Deny("not the device's bound patient");
      break;
    case Role::kResearcher:
      if (resource_type != "ResearchStudy" && !virtual_trial) {
        return Deny("researchers see de-identified exports only");
      }
      break;
  }
  if (who.scopes.empty()) return {true, ""};
  // Some scope must grant this resource and interaction.
  const char letter = InteractionLetter(what);
  for (const auto& text : who.scopes) {
    Scope s;
    if (!ParseScope(text, &s)) continue;
    if (s.resource != "*" && s.resource != resource_type) continue;
    if (s.letters.find(letter) == std::string::npos) continue;
    if (s.context == "patient" && !patient.empty() && patient != who.patient) continue;
    if (s.context == "patient" && who.patient.empty()) continue;
    return {true, ""};
  }
  return Deny("no scope grants " + std::string(1, letter) + " on " + std::string(resource_type));
}

}  // namespace medtwin::security
