// /fhir/r4/Patient: search, create, read, update (create at a new id; If-Match against the
// version), history and vread. medtwin's patient record through io's FHIR Patient mapping;
// every stored change is a version (meta.versionId, ETag W/"n").
#include "medtwin/server/handlers.h"

#include <algorithm>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/io/fhir.h"
#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/server/api_common.h"
#include "medtwin/server/fhir_search.h"

namespace medtwin::server {

using nlohmann::json;
using security::Interaction;

namespace {

// Whether `p` passes every term (values within a term ORed).
Result<bool> PatientMatches(const record::PatientRecord& p, const std::vector<SearchTerm>& terms) {
  // The display name's words: the last is taken as the family name, the others as given names
  // (the record keeps one name text; FHIR sends given and family apart).
  std::vector<std::string_view> words;
  for (std::size_t at = 0; at < p.name.size();) {
    const std::size_t space = std::min(p.name.find(' ', at), p.name.size());
    if (space > at) words.push_back(std::string_view(p.name).substr(at, space - at));
    at = space + 1;
  }
  for (const auto& term : terms) {
    if (term.name == "_count" || term.name == "_cursor") continue;  // paging, not matching
    bool any = false;
    for (const auto& v : term.values) {
      if (term.name == "_id") any = p.id == v;
      if (term.name == "gender") any = p.sex == v;
      if (term.name == "name") any = StringMatches(p.name, v);
      if (term.name == "family") any = !words.empty() && StringMatches(words.back(), v);
      if (term.name == "given") {
        for (std::size_t k = 0; k + 1 < words.size() && !any; ++k) any = StringMatches(words[k], v);
      }
      if (term.name == "identifier") {
        for (const auto& id : p.identifiers) any = any || TokenMatches(id.system, id.value, v);
      }
      if (term.name == "birthdate") {
        MEDTWIN_TRY(any, DateMatches(p.birth_date.value_or(""), v, "birthdate"));
      }
      if (term.name == "_lastUpdated") {
        MEDTWIN_TRY(any, DateMatches(p.last_updated, v, "_lastUpdated"));
      }
      if (any) break;
    }
    if (!any) return false;
  }
  return true;
}

json PatientResource(const record::PatientRecord& p) {
  return io::ToFhirPatient(io::PatientToJson(p));
}

// The request's FHIR Patient in the record's form, or the 400 saying why it is not one.
std::optional<Response> ReadPatient(const RouteRequest& rq, json& doc) {
  auto b = ParseBody(rq.req);
  if (!b.ok()) return Outcome(400, "structure", "Patient", b.error().message);
  auto read = io::FromFhirPatient(*b);
  if (!read.ok()) return Outcome(400, "invalid", read.error().field, read.error().message);
  doc = std::move(*read);
  return std::nullopt;
}

// A conditional request's condition that MatchCondition refused: 403 (may not), 412 (several
// match), else 400.
Response ConditionRefused(const Error& e) {
  const bool forbidden = e.code == ErrorCode::kPermissionDenied;
  const bool several = e.code == ErrorCode::kFailedPrecondition;
  return Outcome(forbidden ? 403
                 : several ? 412
                           : 400,
                 forbidden ? "forbidden"
                 : several ? "multiple-matches"
                           : "invalid",
                 e.field, e.message);
}

// A create or update the record refused: 409 for an identifier another patient holds, else
// 400, naming the FHIR element.
Response PatientRefused(const Error& e) {
  const bool duplicate = e.code == ErrorCode::kAlreadyExists;
  return Outcome(duplicate ? 409 : 400, duplicate ? "duplicate" : "invalid",
                 FhirPatientPath(e.field), e.message);
}

// A Patient answer with its version headers: ETag, Last-Modified, and (on create) a Location
// naming the version.
Response PatientAnswer(unsigned status, const record::PatientRecord& p, const RouteRequest& rq,
                       bool location = false) {
  Response r = Fhir(status, PatientResource(p));
  AddVersionHeaders(r, p.version, p.last_updated);
  if (location) {
    r.headers.emplace_back("Location", FhirBase(rq) + "/Patient/" + p.id + "/_history/" +
                                           std::to_string(std::max(p.version, 1)));
  }
  return r;
}

}  // namespace

// The FHIR element a patient record's field is ("identifiers[1].system" is
// "Patient.identifier[1].system"), so a refusal names what the client sent.
std::string FhirPatientPath(const std::string& field) {
  static const std::pair<std::string_view, std::string_view> kElements[] = {
      {"identifiers", "Patient.identifier"},
      {"telecom", "Patient.telecom"},
      {"birth_date", "Patient.birthDate"},
      {"sex", "Patient.gender"},
      {"name", "Patient.name"},
      {"id", "Patient.id"}};
  for (const auto& [member, element] : kElements) {
    if (field.rfind(member, 0) == 0 &&
        (field.size() == member.size() || field[member.size()] == '[' ||
         field[member.size()] == '.')) {
      return std::string(element) + field.substr(member.size());
    }
  }
  return field;
}

Result<std::optional<record::PatientRecord>> MatchCondition(TwinService& service,
                                                            const Caller& caller,
                                                            std::string_view query,
                                                            const std::string& where) {
  if (auto d = caller.Check("", "Patient", Interaction::kCreate); !d.allowed) {
    return Error{ErrorCode::kPermissionDenied, where,
                 "a conditional create needs the right to create patients: " + d.reason};
  }
  const Target parsed = SplitTarget("?" + std::string(query));
  const bool one_identifier =
      parsed.all_query.size() == 1 && parsed.all_query.begin()->first == "identifier";
  const std::string value = one_identifier ? parsed.all_query.begin()->second : "";
  const std::size_t bar = value.find('|');
  if (bar == std::string::npos || bar == 0 || bar + 1 >= value.size() ||
      value.find(',') != std::string::npos) {
    return InvalidArgument(where, "identifier=system|value (one identifier, with its system)");
  }
  const auto found = service.PatientsWithIdentifier({value.substr(0, bar), value.substr(bar + 1)});
  if (found.size() > 1) {
    return Error{ErrorCode::kFailedPrecondition, where,
                 "more than one patient matches: the condition must be selective"};
  }
  if (found.empty()) return std::optional<record::PatientRecord>();
  if (!caller.Check(found[0].id, "Patient", Interaction::kRead).allowed) {
    return Error{ErrorCode::kPermissionDenied, where,
                 "the identifier belongs to a patient outside this caller's access"};
  }
  return std::optional<record::PatientRecord>(found[0]);
}

Response FhirSearchPatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  auto terms = SearchTerms(rq, "Patient");
  if (!terms.ok()) return Outcome(400, "not-supported", terms.error().field, terms.error().message);
  // Every value is checked before any patient is looked at, and only patients the caller may
  // see are matched: an answer never depends on a patient the caller cannot see.
  if (auto dates = CheckDateTerms("Patient", *terms); !dates.ok()) {
    return Outcome(400, "invalid", dates.error().field, dates.error().message);
  }
  // Pages by id (_count, default 100; next and previous links hold the id to go on from).
  auto paging = ReadPaging(*terms, 1000);
  if (!paging.ok()) return PagingRefused(paging.error());
  std::vector<const record::PatientRecord*> matched;
  const std::vector<record::PatientRecord> patients = service.Patients();  // by id
  for (const auto& p : patients) {
    if (!caller.May(p.id, "Patient", Interaction::kSearch)) continue;
    auto match = PatientMatches(p, *terms);
    if (match.ok() && *match) matched.push_back(&p);
  }
  std::vector<std::string> keys;
  keys.reserve(matched.size());
  for (const auto* p : matched) keys.push_back(p->id);
  const PageBounds page = PageOf(keys, *paging);
  json list = json::array();
  for (std::size_t i = page.start; i < page.end; ++i) list.push_back(PatientResource(*matched[i]));
  json bundle = Searchset(list, &rq);
  bundle["total"] = matched.size();
  AddPageLinks(bundle, rq, "Patient", keys, page);
  return Fhir(200, bundle);
}

// POST Patient; with If-None-Exist ("identifier=system|value", a search) a conditional create
// (R4 §3.1.0.8.1): no match creates, one match answers 200 with it, several 412.
Response FhirCreatePatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const Caller& caller = rq.caller;
  json doc;
  if (auto refused = ReadPatient(rq, doc)) return std::move(*refused);
  if (auto condition = rq.req.find("If-None-Exist"); condition != rq.req.end()) {
    auto match = MatchCondition(
        service, caller, std::string_view(condition->value().data(), condition->value().size()),
        "If-None-Exist");
    if (!match.ok()) {
      return ConditionRefused(match.error());
    }
    if (*match) return PatientAnswer(200, **match, rq, true);
  }
  JoinCareTeam(doc, caller);
  auto p = service.CreatePatient(doc);
  if (!p.ok()) return PatientRefused(p.error());
  caller.Touch(p->id);
  return PatientAnswer(201, *p, rq, true);
}

Response FhirReadPatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const std::string& id = rq.param("id");
  auto p = service.Patient(id);
  if (!p) return Outcome(404, "not-found", "Patient.id", "no Patient/" + id);
  return PatientAnswer(200, *p, rq);
}

Response FhirPatientHistory(const RouteRequest& rq) {
  const std::string& id = rq.param("id");
  auto current = rq.service.Patient(id);
  if (!current) return Outcome(404, "not-found", "Patient.id", "no Patient/" + id);
  auto versions = rq.service.PatientHistory(id);
  if (!versions.ok()) return Outcome(503, "transient", "store", versions.error().message);
  // A patient stored before versions were kept, unchanged since: its one version is now.
  if (versions->empty()) versions->push_back(*current);
  // A vread: one version.
  if (rq.params.contains("vid")) {
    const auto vid = ParseInt64(rq.param("vid"));
    for (const auto& v : *versions) {
      if (vid && v.version == *vid) return PatientAnswer(200, v, rq);
    }
    return Outcome(404, "not-found", "Patient.meta.versionId",
                   "Patient/" + id + " has no version '" + rq.param("vid") + "'");
  }
  json bundle = {
      {"resourceType", "Bundle"},
      {"type", "history"},
      {"total", versions->size()},
      {"link", {{{"relation", "self"}, {"url", FhirBase(rq) + "/Patient/" + id + "/_history"}}}},
      {"entry", json::array()}};
  for (const auto& v : *versions) {
    const bool first = v.version <= 1;
    bundle["entry"].push_back({{"fullUrl", FhirBase(rq) + "/Patient/" + id},
                               {"resource", PatientResource(v)},
                               {"request",
                                {{"method", first ? "POST" : "PUT"},
                                 {"url", first ? std::string("Patient") : "Patient/" + id}}},
                               {"response",
                                {{"status", first ? "201" : "200"},
                                 {"etag", VersionETag(v.version)},
                                 {"lastModified", v.last_updated}}}});
  }
  return Fhir(200, bundle);
}

namespace {

// Creates or updates Patient `id` from `doc` (a FHIR Patient read into the record's form), as
// an update answers (R4 §3.1.0.4): 200, or 201 with Location when created; If-Match honoured.
Response SavePatient(const RouteRequest& rq, const std::string& id, json doc) {
  TwinService& service = rq.service;
  // R4 §3.1.0.4 (update): the resource's id must be the one the URL (or the match) names.
  if (doc.contains("id") && doc["id"] != id) {
    return Outcome(400, "invalid", "Patient.id", "must be the id in the URL ('" + id + "')");
  }
  doc["id"] = id;
  auto if_match = IfMatch(rq.req);
  if (!if_match.ok()) return Outcome(400, "invalid", "If-Match", if_match.error().message);
  const bool exists = service.Patient(id).has_value();
  if (!exists && *if_match) {
    return Outcome(412, "conflict", "If-Match", "Patient/" + id + " does not exist");
  }
  if (!exists) JoinCareTeam(doc, rq.caller);
  auto p = exists ? service.UpdatePatient(id, doc, rq.caller.Subject(), *if_match)
                  : service.CreatePatient(doc);
  if (!p.ok()) {
    // R4 §3.1.0.4.4: a stale If-Match is 412 (someone else changed the patient since).
    if (p.error().code == ErrorCode::kFailedPrecondition) {
      return Outcome(412, "conflict", p.error().field, p.error().message);
    }
    return PatientRefused(p.error());
  }
  rq.caller.Touch(p->id);  // the audit record names the patient written
  return PatientAnswer(exists ? 200 : 201, *p, rq, !exists);
}

}  // namespace

Response FhirUpdatePatient(const RouteRequest& rq) {
  json doc;
  if (auto refused = ReadPatient(rq, doc)) return std::move(*refused);
  return SavePatient(rq, rq.param("id"), std::move(doc));
}

// PUT Patient?identifier=system|value (R4 §3.1.0.4.3, conditional update): one match is
// updated, none creates the patient (with an id of the server's, as any create), several are
// 412. The condition is MatchCondition's: one identifier with its system, from a caller who
// may create patients.
Response FhirConditionalUpdatePatient(const RouteRequest& rq) {
  TwinService& service = rq.service;
  const auto target = rq.req.target();
  const std::string_view raw(target.data(), target.size());
  const std::size_t q = raw.find('?');
  if (q == std::string_view::npos) {
    return Outcome(400, "required", "Patient?",
                   "a conditional update names its patient: Patient?identifier=system|value");
  }
  auto match = MatchCondition(service, rq.caller, raw.substr(q + 1), "Patient?");
  if (!match.ok()) {
    return ConditionRefused(match.error());
  }
  json doc;
  if (auto refused = ReadPatient(rq, doc)) return std::move(*refused);
  std::string id;
  if (*match) {
    id = (*match)->id;
    if (auto d = rq.caller.Check(id, "Patient", Interaction::kUpdate); !d.allowed) {
      return Outcome(403, "forbidden", "Patient", d.reason);
    }
  } else {
    // No match: a create, which names the patient itself (R4 §3.1.0.7: an id in the body is
    // ignored), so no id can be probed or taken this way.
    id = NewPatientId();
    doc.erase("id");
  }
  return SavePatient(rq, id, std::move(doc));
}

}  // namespace medtwin::server
