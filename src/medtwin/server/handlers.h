// server/handlers.h — every route's handler, by the file that holds it. The route table
// (access.cpp, ApiRoutes) is the only caller: a handler runs after authentication and the
// route's authorization, with the parameters its route extracted.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "medtwin/io/fhir_encounter.h"
#include "medtwin/server/access.h"
#include "medtwin/server/http_server.h"

namespace medtwin::server {

// api_system.cpp: the dashboard, health, readiness, metrics, the live stream.
Response GetIndex(const RouteRequest& rq);
Response GetStatic(const RouteRequest& rq);
Response GetHealth(const RouteRequest& rq);
Response GetReady(const RouteRequest& rq);
Response GetMetrics(const RouteRequest& rq);
Response OpenStream(const RouteRequest& rq);
// What a live stream carries for `caller` now: one patient, everything, or a list (the stream's
// periodic check asks again).
void SelectStream(TwinService& service, const Caller& caller,
                  const std::map<std::string, std::string>& query, bool* all,
                  std::vector<std::string>* topics);

// api_patients.cpp
Response ListPatients(const RouteRequest& rq);
Response PostPatient(const RouteRequest& rq);
Response GetPatient(const RouteRequest& rq);
Response UpdatePatient(const RouteRequest& rq);  // PUT and PATCH
Response GetTwin(const RouteRequest& rq);
Response PostWhatIf(const RouteRequest& rq);
Response PostAcceptRecommendation(const RouteRequest& rq);

// api_observations.cpp
Response PostPatientObservations(const RouteRequest& rq);
Response GetPatientObservations(const RouteRequest& rq);
Response PostObservations(const RouteRequest& rq);  // NDJSON across patients
Response PostPatientEvents(const RouteRequest& rq);
Response GetPatientEvents(const RouteRequest& rq);
Response GetNews2Series(const RouteRequest& rq);

// api_genotype.cpp
Response GetGenotype(const RouteRequest& rq);
Response PutGenotype(const RouteRequest& rq);

// api_consent.cpp
Response GetConsent(const RouteRequest& rq);
Response GetConsentHistory(const RouteRequest& rq);
Response PutConsent(const RouteRequest& rq);
Response PostConsentWithdraw(const RouteRequest& rq);

// api_alerts.cpp
Response ListAlerts(const RouteRequest& rq);
Response PostAlertAck(const RouteRequest& rq);

// api_research.cpp
Response GetResearchCohort(const RouteRequest& rq);
Response ListTrials(const RouteRequest& rq);
Response PostTrial(const RouteRequest& rq);
Response GetTrial(const RouteRequest& rq);

// api_audit.cpp
Response ListAudit(const RouteRequest& rq);
Response GetAuditVerify(const RouteRequest& rq);
Response GetAuditHead(const RouteRequest& rq);
Response GetAuditConsistency(const RouteRequest& rq);

// fhir_*.cpp (errors as OperationOutcome); fhir_twin.cpp holds the searches of the twin's
// outputs (MedicationRequest, RiskAssessment, DetectedIssue)
Response FhirMetadata(const RouteRequest& rq);
Response FhirPostBundle(const RouteRequest& rq);
Response FhirSearchPatient(const RouteRequest& rq);
Response FhirCreatePatient(const RouteRequest& rq);
Response FhirReadPatient(const RouteRequest& rq);
Response FhirUpdatePatient(const RouteRequest& rq);
Response FhirConditionalUpdatePatient(const RouteRequest& rq);  // PUT Patient?identifier=
Response FhirPatientHistory(const RouteRequest& rq);            // _history and _history/{vid}
Response FhirCreateObservation(const RouteRequest& rq);
Response FhirSearchObservation(const RouteRequest& rq);
Response FhirReadObservation(const RouteRequest& rq);
Response FhirCreateMedicationAdministration(const RouteRequest& rq);
Response FhirSearchMedicationAdministration(const RouteRequest& rq);
Response FhirSearchMedicationRequest(const RouteRequest& rq);
Response FhirSearchRiskAssessment(const RouteRequest& rq);
Response FhirSearchDetectedIssue(const RouteRequest& rq);
Response FhirSearchAuditEvent(const RouteRequest& rq);
Response FhirSearchEncounter(const RouteRequest& rq);
Response FhirReadEncounter(const RouteRequest& rq);
Response FhirReadMedicationAdministration(const RouteRequest& rq);
Response FhirReadMedicationRequest(const RouteRequest& rq);
Response FhirReadRiskAssessment(const RouteRequest& rq);
Response FhirReadDetectedIssue(const RouteRequest& rq);
Response FhirReadAuditEvent(const RouteRequest& rq);
Response FhirCreateEncounter(const RouteRequest& rq);
Response FhirUpdateEncounter(const RouteRequest& rq);
Response FhirSearchLocation(const RouteRequest& rq);
Response FhirReadLocation(const RouteRequest& rq);
Response FhirCreateLocation(const RouteRequest& rq);
Response FhirUpdateLocation(const RouteRequest& rq);
// A patient record's field ("identifiers[1].value") as the FHIR Patient element it came from
// ("Patient.identifier[1].value").
std::string FhirPatientPath(const std::string& field);
// An Encounter as received made ready to store (fhir_encounter.cpp; Bundles too): its id (a
// new server id for a create, `path_id` for an update — which must not be another patient's
// stay, kAlreadyExists), each Location/{id} it names checked to exist (kNotFound) and its bed
// taken from there. Errors name the element ("Encounter.location[0].location.reference").
Status PrepareEncounter(TwinService& service, io::EncounterIn& in, const std::string& path_id);
// The FHIR answer to a refused Encounter write: 409 (a place or id taken), 422 (an unknown
// Location), 400 (a bad value).
Response EncounterRefused(const Error& e);
// Stores one dose through the service's event path; "" or the reason it was refused (Bundles
// and MedicationAdministration create).
std::string IngestDose(TwinService& service, const record::Event& dose);

}  // namespace medtwin::server
