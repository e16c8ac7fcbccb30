// security/access.h — who may do what to whose data. A request is (resource type, interaction,
// patient); the caller is a verified token's claims. Roles set the outer bounds:
//   admin       everything;
//   clinician   patients whose care team names them (and creating patients);
//   patient     reading their own record only;
//   device      writing observations and device events for its bound patient only;
//   researcher  no identifiable patient data (de-identified exports only).
// SMART-on-FHIR scopes in the token narrow the role further: `patient/*.rs`,
// `user/Observation.cruds`, `system/*.read` (v1 `.read`/`.write`/`.*` are accepted); a
// `patient/` scope only covers the token's own patient. A token without scopes has its role's
// bounds.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "medtwin/security/token.h"

namespace medtwin::security {

enum class Interaction { kCreate, kRead, kUpdate, kDelete, kSearch };
[[nodiscard]] char InteractionLetter(Interaction i);  // c r u d s

struct Decision {
  bool allowed = false;
  std::string reason;  // why not (for the 403 body); empty when allowed
};

// `patient`: the patient the request touches ("" for requests across patients, such as a list:
// those are allowed when the caller could see some patient, and the handler filters with
// per-patient calls). `care_team`: the patient's care team (subjects).
[[nodiscard]] Decision Decide(const Claims& who, std::string_view resource_type, Interaction what,
                              const std::string& patient,
                              const std::vector<std::string>& care_team);

// A scope's grammar check (for `medtwin token issue`): context/resource.permissions.
[[nodiscard]] Status ValidateScope(std::string_view scope);

}  // namespace medtwin::security
