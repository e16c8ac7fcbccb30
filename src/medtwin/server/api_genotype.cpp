// /api/v1/patients/{id}/genotype: the record's calls with the CPIC guidance they give, and
// replacing them from a VCF (called here), CALLS.json or {"genes": {…}}.
#include "medtwin/server/handlers.h"

#include <sstream>

#include "medtwin/io/json_input.h"
#include "medtwin/io/patient.h"
#include "medtwin/pgx/calls.h"
#include "medtwin/pgx/guidance.h"
#include "medtwin/server/api_common.h"
#include "medtwin/twin/pharmacogenomics.h"

namespace medtwin::server {
namespace {

using nlohmann::json;

// The patient's genotype calls and the CPIC guidance they give for every covered drug.
json GenotypeJson(const record::PatientRecord& p) {
  json guidance = json::array();
  if (auto table = pgx::GuidanceTable::Default(); table.ok()) {
    for (const auto& drug : (*table)->Drugs()) {
      if (auto g = twin::GuidanceFor(p, drug)) guidance.push_back(pgx::GuidanceToJson(*g));
    }
  }
  return {{"genotype", io::PatientToJson(p)["genotype"]}, {"guidance", guidance}};
}

}  // namespace

Response GetGenotype(const RouteRequest& rq) {
  TwinService& s = rq.service;
  const std::string& patient = rq.param("id");
  const auto p = s.Patient(patient);
  if (!p) return NoPatient(patient);
  return Json(200, GenotypeJson(*p));
}

// PUT …/genotype: a VCF (called here, one sample or ?sample=NAME), CALLS.json from `medtwin pgx
// call` (one sample or ?sample=), or {"genes": {GENE: call}}. Called genes replace the
// record's genotype; genes not called are listed, never guessed.
Response PutGenotype(const RouteRequest& rq) {
  TwinService& s = rq.service;
  const Request& req = rq.req;
  const std::string& patient = rq.param("id");
  const Target& t = rq.target;
  if (!s.Patient(patient)) return NoPatient(patient);
  auto data = pgx::PgxData::Default();
  if (!data.ok()) return Fail(503, data.error());
  const std::string wanted = t.query.contains("sample") ? t.query.at("sample") : "";
  std::vector<pgx::SampleCalls> samples;
  const std::string& body = req.body();
  const auto type = req[http::field::content_type];
  if (type.find("vcf") != std::string_view::npos || body.starts_with("##fileformat=VCF")) {
    std::istringstream in(body);
    // One sample is called: the named one, or the file's only one.
    auto called = pgx::CallVcf(in, **data, "body", {}, {.sample = wanted, .max_samples = 1});
    if (!called.ok()) return Fail(400, called.error());
    samples = std::move(*called);
  } else {
    auto document = io::ParseUntrustedJson(body, "body");
    if (!document.ok()) return Fail(400, document.error());
    json j = std::move(*document);
    if (!j.is_object()) {
      return Fail(400, "invalid", "body", "a VCF, CALLS.json or {\"genes\": {…}}");
    }
    if (j.contains("genes")) j = json{{"samples", {{{"sample", "body"}, {"genes", j["genes"]}}}}};
    auto parsed = pgx::CallsFromJson(j);
    if (!parsed.ok()) return Fail(400, parsed.error());
    samples = std::move(*parsed);
  }
  const pgx::SampleCalls* chosen = nullptr;
  for (const auto& sc : samples) {
    if (wanted.empty() ? samples.size() == 1 : sc.sample == wanted) chosen = &sc;
  }
  if (chosen == nullptr) {
    return Fail(400, "invalid", "sample",
                wanted.empty() ? std::to_string(samples.size()) + " samples: name one with ?sample="
                               : "no sample '" + wanted.substr(0, 40) + "'");
  }
  json calls = json::array(), not_called = json::object();
  for (const auto& g : chosen->genes) {
    if (!g.called) {
      not_called[g.gene] = g.reason.empty() ? "not called" : g.reason;
      continue;
    }
    std::string diplotype;
    for (std::size_t i = 0; i < g.diplotypes.size(); ++i) {
      diplotype += (i ? " or " : "") + g.diplotypes[i].Name();
    }
    calls.push_back({{"gene", g.gene},
                     {"diplotype", diplotype.substr(0, 400)},
                     {"phenotype", g.phenotype},
                     {"activity_score", g.activity_score ? json(*g.activity_score) : json()}});
  }
  auto updated = s.UpdatePatient(patient, json{{"genotype", calls}});
  if (!updated.ok()) return Fail(StatusFor(updated.error()), updated.error());
  json out = GenotypeJson(*updated);
  out["not_called"] = not_called;
  return Json(200, out);
}

}  // namespace medtwin::server
