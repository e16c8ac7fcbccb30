#include "medtwin/server/research.h"

#include "medtwin/core/text.h"
#include "medtwin/io/patient.h"
#include "medtwin/record/patient.h"
#include "medtwin/security/merkle.h"
#include "medtwin/server/service.h"

namespace medtwin::server {

Result<CohortSummary> ResearchCohort(store::Store& store, const security::SigningKey& secret,
                                     const security::DeidentifyOptions& options,
                                     const security::DataKeyRing* keys) {
  CohortSummary out;
  MEDTWIN_TRY(auto rows, store.LoadPatients());
  const std::string at = FormatRfc3339(options.as_of);
  std::vector<security::IdentifiedPatient> consenting;
  for (const auto& row : rows) {
    ++out.patients_in_store;
    MEDTWIN_TRY(record::PatientRecord p, PatientFromStored(row.body, keys));
    if (!record::ResearchConsentAt(p, at)) continue;
    ++out.consenting;
    security::IdentifiedPatient ip;
    ip.record = io::PatientToJson(p);
    store::ObservationQuery q;
    q.patient = p.id;
    q.limit = 100'000;
    for (;;) {
      MEDTWIN_TRY(auto page, store.QueryObservations(q));
      for (auto& o : page.items) ip.observations.push_back(std::move(o));
      if (page.next_cursor.empty()) break;
      q.cursor = page.next_cursor;
    }
    consenting.push_back(std::move(ip));
  }
  out.cohort = security::Deidentify(consenting, secret, options);
  return out;
}

Result<std::string> ExportSalt(const std::string& study) {
  if (!study.empty()) {
    MEDTWIN_RETURN_IF_ERROR(ValidateText(study, "study", 64));
    return "study:" + study;
  }
  MEDTWIN_TRY(auto random, security::GenerateKey());
  return security::ToHex(random.bytes);
}

}  // namespace medtwin::server
