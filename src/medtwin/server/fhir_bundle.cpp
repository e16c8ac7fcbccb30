// POST /fhir/r4 with a Bundle: transaction (every entry validated and authorized, then every
// write checked against the records and committed in one store transaction: all or nothing)
// or batch (each entry on its own) of Patient, Observation and MedicationAdministration
// entries. Entries refer to each other by fullUrl (urn:uuid:… in a
// transaction, R4 §3.1.0.11.2); a Patient entry may be a conditional create
// (request.ifNoneExist, R4 §3.1.0.11.3) that resolves to the patient it matches.
#include "medtwin/server/handlers.h"

#include <map>
#include <optional>
#include <set>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

namespace {

// Every "reference" in `node` that names one of `targets` (a fullUrl) rewritten to what it maps
// to ("Patient/{id}").
void RewriteReferences(json& node, const std::map<std::string, std::string>& targets) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      if (key == "reference" && value.is_string()) {
        if (auto it = targets.find(value.get<std::string>()); it != targets.end()) {
          value = it->second;
        }
      } else {
        RewriteReferences(value, targets);
      }
    }
  } else if (node.is_array()) {
    for (auto& item : node) RewriteReferences(item, targets);
  }
}

// The Patient entries' identities before anything is applied: an id for every patient the
// bundle creates without one, the existing patient a conditional create matches, and each
// entry's fullUrl mapped to "Patient/{id}" so the other entries' references resolve. Errors
// (a condition matching several patients, an unreadable match) name the entry.
struct BundlePatients {
  std::map<std::string, std::string> by_full_url;
  std::map<std::size_t, std::string> matched;  // entry → existing patient (no create)
};
Result<BundlePatients> ResolvePatients(json& entries, TwinService& service, const Caller& caller) {
  BundlePatients out;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    json& entry = entries[i];
    if (!entry.is_object() || !entry.contains("resource") || !entry["resource"].is_object()) {
      continue;
    }
    json& res = entry["resource"];
    if (StringMember(res, "resourceType") != "Patient") continue;
    const std::string where = "Bundle.entry[" + std::to_string(i) + "]";
    std::string id = StringMember(res, "id");
    const json request = entry.value("request", json::object());
    const std::string condition = request.is_object() ? StringMember(request, "ifNoneExist") : "";
    const std::string method = request.is_object() ? StringMember(request, "method") : "";
    const std::string url = request.is_object() ? StringMember(request, "url") : "";
    if (method == "PUT" && url.starts_with("Patient?")) {
      // A conditional update (R4 §3.1.0.11.3): the patient the condition matches is updated;
      // none, a new one is made (with the resource's id if it has one that is free).
      MEDTWIN_TRY(auto match, MatchCondition(service, caller, std::string_view(url).substr(8),
                                             where + ".request.url"));
      if (match) {
        if (!id.empty() && id != match->id) {
          return InvalidArgument(where + ".resource.id",
                                 "is not the id of the patient the condition matches");
        }
        id = match->id;
        res["id"] = id;
      } else {
        // No match: a create, which names the patient itself (the resource's id is ignored).
        id = NewPatientId();
        res["id"] = id;
      }
    } else if (method == "PUT" && url.starts_with("Patient/")) {
      const std::string named = url.substr(8);
      if (!id.empty() && id != named) {
        return InvalidArgument(where + ".resource.id", "must be the id in request.url");
      }
      id = named;
      res["id"] = id;
    }
    if (!condition.empty()) {
      MEDTWIN_TRY(auto match,
                  MatchCondition(service, caller, condition, where + ".request.ifNoneExist"));
      if (match) {
        id = match->id;
        out.matched[i] = id;
      }
    }
    if (id.empty()) {
      id = NewPatientId();
      res["id"] = id;
    }
    const std::string full_url = StringMember(entry, "fullUrl");
    if (!full_url.empty()) out.by_full_url[full_url] = "Patient/" + id;
  }
  for (auto& entry : entries) {
    if (entry.is_object() && entry.contains("resource")) {
      RewriteReferences(entry["resource"], out.by_full_url);
    }
  }
  return out;
}

// What one entry of the Bundle is, read and checked before anything is applied.
struct ParsedEntry {
  std::string error_where, error;
  json patient_doc;
  std::vector<record::Observation> observations;
  std::optional<record::Event> dose;
  bool not_given = false;  // a MedicationAdministration that records nothing
  bool forbidden = false;  // the caller may not write this entry
  bool updates = false;    // a Patient entry for a patient that exists (before any is applied)
  unsigned error_status = 400;
  std::optional<io::EncounterIn> encounter;  // an Encounter entry, ready to store
  bool encounter_created = false;            // (set when it is stored)
  bool read = false;                         // a GET entry: answered after the writes
  std::string read_url;                      // its request.url
};

// GET entries (reads and searches, R4 §3.1.0.11.2: processed after every write), each answered
// by the FHIR route it names with the caller's own rights, as if it came by itself, and audited
// as that request would be. Planned first (the route found and authorized: in a transaction,
// before anything is written, so a read the caller may not make refuses the whole bundle),
// run after the writes.
constexpr std::size_t kMaxReadEntries = 100;  // each may be a whole search

struct ReadPlan {
  std::string url;
  Target target;
  std::map<std::string, std::string> params;
  const RouteSpec* route = nullptr;
  std::string patient;
};

// The audit record of one GET entry, as api.cpp writes one per request.
void AuditRead(const RouteRequest& rq, const RouteSpec* route, const std::string& url, int outcome,
               std::vector<std::string> patients) {
  security::AuditEntry entry;
  entry.time_us = WallClockNow().us_since_epoch;
  entry.action = "GET " + (route != nullptr ? route->path : "/fhir/r4/" + url.substr(0, 80));
  entry.resource = route != nullptr ? route->resource : "";
  entry.interaction = security::InteractionLetter(route != nullptr ? route->interaction
                                                                   : security::Interaction::kRead);
  entry.from = std::string(rq.req[kPeerHeader]);
  if (const auto& claims = rq.caller.claims()) {
    entry.who = claims->subject;
    entry.role = std::string(security::RoleName(claims->role));
  }
  entry.outcome = outcome;
  entry.patients = std::move(patients);
  rq.service.Audit(std::move(entry));
}

// The entry's answer when its read cannot be made: status and outcome, no resource.
json ReadRefused(unsigned status, const std::string& code, const std::string& why) {
  return json{{"response",
               {{"status", std::to_string(status)},
                {"outcome", io::OperationOutcome(code, "request.url", why)}}}};
}

// Finds and authorizes the read; an error (kInvalidArgument 400, kNotFound 404,
// kPermissionDenied 403) is audited when it names a route.
Result<ReadPlan> PlanRead(const RouteRequest& rq, const std::string& url) {
  ReadPlan plan;
  plan.url = url;
  if (url.empty() || url.front() == '/' || url.find("://") != std::string::npos) {
    return InvalidArgument("request.url", "a relative URL (Patient/{id}, Observation?patient=…)");
  }
  plan.target = SplitTarget("/fhir/r4/" + url);
  bool path_known = false;
  plan.route = MatchRoute(http::verb::get, plan.target.segments, &plan.params, &path_known);
  if (plan.route == nullptr || plan.route->is_public) {
    return NotFound("request.url", "no FHIR read or search at " + url.substr(0, 80));
  }
  plan.patient = RoutePatient(*plan.route, plan.params, plan.target);
  if (!plan.patient.empty() && !IsValidId(plan.patient)) {
    return InvalidArgument("request.url", "the patient is not an id");
  }
  std::string asked = plan.patient;
  if (plan.route->patient_from == PatientFrom::kBody && rq.caller.claims()) {
    asked = rq.caller.claims()->patient;
  }
  if (auto d = rq.caller.Check(asked, plan.route->resource, plan.route->interaction); !d.allowed) {
    AuditRead(rq, plan.route, url, 403,
              plan.patient.empty() ? std::vector<std::string>{} : std::vector{plan.patient});
    return Error{ErrorCode::kPermissionDenied, "request.url", d.reason};
  }
  return plan;
}

unsigned ReadRefusalStatus(const Error& e) {
  return e.code == ErrorCode::kPermissionDenied ? 403 : e.code == ErrorCode::kNotFound ? 404 : 400;
}
const char* IssueCode(unsigned status) {
  return status == 403 ? "forbidden" : status == 404 ? "not-found" : "value";
}
json RefusedRead(const Error& e) {
  const unsigned status = ReadRefusalStatus(e);
  return ReadRefused(status, IssueCode(status), e.message);
}

json RunRead(const RouteRequest& rq, const ReadPlan& plan) {
  Request sub{http::verb::get, "/fhir/r4/" + plan.url, 11};
  sub.set(http::field::host, rq.req[http::field::host]);  // (links name the base the client used)
  sub.set(kPeerHeader, rq.req[kPeerHeader]);
  // Its own caller (the same rights), so its audit record names the patients it touched.
  const Caller caller(rq.service, rq.caller.claims());
  Response r;
  try {
    r = plan.route->handler(
        RouteRequest{rq.service, sub, plan.target, plan.params, caller, rq.auth});
  } catch (const std::exception&) {
    r = Fhir(500, io::OperationOutcome("exception", "request", "internal error"));
  }
  AuditRead(rq, plan.route, plan.url, static_cast<int>(r.status), caller.Touched(plan.patient));
  json out = {{"response", {{"status", std::to_string(r.status)}}}};
  json body = json::parse(r.body, nullptr, false);
  if (body.is_discarded()) return out;
  if (r.status >= 400) {
    out["response"]["outcome"] = std::move(body);
  } else {
    out["resource"] = std::move(body);
  }
  return out;
}

// The response entries of what was written (R4 §3.1.0.11.4: status, location, etag,
// lastModified).
json PatientDone(const record::PatientRecord& r, const char* status) {
  return json{{"status", status},
              {"location", "Patient/" + r.id + "/_history/" + std::to_string(r.version)},
              {"etag", VersionETag(r.version)},
              {"lastModified", r.last_updated}};
}
json ReadingDone(const ParsedEntry& p, const std::string& now) {
  return json{{"status", "201"},
              {"location", "Observation/" + MeasurementId(p.observations)},
              {"lastModified", now}};
}
json EncounterDone(const ParsedEntry& p, const record::PatientRecord& stored) {
  return json{{"status", p.encounter_created ? "201" : "200"},
              {"location", "Encounter/" + p.encounter->encounter.id},
              {"lastModified", stored.last_updated}};
}
json DoseDone(const ParsedEntry& p, const std::string& now) {
  return json{{"status", "201"},
              {"location", "MedicationAdministration/" + DoseId(*p.dose)},
              {"lastModified", now}};
}

// A batch: each entry on its own (R4 §3.1.0.11.1), a refused one answered in its place.
void ApplyBatch(TwinService& service, const Caller& caller, std::vector<ParsedEntry>& parsed,
                std::vector<json>& entry_responses, const std::string& now) {
  // Applied in R4's order (§3.1.0.11.2: deletes, creates, updates, reads; this server takes
  // creates and updates): patients first — so readings may refer to a patient this bundle makes
  // — then every reading of every entry in one commit, then doses. The response keeps the
  // entries' order.
  for (int pass = 0; pass < 2; ++pass) {  // creates, then updates
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      auto& p = parsed[i];
      if (!p.error.empty() || p.patient_doc.is_null()) continue;
      const std::string id = p.patient_doc.value("id", "");
      const bool exists = p.updates;
      if (exists != (pass == 1)) continue;
      Result<record::PatientRecord> r =
          exists ? service.UpdatePatient(id, p.patient_doc, caller.Subject())
                 : service.CreatePatient(p.patient_doc);
      if (r.ok()) {
        caller.Touch(r->id);
        entry_responses[i] = PatientDone(*r, exists ? "200" : "201");
      } else {
        p.error = r.error().message;
        entry_responses[i] = {
            {"status", r.error().code == ErrorCode::kAlreadyExists ? "409" : "400"},
            {"outcome", io::OperationOutcome("invalid", r.error().field, r.error().message)}};
      }
    }
  }
  // Stays, each a change of its patient's record.
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    auto& p = parsed[i];
    if (!p.error.empty() || !p.encounter) continue;
    auto r =
        service.ChangePatient(p.encounter->patient, std::nullopt, [&p](record::PatientRecord& rec) {
          return record::PlaceEncounter(rec.encounters, p.encounter->encounter, rec.id,
                                        &p.encounter_created);
        });
    if (r.ok()) {
      caller.Touch(r->id);
      entry_responses[i] = EncounterDone(p, *r);
    } else {
      const Response refused = EncounterRefused(r.error());
      entry_responses[i] = {{"status", std::to_string(refused.status)},
                            {"outcome", json::parse(refused.body, nullptr, false)}};
    }
  }
  // Every entry's readings in one ingest call: one commit for the bundle's observations (parsed
  // and converted already: no JSON round trip).
  std::vector<record::Observation> items;
  std::vector<std::size_t> entry_of_item;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i].error.empty()) continue;
    for (const auto& o : parsed[i].observations) {
      items.push_back(o);
      entry_of_item.push_back(i);
    }
  }
  if (!items.empty()) {
    auto r = service.IngestObservations(std::move(items));
    std::map<std::size_t, std::string> refused;  // entry → why
    if (!r.ok()) {
      for (std::size_t k : entry_of_item) refused[k] = r.error().message;
    } else {
      for (const auto& rej : r->rejected) {
        refused.emplace(entry_of_item[rej["index"].get<std::size_t>()],
                        rej.value("field", "") + ": " + rej.value("reason", ""));
      }
    }
    for (std::size_t k : entry_of_item) {
      if (!entry_responses[k].is_null()) continue;
      if (auto why = refused.find(k); why != refused.end()) {
        entry_responses[k] = {
            {"status", r.ok() ? "400" : "503"},
            {"outcome", io::OperationOutcome("invalid", "Observation", why->second)}};
      } else {
        entry_responses[k] = ReadingDone(parsed[k], now);
      }
    }
  }
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i].error.empty() || !parsed[i].dose) continue;
    if (const std::string why = IngestDose(service, *parsed[i].dose); why.empty()) {
      entry_responses[i] = DoseDone(parsed[i], now);
    } else {
      entry_responses[i] = {
          {"status", "400"},
          {"outcome", io::OperationOutcome("invalid", "MedicationAdministration", why)}};
    }
  }
}

}  // namespace

Response FhirPostBundle(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  const io::ObservationLimits limits = LimitsNow();
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "Bundle", b.error().message);
  if (!b->is_object() || StringMember(*b, "resourceType") != "Bundle") {
    return Outcome(400, "structure", "Bundle.resourceType", "POST a Bundle to the base");
  }
  const std::string type = StringMember(*b, "type");
  if (type != "transaction" && type != "batch") {
    return Outcome(400, "value", "Bundle.type", "transaction or batch");
  }
  // Moved out of the body, not copied (a Bundle of 100 Observations is ~60 kB of JSON nodes).
  json entries = json::array();
  if (b->contains("entry") && (*b)["entry"].is_array()) entries = std::move((*b)["entry"]);
  auto patients = ResolvePatients(entries, service, caller);
  if (!patients.ok()) {
    const ErrorCode code = patients.error().code;
    return Outcome(code == ErrorCode::kFailedPrecondition ? 412
                   : code == ErrorCode::kPermissionDenied ? 403
                                                          : 400,
                   code == ErrorCode::kFailedPrecondition ? "multiple-matches" : "invalid",
                   patients.error().field, patients.error().message);
  }
  // Validate every entry first.
  std::vector<ParsedEntry> parsed(entries.size());
  std::set<std::string> bundle_patients;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    static const json kNone;
    const json& res =
        entries[i].is_object() && entries[i].contains("resource") ? entries[i]["resource"] : kNone;
    const std::string where = "Bundle.entry[" + std::to_string(i) + "].resource";
    const std::string rt = StringMember(res, "resourceType");
    static const json kNoRequest = json::object();
    const json& request = entries[i].is_object() && entries[i].contains("request") &&
                                  entries[i]["request"].is_object()
                              ? entries[i]["request"]
                              : kNoRequest;
    const std::string method = StringMember(request, "method");
    if (method == "GET") {
      parsed[i].read = true;
      parsed[i].read_url = StringMember(request, "url");
      continue;
    }
    if (!method.empty() && method != "POST" && method != "PUT") {
      parsed[i].error_where = "Bundle.entry[" + std::to_string(i) + "].request.method";
      parsed[i].error =
          method == "DELETE" || method == "PATCH"
              ? method +
                    " is not supported here (nothing is deleted or patched in a twin's "
                    "record; send the resource with PUT)"
              : "'" + method.substr(0, 16) + "' is not a method here (GET, POST or PUT)";
      continue;
    }
    if (rt == "Patient" && patients->matched.count(i) > 0) {
      bundle_patients.insert(patients->matched.at(i));  // exists: nothing to parse or write
    } else if (rt == "Patient") {
      auto doc = io::FromFhirPatient(res);
      if (!doc.ok()) {
        parsed[i].error_where = where + "." + doc.error().field;
        parsed[i].error = doc.error().message;
        continue;
      }
      parsed[i].patient_doc = *doc;
      if (doc->contains("id")) bundle_patients.insert((*doc)["id"].get<std::string>());
    } else if (rt == "Observation") {
      auto obs = io::FromFhirObservation(res, limits);
      if (!obs.ok()) {
        parsed[i].error_where = where + "." + obs.error().field;
        parsed[i].error = obs.error().message;
        continue;
      }
      parsed[i].observations = std::move(*obs);
    } else if (rt == "MedicationAdministration") {
      auto dose = io::FromFhirMedicationAdministration(res, limits);
      if (!dose.ok()) {
        parsed[i].error_where = where + "." + dose.error().field;
        parsed[i].error = dose.error().message;
        continue;
      }
      parsed[i].dose = std::move(*dose);
      parsed[i].not_given = !parsed[i].dose.has_value();
    } else if (rt == "Encounter") {
      // POST Encounter (the server names it) or PUT Encounter/{id}.
      const std::string url = StringMember(request, "url");
      const std::string path_id =
          method == "PUT" && url.starts_with("Encounter/") ? url.substr(10) : "";
      auto in = io::FromFhirEncounter(res);
      Status ready = in.ok() ? PrepareEncounter(service, *in, path_id) : Status(in.error());
      if (!ready.ok()) {
        const Error& e = ready.error();
        parsed[i].error_where =
            where + (e.field.starts_with("Encounter") ? e.field.substr(9) : "." + e.field);
        parsed[i].error = e.message;
        parsed[i].error_status = EncounterRefused(e).status;
        continue;
      }
      parsed[i].encounter = std::move(*in);
    } else {
      parsed[i].error_where = where + ".resourceType";
      parsed[i].error = "'" + rt +
                        "' is not accepted (Patient, Observation, MedicationAdministration, "
                        "Encounter)";
    }
  }
  // GET entries: found and authorized now (so a transaction refuses before any write), answered
  // after the writes.
  std::vector<std::optional<Result<ReadPlan>>> reads(parsed.size());
  std::size_t read_count = 0;
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (!parsed[i].read) continue;
    if (++read_count > kMaxReadEntries) {
      return Outcome(400, "too-costly", "Bundle.entry",
                     "at most " + std::to_string(kMaxReadEntries) + " GET entries per Bundle");
    }
  }
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    if (parsed[i].read) reads[i] = PlanRead(rq, parsed[i].read_url);
  }
  // Whether a patient is stored, asked once per patient (not per reading: a record is copied).
  std::map<std::string, bool> stored_patients;
  auto stored = [&](const std::string& id) {
    auto [it, fresh] = stored_patients.emplace(id, false);
    if (fresh) it->second = service.Patient(id).has_value();
    return it->second;
  };
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    std::vector<std::string> subjects;
    for (const auto& o : parsed[i].observations) subjects.push_back(o.patient);
    if (parsed[i].dose) subjects.push_back(parsed[i].dose->patient);
    if (parsed[i].encounter) subjects.push_back(parsed[i].encounter->patient);
    for (const auto& patient : subjects) {
      if (!stored(patient) && bundle_patients.count(patient) == 0) {
        parsed[i].error_where = "Bundle.entry[" + std::to_string(i) + "].resource.subject";
        parsed[i].error = "unknown patient '" + patient + "'";
      }
    }
    // Authorization per entry: the patient it writes to.
    security::Decision d{true, ""};
    const std::string where = "Bundle.entry[" + std::to_string(i) + "]";
    // Data for a patient this bundle creates needs the right to create patients.
    auto check = [&](const std::string& patient, std::string_view resource) {
      if (!stored(patient) && bundle_patients.count(patient) > 0) {
        return caller.Check("", "Patient", Interaction::kCreate);
      }
      return caller.Check(patient, resource, Interaction::kCreate);
    };
    if (!parsed[i].patient_doc.is_null()) {
      const std::string id = parsed[i].patient_doc.value("id", "");
      parsed[i].updates = !id.empty() && stored(id);
      if (parsed[i].updates) {
        d = caller.Check(id, "Patient", Interaction::kUpdate);
      } else {
        JoinCareTeam(parsed[i].patient_doc, caller);
        d = caller.Check("", "Patient", Interaction::kCreate);
      }
    }
    for (const auto& o : parsed[i].observations) {
      if (d.allowed) d = check(o.patient, "Observation");
    }
    if (parsed[i].dose && d.allowed) d = check(parsed[i].dose->patient, "MedicationAdministration");
    if (parsed[i].encounter && d.allowed) d = check(parsed[i].encounter->patient, "Encounter");
    if (!d.allowed) {
      parsed[i].forbidden = true;
      parsed[i].error_where = where;
      parsed[i].error = "forbidden: " + d.reason;
    }
  }
  std::vector<json> entry_responses(parsed.size());
  const std::string now = FormatRfc3339(WallClockNow());
  if (type == "transaction") {
    for (const auto& p : parsed) {
      if (p.forbidden) return Outcome(403, "forbidden", p.error_where, p.error);
    }
    // A read the transaction cannot make refuses it, before anything is written (R4: a
    // transaction succeeds or fails as a whole).
    for (std::size_t i = 0; i < reads.size(); ++i) {
      if (!reads[i] || reads[i]->ok()) continue;
      const unsigned status = ReadRefusalStatus(reads[i]->error());
      return Outcome(status, IssueCode(status),
                     "Bundle.entry[" + std::to_string(i) + "].request.url",
                     reads[i]->error().message);
    }
    for (const auto& p : parsed) {
      if (!p.error.empty()) {
        return Outcome(p.error_status, p.error_status == 409 ? "conflict" : "invalid",
                       p.error_where, p.error);
      }
    }
    // All or nothing (R4 §3.1.0.11.2): patients, readings and doses checked together and
    // committed in one store transaction; whatever refuses it, nothing is stored or applied.
    TransactionWrites writes;
    writes.by = caller.Subject();
    std::vector<std::size_t> entry_of_patient, entry_of_reading, entry_of_dose, stays;
    for (std::size_t i = 0; i < parsed.size(); ++i) {
      auto& p = parsed[i];
      if (!p.patient_doc.is_null()) {
        writes.patients.push_back({std::move(p.patient_doc), p.updates});
        entry_of_patient.push_back(i);
      }
      if (p.encounter) {  // a stay: a change of its patient's record, after the patient entries
        stays.push_back(i);
      }
      for (const auto& o : p.observations) {
        writes.observations.push_back(o);
        entry_of_reading.push_back(i);
      }
      if (p.dose) {
        writes.events.push_back(*p.dose);
        entry_of_dose.push_back(i);
      }
    }
    for (std::size_t i : stays) {
      auto& p = parsed[i];
      writes.patients.push_back(
          {.id = p.encounter->patient, .change = [&p](record::PatientRecord& r) {
             return record::PlaceEncounter(r.encounters, p.encounter->encounter, r.id,
                                           &p.encounter_created);
           }});
      entry_of_patient.push_back(i);
    }
    TransactionRefusal refused;
    auto committed = service.CommitTransaction(writes, &refused);
    if (!committed.ok()) {
      const Error& e = committed.error();
      using Part = TransactionRefusal::Part;
      if (refused.part == Part::kNone) {
        return Outcome(503, "transient", "Bundle",
                       "the transaction could not be committed; nothing was stored");
      }
      const std::size_t entry = refused.part == Part::kPatient ? entry_of_patient[refused.index]
                                : refused.part == Part::kObservation
                                    ? entry_of_reading[refused.index]
                                    : entry_of_dose[refused.index];
      std::string where = "Bundle.entry[" + std::to_string(entry) + "].resource";
      if (refused.part == Part::kPatient && parsed[entry].encounter) {
        where += e.field.starts_with("Encounter") ? e.field.substr(9) : "." + e.field;
      } else if (refused.part == Part::kPatient) {
        const std::string path = FhirPatientPath(e.field);
        where += path.starts_with("Patient") ? path.substr(7) : "." + path;
      } else {
        where += e.field == "patient" ? ".subject" : e.field == "time" ? ".effective[x]" : "";
      }
      const bool conflict = e.code == ErrorCode::kAlreadyExists;
      return Outcome(conflict ? 409 : 422, conflict ? "duplicate" : "business-rule", where,
                     e.message + " (nothing in this transaction was stored)");
    }
    for (std::size_t j = 0; j < entry_of_patient.size(); ++j) {
      const record::PatientRecord& r = committed->patients[j];
      const ParsedEntry& p = parsed[entry_of_patient[j]];
      caller.Touch(r.id);
      entry_responses[entry_of_patient[j]] =
          p.encounter ? EncounterDone(p, r) : PatientDone(r, p.updates ? "200" : "201");
    }
    const Instant committed_at = committed->inserted.committed_at;
    const std::string stored_at =
        committed_at.us_since_epoch > 0 ? FormatRfc3339(committed_at) : now;
    for (std::size_t i : entry_of_reading) entry_responses[i] = ReadingDone(parsed[i], stored_at);
    for (std::size_t i : entry_of_dose) entry_responses[i] = DoseDone(parsed[i], stored_at);
  } else {
    ApplyBatch(service, caller, parsed, entry_responses, now);
  }
  json response = {
      {"resourceType", "Bundle"}, {"type", type + "-response"}, {"entry", json::array()}};
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    auto& p = parsed[i];
    if (p.read) {  // after every write
      response["entry"].push_back(reads[i]->ok() ? RunRead(rq, **reads[i])
                                                 : RefusedRead(reads[i]->error()));
      continue;
    }
    json entry_response = std::move(entry_responses[i]);
    // (Patients and readings were answered when they were applied, above.)
    if (entry_response.is_null()) {
      if (!p.error.empty()) {
        entry_response = {{"status", p.forbidden ? "403" : std::to_string(p.error_status)},
                          {"outcome", io::OperationOutcome("invalid", p.error_where, p.error)}};
      } else if (p.not_given) {
        entry_response = {{"status", "200"},
                          {"outcome",
                           {{"resourceType", "OperationOutcome"},
                            {"issue",
                             {{{"severity", "information"},
                               {"code", "informational"},
                               {"diagnostics",
                                "not given (status not-done or entered-in-error): "
                                "nothing recorded"}}}}}}};
      } else if (auto m = patients->matched.find(i); m != patients->matched.end()) {
        // A conditional create that found its patient: nothing written (R4: 200, the match).
        entry_response = {{"status", "200"}, {"location", "Patient/" + m->second}};
        if (auto existing = service.Patient(m->second)) {
          entry_response = PatientDone(*existing, "200");
        }
      }
    }
    response["entry"].push_back({{"response", entry_response}});
  }
  return Fhir(200, response);
}

}  // namespace medtwin::server
