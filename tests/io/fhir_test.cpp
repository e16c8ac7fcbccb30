// FHIR R4 Observation and Patient mapping, on resources shaped like the official R4 vital-signs
// examples (heart-rate, blood-pressure with components, satO2 with several codings, body
// temperature, date-only effective times) and on broken ones (the error names the element).
#include "medtwin/io/fhir.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <set>

namespace medtwin::io {
namespace {

using nlohmann::json;

json Obs(const std::string& code, json value, const std::string& when = "2026-11-25T10:00:00Z") {
  json r = {{"resourceType", "Observation"},
            {"status", "final"},
            {"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", code}}}}}},
            {"subject", {{"reference", "Patient/example"}}},
            {"effectiveDateTime", when}};
  for (auto& [k, v] : value.items()) r[k] = v;
  return r;
}

TEST(Fhir, OfficialStyleVitalSignsMapToObservations) {
  auto hr = FromFhirObservation(Obs("8867-4",
                                    {{"valueQuantity",
                                      {{"value", 44},
                                       {"unit", "beats/minute"},
                                       {"system", "http://unitsofmeasure.org"},
                                       {"code", "/min"}}}},
                                    "1999-07-02"),
                                {});
  ASSERT_TRUE(hr.ok()) << hr.error().ToString();
  ASSERT_EQ(hr->size(), 1u);
  EXPECT_EQ((*hr)[0].patient, "example");
  EXPECT_EQ((*hr)[0].value, 44);
  EXPECT_EQ(FormatRfc3339((*hr)[0].time), "1999-07-02T00:00:00Z");  // date only: start of day
  json bp = Obs("85354-9", json::object(), "2012-09-17");
  bp["component"] = {
      {{"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8480-6"}}}}}},
       {"valueQuantity",
        {{"value", 107}, {"system", "http://unitsofmeasure.org"}, {"code", "mm[Hg]"}}}},
      {{"code", {{"coding", {{{"system", "http://loinc.org"}, {"code", "8462-4"}}}}}},
       {"valueQuantity",
        {{"value", 60}, {"system", "http://unitsofmeasure.org"}, {"code", "mm[Hg]"}}}}};
  auto p = FromFhirObservation(bp, {});
  ASSERT_TRUE(p.ok()) << p.error().ToString();
  ASSERT_EQ(p->size(), 2u);
  EXPECT_EQ((*p)[0].code, "8480-6");
  EXPECT_EQ((*p)[1].value, 60);
  json sat = Obs(
      "59408-5",
      {{"valueQuantity", {{"value", 95}, {"code", "%"}, {"system", "http://unitsofmeasure.org"}}}},
      "2014-12-05T09:30:10+01:00");
  sat["code"]["coding"].push_back({{"system", "http://loinc.org"}, {"code", "2708-6"}});
  auto s = FromFhirObservation(sat, {});
  ASSERT_TRUE(s.ok()) << s.error().ToString();
  EXPECT_EQ((*s)[0].code, "2708-6");
  EXPECT_EQ(FormatRfc3339((*s)[0].time), "2014-12-05T08:30:10Z");
  auto t = FromFhirObservation(
      Obs("8310-5",
          {{"valueQuantity",
            {{"value", 99.5}, {"system", "http://unitsofmeasure.org"}, {"code", "[degF]"}}}}),
      {});
  ASSERT_TRUE(t.ok());
  EXPECT_NEAR((*t)[0].value, 37.5, 1e-9);
  auto c = FromFhirObservation(
      Obs("80288-4", {{"valueCodeableConcept", {{"coding", {{{"display", "Voice"}}}}}}}), {});
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ((*c)[0].text, "V");
  // Round trip through medtwin's FHIR output.
  auto back = FromFhirObservation(ToFhirObservation((*t)[0], "x"), {});
  ASSERT_TRUE(back.ok());
  EXPECT_NEAR((*back)[0].value, 37.5, 1e-9);
}

TEST(Fhir, BrokenResourcesNameTheElement) {
  struct Case {
    json r;
    const char* field;
  };
  json no_subject = Obs("8867-4", {{"valueQuantity", {{"value", 80}, {"code", "/min"}}}});
  no_subject.erase("subject");
  json error_status = Obs("8867-4", {{"valueQuantity", {{"value", 80}, {"code", "/min"}}}});
  error_status["status"] = "entered-in-error";
  json no_time = Obs("8867-4", {{"valueQuantity", {{"value", 80}, {"code", "/min"}}}});
  no_time.erase("effectiveDateTime");
  std::vector<Case> cases = {
      {no_subject, "Observation.subject.reference"},
      {error_status, "Observation.status"},
      {no_time, "Observation.effective[x]"},
      {Obs("1234-5", {{"valueQuantity", {{"value", 1}, {"code", "/min"}}}}), "Observation.code"},
      {Obs("8867-4", json::object()), "Observation.valueQuantity"},
      {Obs("8867-4", {{"valueQuantity",
                       {{"value", 80}, {"system", "http://unitsofmeasure.org"}, {"code", "mg"}}}}),
       "Observation.valueQuantity.code"},
      {Obs("2708-6", {{"valueQuantity", {{"value", 180}, {"code", "%"}}}}),
       "Observation.valueQuantity.value"},
      {json{{"resourceType", "Patient"}}, "Observation.resourceType"}};
  for (const auto& c : cases) {
    auto r = FromFhirObservation(c.r, {});
    ASSERT_FALSE(r.ok()) << c.r.dump();
    EXPECT_EQ(r.error().field, c.field) << r.error().ToString();
  }
}

TEST(Fhir, PatientMapsBothWays) {
  auto doc = FromFhirPatient(json::parse(
      R"({"resourceType":"Patient","id":"example","name":[{"use":"official","family":"Chalmers","given":["Peter","James"]}],"gender":"male","birthDate":"1974-12-25"})"));
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["name"], "Peter James Chalmers");
  EXPECT_EQ((*doc)["sex"], "male");
  EXPECT_EQ(ToFhirPatient(*doc)["birthDate"], "1974-12-25");
  EXPECT_FALSE(
      FromFhirPatient(json::parse(R"({"resourceType":"Patient","birthDate":"1974"})")).ok());
}

// US Core's race extension (the shape of US Core's Patient example: three OMB categories, two
// detailed codes, text "Mixed") ↔ the record's race in IWPC's categories.
TEST(Fhir, UsCoreRaceMapsToTheRecordsRace) {
  const std::string url = "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race";
  auto omb = [](const char* code) {
    return json{{"url", "ombCategory"},
                {"valueCoding", {{"system", "urn:oid:2.16.840.1.113883.6.238"}, {"code", code}}}};
  };
  auto patient = [&](json subs) {
    subs.push_back({{"url", "text"}, {"valueString", "as reported"}});
    return json{{"resourceType", "Patient"},
                {"id", "r1"},
                {"extension", {{{"url", url}, {"extension", subs}}}}};
  };
  json us_core_example = json::array({omb("2106-3"), omb("1002-5"), omb("2028-9")});
  us_core_example.push_back(
      {{"url", "detailed"},
       {"valueCoding", {{"system", "urn:oid:2.16.840.1.113883.6.238"}, {"code", "1586-7"}}}});
  const std::pair<json, const char*> cases[] = {
      {us_core_example, "mixed"},
      {json::array({omb("2106-3")}), "white"},
      {json::array({omb("2028-9")}), "asian"},
      {json::array({omb("2054-5")}), "black"},
      {json::array({omb("2076-8")}), "other"},
      {json::array({omb("2028-9"), omb("2028-9")}), "asian"},  // repeated, not mixed
      {json::array({omb("UNK")}), "unknown"}};
  for (const auto& [subs, race] : cases) {
    auto doc = FromFhirPatient(patient(subs));
    ASSERT_TRUE(doc.ok()) << doc.error().ToString();
    EXPECT_EQ((*doc)["race"], race) << subs.dump();
    // And back: the same category out (OMB-coded where there is one).
    auto again = FromFhirPatient(ToFhirPatient(*doc));
    ASSERT_TRUE(again.ok());
    if (std::string(race) != "mixed" && std::string(race) != "other") {
      EXPECT_EQ((*again)["race"], race);
    }
  }
  const json white = ToFhirPatient(json{{"id", "r2"}, {"race", "white"}});
  EXPECT_EQ(white["extension"][0]["url"], url);
  EXPECT_EQ(white["extension"][0]["extension"][0]["valueCoding"]["code"], "2106-3");
  EXPECT_EQ(white["extension"][0]["extension"].back()["valueString"], "White");
  // No race extension, or only text: no race. An unknown category names the field.
  EXPECT_FALSE(FromFhirPatient(patient(json::array()))->contains("race"));
  auto bad = FromFhirPatient(patient(json::array({omb("9999-9")})));
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().field, "Patient.extension[us-core-race].ombCategory");
  EXPECT_NE(bad.error().ToString().find("9999-9"), std::string::npos);
}

}  // namespace
}  // namespace medtwin::io

namespace medtwin::io {
namespace {

json Example(const std::string& name) {
  std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) + "/tests/data/fhir/" + name);
  return json::parse(in);
}

TEST(FhirMedication, OfficialR4ExamplesAreAccepted) {
  ObservationLimits limits;
  limits.now = *ParseRfc3339("2026-11-25T12:00:00Z");
  // medadmin0301: vancomycin (a contained Medication coded by NDC) 500 mg IV push, ongoing.
  auto v = FromFhirMedicationAdministration(Example("medicationadministration0301.json"), limits);
  ASSERT_TRUE(v.ok()) << v.error().ToString();
  ASSERT_TRUE(v->has_value());
  const Event& dose = **v;
  EXPECT_EQ(dose.patient, "pat1");
  EXPECT_EQ(dose.type, "dose");
  EXPECT_EQ(dose.drug, "vancomycin");
  EXPECT_EQ(dose.amount, 500);
  EXPECT_EQ(dose.dose_unit, "mg");
  EXPECT_EQ(dose.duration_h, 0);
  EXPECT_EQ(FormatRfc3339(dose.time), "2015-01-15T13:30:00Z");  // +01:00 → UTC
  EXPECT_EQ(dose.source, "fhir:MedicationAdministration/medadmin0301");
  // medadmin0302: potassium chloride 20 meq over 10 h (a compounded Medication named by its
  // first ingredient; meq is kept as given).
  auto k = FromFhirMedicationAdministration(Example("medicationadministration0302.json"), limits);
  ASSERT_TRUE(k.ok()) << k.error().ToString();
  ASSERT_TRUE(k->has_value());
  EXPECT_EQ((*k)->drug, "Potassium Chloride");
  EXPECT_EQ((*k)->amount, 20);
  EXPECT_EQ((*k)->dose_unit, "meq");
  EXPECT_DOUBLE_EQ((*k)->duration_h, 10.0);
  // medadmin0303: entered in error — accepted, nothing to record.
  auto z = FromFhirMedicationAdministration(Example("medicationadministration0303.json"), limits);
  ASSERT_TRUE(z.ok()) << z.error().ToString();
  EXPECT_FALSE(z->has_value());
}

TEST(FhirMedication, RoundTripAndErrorsNameTheElement) {
  ObservationLimits limits;
  limits.now = *ParseRfc3339("2026-11-25T12:00:00Z");
  Event d;
  d.patient = "p9";
  d.type = "dose";
  d.drug = "vancomycin";
  d.amount = 1250;
  d.duration_h = 1.5;
  d.time = *ParseRfc3339("2026-11-25T08:00:00Z");
  d.source = "fhir:MedicationAdministration/p9-dose-1";  // what a FHIR-sourced dose records
  const json r = ToFhirMedicationAdministration(d, "p9-dose-1");
  EXPECT_EQ(r["medicationCodeableConcept"]["coding"][0]["code"], "11124");
  EXPECT_EQ(r["effectivePeriod"]["end"], "2026-11-25T09:30:00Z");
  EXPECT_NEAR(r["dosage"]["rateQuantity"]["value"].get<double>(), 1250 / 1.5, 1e-9);
  auto back = FromFhirMedicationAdministration(r, limits);
  ASSERT_TRUE(back.ok() && back->has_value()) << (back.ok() ? "" : back.error().ToString());
  EXPECT_EQ(EventToJson(**back).dump(), EventToJson(d).dump());

  struct Case {
    std::function<void(json&)> mutate;
    const char* element;
  } cases[] = {
      {[](json& j) { j.erase("subject"); }, "MedicationAdministration.subject.reference"},
      {[](json& j) { j["status"] = "given"; }, "MedicationAdministration.status"},
      {[](json& j) { j.erase("medicationCodeableConcept"); },
       "MedicationAdministration.medication[x]"},
      {[](json& j) { j.erase("effectivePeriod"); }, "MedicationAdministration.effective[x]"},
      {[](json& j) { j["effectivePeriod"]["end"] = "2026-11-24T00:00:00Z"; },
       "MedicationAdministration.effectivePeriod.end"},
      {[](json& j) { j["dosage"].erase("dose"); }, "MedicationAdministration.dosage.dose"},
      {[](json& j) { j["dosage"]["dose"]["code"] = "mL"; },
       "MedicationAdministration.dosage.dose.code"},
      {[](json& j) { j["dosage"]["dose"]["value"] = -3; },
       "MedicationAdministration.dosage.dose.value"},
      {[](json& j) { j["effectivePeriod"]["end"] = "2026-11-28T00:00:00Z"; },
       "MedicationAdministration.effectivePeriod"},
  };
  for (const auto& c : cases) {
    json broken = r;
    c.mutate(broken);
    auto e = FromFhirMedicationAdministration(broken, limits);
    ASSERT_FALSE(e.ok()) << c.element;
    EXPECT_EQ(e.error().field, c.element) << e.error().ToString();
  }
}

TEST(FhirMedication, DoseAdviceAndOrdersAreDraftMedicationRequests) {
  const json advice = {{"drug", "vancomycin"},
                       {"dose_mg", 1250},
                       {"interval_h", 12},
                       {"infusion_h", 1.25},
                       {"basis", "MAP fit"},
                       {"target", "AUC24 400-600 mg*h/L"},
                       {"probability_of_target_attainment", 0.71}};
  const json proposal = ToFhirMedicationRequest(advice, "p9", "p9-advice", false);
  EXPECT_EQ(proposal["status"], "draft");
  EXPECT_EQ(proposal["intent"], "proposal");
  const json& dosage = proposal["dosageInstruction"][0];
  EXPECT_EQ(dosage["timing"]["repeat"]["period"], 12);
  EXPECT_EQ(dosage["doseAndRate"][0]["doseQuantity"]["value"], 1250);
  EXPECT_DOUBLE_EQ(dosage["doseAndRate"][0]["rateQuantity"]["value"].get<double>(), 1000.0);
  json order = advice;
  order["accepted_by"] = "dr-1";
  order["accepted_at"] = "2026-11-25T10:00:00Z";
  const json request = ToFhirMedicationRequest(order, "p9", "p9-order-1", true);
  EXPECT_EQ(request["intent"], "order");
  EXPECT_EQ(request["status"], "draft");
  EXPECT_EQ(request["authoredOn"], "2026-11-25T10:00:00Z");
}

}  // namespace
}  // namespace medtwin::io

namespace medtwin::io {
namespace {

// Every member of the example resources replaced by a value of another JSON type (and whole
// nested objects by scalars): the parsers answer with a result or an error, never an exception
// (libFuzzer found `"status": {…}` throwing out of FromFhirObservation).
TEST(FhirTypeConfusion, AnyMemberOfAnyTypeIsAnErrorNotAnException) {
  ObservationLimits limits;
  limits.now = *ParseRfc3339("2026-11-25T12:00:00Z");
  std::vector<json> resources = {
      Example("medicationadministration0301.json"),
      Example("medicationadministration0302.json"),
      Obs("8867-4", {{"valueQuantity", {{"value", 44}, {"code", "/min"}}}}),
      {{"resourceType", "Patient"},
       {"id", "p"},
       {"gender", "male"},
       {"birthDate", "1960-01-02"},
       {"name", {{{"family", "F"}, {"given", {"G"}}}}}}};
  const json replacements[] = {json::object(), json::array(), 5, "x", nullptr, json::array({1})};
  int cases = 0;
  // Walk every member at every depth (paths as JSON pointers).
  for (const json& original : resources) {
    const json flat = original.flatten();
    std::set<std::string> pointers;
    for (const auto& [pointer, value] : flat.items()) {
      // The member itself and each of its ancestors.
      std::string p = pointer;
      while (!p.empty()) {
        pointers.insert(p);
        p = p.substr(0, p.rfind('/'));
      }
    }
    for (const auto& pointer : pointers) {
      for (const auto& replacement : replacements) {
        json r = original;
        r[json::json_pointer(pointer)] = replacement;
        EXPECT_NO_THROW({
          (void)FromFhirObservation(r, limits);
          (void)FromFhirPatient(r);
          (void)FromFhirMedicationAdministration(r, limits);
        }) << pointer
           << " = " << replacement.dump();
        ++cases;
      }
    }
  }
  EXPECT_GT(cases, 300);
}

}  // namespace
}  // namespace medtwin::io
