// FHIR R4 Observation and Patient mapping, on resources shaped like the official R4 vital-signs
// examples (heart-rate, blood-pressure with components, satO2 with several codings, body
// temperature, date-only effective times) and on broken ones (the error names the element).
#include "medtwin/io/fhir.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace medtwin::io
