#include "medtwin/server/access.h"

#include "medtwin/server/handlers.h"
#include "medtwin/server/service.h"

namespace medtwin::server {
namespace {

using I = security::Interaction;
using V = http::verb;

std::vector<std::string> Segments(const std::string& path) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= path.size()) {
    const auto slash = std::min(path.find('/', start), path.size());
    if (slash > start) out.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return out;
}

}  // namespace

const std::vector<RouteSpec>& ApiRoutes() {
  static const std::vector<RouteSpec> routes = {
      {V::get, "/", true, "", I::kRead, PatientFrom::kNone, GetIndex},
      {V::get, "/static/{path*}", true, "", I::kRead, PatientFrom::kNone, GetStatic},
      {V::get, "/healthz", true, "", I::kRead, PatientFrom::kNone, GetHealth},
      {V::get, "/readyz", true, "", I::kRead, PatientFrom::kNone, GetReady},
      {V::get, "/metrics", true, "", I::kRead, PatientFrom::kNone, GetMetrics},
      {V::get, "/api/v1/patients", false, "Patient", I::kSearch, PatientFrom::kNone, ListPatients},
      {V::post, "/api/v1/patients", false, "Patient", I::kCreate, PatientFrom::kNone, PostPatient},
      {V::get, "/api/v1/patients/{id}", false, "Patient", I::kRead, PatientFrom::kPath, GetPatient},
      {V::put, "/api/v1/patients/{id}", false, "Patient", I::kUpdate, PatientFrom::kPath,
       UpdatePatient},
      {V::patch, "/api/v1/patients/{id}", false, "Patient", I::kUpdate, PatientFrom::kPath,
       UpdatePatient},
      {V::post, "/api/v1/patients/{id}/observations", false, "Observation", I::kCreate,
       PatientFrom::kPath, PostPatientObservations},
      {V::get, "/api/v1/patients/{id}/observations", false, "Observation", I::kSearch,
       PatientFrom::kPath, GetPatientObservations},
      {V::post, "/api/v1/patients/{id}/events", false, "MedicationAdministration", I::kCreate,
       PatientFrom::kPath, PostPatientEvents},
      {V::get, "/api/v1/patients/{id}/events", false, "MedicationAdministration", I::kSearch,
       PatientFrom::kPath, GetPatientEvents},
      {V::get, "/api/v1/patients/{id}/twin", false, "Observation", I::kRead, PatientFrom::kPath,
       GetTwin},
      {V::get, "/api/v1/patients/{id}/news2", false, "RiskAssessment", I::kSearch,
       PatientFrom::kPath, GetNews2Series},
      {V::get, "/api/v1/patients/{id}/genotype", false, "Observation", I::kRead, PatientFrom::kPath,
       GetGenotype},
      {V::put, "/api/v1/patients/{id}/genotype", false, "Observation", I::kUpdate,
       PatientFrom::kPath, PutGenotype},
      {V::post, "/api/v1/patients/{id}/whatif", false, "MedicationRequest", I::kRead,
       PatientFrom::kPath, PostWhatIf},
      {V::post, "/api/v1/patients/{id}/recommendations/accept", false, "MedicationRequest",
       I::kCreate, PatientFrom::kPath, PostAcceptRecommendation},
      {V::get, "/api/v1/patients/{id}/consent", false, "Consent", I::kRead, PatientFrom::kPath,
       GetConsent},
      {V::get, "/api/v1/patients/{id}/consent/history", false, "Consent", I::kRead,
       PatientFrom::kPath, GetConsentHistory},
      {V::put, "/api/v1/patients/{id}/consent", false, "Consent", I::kUpdate, PatientFrom::kPath,
       PutConsent},
      {V::post, "/api/v1/patients/{id}/consent/withdraw", false, "Consent", I::kUpdate,
       PatientFrom::kPath, PostConsentWithdraw},
      {V::get, "/api/v1/research/cohort", false, "ResearchStudy", I::kSearch, PatientFrom::kNone,
       GetResearchCohort},
      {V::get, "/api/v1/trials", false, "InSilicoTrial", I::kSearch, PatientFrom::kNone,
       ListTrials},
      {V::post, "/api/v1/trials", false, "InSilicoTrial", I::kCreate, PatientFrom::kNone,
       PostTrial},
      {V::get, "/api/v1/trials/{id}", false, "InSilicoTrial", I::kRead, PatientFrom::kNone,
       GetTrial},
      {V::post, "/api/v1/observations", false, "Observation", I::kCreate, PatientFrom::kBody,
       PostObservations},
      {V::get, "/api/v1/alerts", false, "DetectedIssue", I::kSearch, PatientFrom::kQuery,
       ListAlerts},
      {V::post, "/api/v1/alerts/{id}/ack", false, "DetectedIssue", I::kUpdate, PatientFrom::kBody,
       PostAlertAck},
      {V::post, "/api/v1/alerts/{id}/acknowledge", false, "DetectedIssue", I::kUpdate,
       PatientFrom::kBody, PostAlertAck},
      {V::get, "/api/v1/stream", false, "Observation", I::kSearch, PatientFrom::kQuery, OpenStream},
      {V::get, "/api/v1/audit", false, "AuditEvent", I::kSearch, PatientFrom::kNone, ListAudit},
      {V::get, "/api/v1/audit/verify", false, "AuditEvent", I::kRead, PatientFrom::kNone,
       GetAuditVerify},
      {V::get, "/api/v1/audit/head", false, "AuditEvent", I::kRead, PatientFrom::kNone,
       GetAuditHead},
      {V::get, "/api/v1/audit/consistency", false, "AuditEvent", I::kRead, PatientFrom::kNone,
       GetAuditConsistency},
      {V::get, "/fhir/r4/metadata", true, "", I::kRead, PatientFrom::kNone, FhirMetadata},
      {V::post, "/fhir/r4", false, "Bundle", I::kCreate, PatientFrom::kBody, FhirPostBundle},
      {V::get, "/fhir/r4/Patient", false, "Patient", I::kSearch, PatientFrom::kNone,
       FhirSearchPatient},
      {V::post, "/fhir/r4/Patient", false, "Patient", I::kCreate, PatientFrom::kNone,
       FhirCreatePatient},
      // A conditional update (PUT Patient?identifier=): the handler checks the match.
      {V::put, "/fhir/r4/Patient", false, "Patient", I::kUpdate, PatientFrom::kNone,
       FhirConditionalUpdatePatient},
      {V::get, "/fhir/r4/Patient/{id}", false, "Patient", I::kRead, PatientFrom::kPath,
       FhirReadPatient},
      {V::put, "/fhir/r4/Patient/{id}", false, "Patient", I::kUpdate, PatientFrom::kPath,
       FhirUpdatePatient},
      {V::get, "/fhir/r4/Patient/{id}/_history", false, "Patient", I::kRead, PatientFrom::kPath,
       FhirPatientHistory},
      {V::get, "/fhir/r4/Patient/{id}/_history/{vid}", false, "Patient", I::kRead,
       PatientFrom::kPath, FhirPatientHistory},
      {V::post, "/fhir/r4/Observation", false, "Observation", I::kCreate, PatientFrom::kBody,
       FhirCreateObservation},
      {V::get, "/fhir/r4/Observation", false, "Observation", I::kSearch, PatientFrom::kQuery,
       FhirSearchObservation},
      // The id names the patient only by hash: a caller bound to one patient is asked about
      // that patient (as for a body), and the handler checks the patient the id resolves to.
      {V::get, "/fhir/r4/Observation/{id}", false, "Observation", I::kRead, PatientFrom::kBody,
       FhirReadObservation},
      {V::post, "/fhir/r4/MedicationAdministration", false, "MedicationAdministration", I::kCreate,
       PatientFrom::kBody, FhirCreateMedicationAdministration},
      {V::get, "/fhir/r4/MedicationAdministration", false, "MedicationAdministration", I::kSearch,
       PatientFrom::kQuery, FhirSearchMedicationAdministration},
      // Reads by id: the id names the patient (or the alert does); the handler checks them.
      {V::get, "/fhir/r4/MedicationAdministration/{id}", false, "MedicationAdministration",
       I::kRead, PatientFrom::kBody, FhirReadMedicationAdministration},
      {V::get, "/fhir/r4/MedicationRequest", false, "MedicationRequest", I::kSearch,
       PatientFrom::kQuery, FhirSearchMedicationRequest},
      {V::get, "/fhir/r4/MedicationRequest/{id}", false, "MedicationRequest", I::kRead,
       PatientFrom::kBody, FhirReadMedicationRequest},
      {V::get, "/fhir/r4/RiskAssessment/{id}", false, "RiskAssessment", I::kRead,
       PatientFrom::kBody, FhirReadRiskAssessment},
      {V::get, "/fhir/r4/DetectedIssue/{id}", false, "DetectedIssue", I::kRead, PatientFrom::kBody,
       FhirReadDetectedIssue},
      {V::get, "/fhir/r4/AuditEvent/{id}", false, "AuditEvent", I::kRead, PatientFrom::kNone,
       FhirReadAuditEvent},
      {V::get, "/fhir/r4/RiskAssessment", false, "RiskAssessment", I::kSearch, PatientFrom::kQuery,
       FhirSearchRiskAssessment},
      {V::get, "/fhir/r4/DetectedIssue", false, "DetectedIssue", I::kSearch, PatientFrom::kQuery,
       FhirSearchDetectedIssue},
      {V::get, "/fhir/r4/AuditEvent", false, "AuditEvent", I::kSearch, PatientFrom::kNone,
       FhirSearchAuditEvent},
      {V::get, "/fhir/r4/Encounter", false, "Encounter", I::kSearch, PatientFrom::kQuery,
       FhirSearchEncounter},
      {V::post, "/fhir/r4/Encounter", false, "Encounter", I::kCreate, PatientFrom::kBody,
       FhirCreateEncounter},
      // As Observation/{id}: the id does not name the patient; the handler checks the one
      // whose stay it is.
      {V::get, "/fhir/r4/Encounter/{id}", false, "Encounter", I::kRead, PatientFrom::kBody,
       FhirReadEncounter},
      {V::put, "/fhir/r4/Encounter/{id}", false, "Encounter", I::kUpdate, PatientFrom::kBody,
       FhirUpdateEncounter},
      // The hospital's places: no patient's data (a bed says occupied, not by whom).
      {V::get, "/fhir/r4/Location", false, "Location", I::kSearch, PatientFrom::kNone,
       FhirSearchLocation},
      {V::post, "/fhir/r4/Location", false, "Location", I::kCreate, PatientFrom::kNone,
       FhirCreateLocation},
      {V::get, "/fhir/r4/Location/{id}", false, "Location", I::kRead, PatientFrom::kNone,
       FhirReadLocation},
      {V::put, "/fhir/r4/Location/{id}", false, "Location", I::kUpdate, PatientFrom::kNone,
       FhirUpdateLocation},
  };
  return routes;
}

const RouteSpec* MatchRoute(http::verb method, const std::vector<std::string>& segments,
                            std::map<std::string, std::string>* params, bool* path_known) {
  *path_known = false;
  for (const auto& r : ApiRoutes()) {
    const std::vector<std::string> pattern = Segments(r.path);
    std::map<std::string, std::string> found;
    bool match = true;
    // A last "{name*}" takes every remaining segment (at least one), joined by '/'.
    if (!pattern.empty() && pattern.back().ends_with("*}") && segments.size() >= pattern.size()) {
      std::string rest;
      for (std::size_t i = pattern.size() - 1; i < segments.size(); ++i) {
        rest += (rest.empty() ? "" : "/") + segments[i];
      }
      for (std::size_t i = 0; i + 1 < pattern.size() && match; ++i)
        match = pattern[i] == segments[i];
      if (!match) continue;
      *path_known = true;
      if (r.method != method) continue;
      found[pattern.back().substr(1, pattern.back().size() - 3)] = rest;
      *params = std::move(found);
      return &r;
    }
    if (pattern.size() != segments.size()) continue;
    for (std::size_t i = 0; i < pattern.size() && match; ++i) {
      if (pattern[i].size() > 2 && pattern[i].front() == '{' && pattern[i].back() == '}') {
        found[pattern[i].substr(1, pattern[i].size() - 2)] = segments[i];
      } else {
        match = pattern[i] == segments[i];
      }
    }
    if (!match) continue;
    *path_known = true;
    if (r.method != method) continue;
    *params = std::move(found);
    return &r;
  }
  return nullptr;
}

std::string RoutePatient(const RouteSpec& route, const std::map<std::string, std::string>& params,
                         const Target& target) {
  if (route.patient_from == PatientFrom::kPath) {
    auto it = params.find("id");
    return it == params.end() ? std::string() : it->second;
  }
  if (route.patient_from == PatientFrom::kQuery) return PatientInQuery(target.query);
  return "";
}

std::string PatientInQuery(const std::map<std::string, std::string>& query) {
  auto it = query.find("patient");
  if (it == query.end()) it = query.find("subject");
  if (it == query.end()) return "";
  return it->second.starts_with("Patient/") ? it->second.substr(8) : it->second;
}

security::Decision Caller::Check(const std::string& patient, std::string_view resource,
                                 security::Interaction what) const {
  if (!claims_) return {false, "no token"};
  const auto key = std::make_tuple(patient, std::string(resource), static_cast<int>(what));
  if (auto it = cache_.find(key); it != cache_.end()) return it->second;
  std::vector<std::string> team;
  if (!patient.empty() && claims_->role == security::Role::kClinician) {
    if (auto p = service_.Patient(patient)) team = p->care_team;
  }
  security::Decision d = security::Decide(*claims_, resource, what, patient, team);
  cache_.emplace(key, d);
  if (d.allowed && !patient.empty()) touched_.insert(patient);
  return d;
}

std::vector<std::string> Caller::Touched(const std::string& also) const {
  std::set<std::string> all = touched_;
  if (!also.empty()) all.insert(also);
  return {all.begin(), all.end()};
}

std::string Caller::ClinicianSubject() const {
  return claims_ && claims_->role == security::Role::kClinician ? claims_->subject : "";
}

RateLimiter::Bucket& RateLimiter::Refill(const std::string& key) {
  const auto now = std::chrono::steady_clock::now();
  if (buckets_.size() > 100'000) buckets_.clear();  // bounded: forget idle keys
  auto [it, fresh] = buckets_.try_emplace(key);
  Bucket& b = it->second;
  if (fresh) {
    b.tokens = 2 * rate_;
  } else {
    b.tokens =
        std::min(2 * rate_, b.tokens + rate_ * std::chrono::duration<double>(now - b.last).count());
  }
  b.last = now;
  return b;
}

bool RateLimiter::Allow(const std::string& token_id) {
  std::lock_guard<std::mutex> lock(mu_);
  Bucket& b = Refill(token_id);
  if (b.tokens < 1) return false;
  b.tokens -= 1;
  return true;
}

bool RevocationList::Revoked(const std::string& token_id) {
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = std::chrono::steady_clock::now();
  if (now - loaded_ >= std::chrono::seconds(1)) {
    const auto now_s = std::chrono::duration_cast<std::chrono::seconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count();
    // A store that cannot be read keeps the list it had (revocations are never forgotten).
    if (auto ids = store_.RevokedTokens(now_s); ids.ok()) {
      for (auto& id : *ids) revoked_.insert(std::move(id));
      loaded_ = now;
    }
  }
  return revoked_.contains(token_id);
}

}  // namespace medtwin::server
