// FHIR R4 Encounter and Location in and out (io/fhir_encounter.h) and the Location id rule ADT
// beds and FHIR clients share (record/location.h): every refusal names the element; what is
// kept comes back as it was sent; the stored form reads back equal.
#include "medtwin/io/fhir_encounter.h"

#include <gtest/gtest.h>

namespace medtwin::io {
namespace {

using nlohmann::json;

TEST(LocationIds, OneConventionForWardRoomAndBed) {
  const record::BedLocation bed{"ICU", "1", "A", "GENERAL"};
  EXPECT_EQ(record::LocationIdFor(bed, record::LocationKind::kWard), "ICU");
  EXPECT_EQ(record::LocationIdFor(bed, record::LocationKind::kRoom), "ICU.1");
  EXPECT_EQ(record::LocationIdFor(bed, record::LocationKind::kBed), "ICU.1.A");
  EXPECT_EQ(record::LocationIdFor(bed), "ICU.1.A");
  // A bed with no room; a level not named has no id; characters outside FHIR's id rule.
  EXPECT_EQ(record::LocationIdFor({"ICU", "", "B", ""}), "ICU.B");
  EXPECT_EQ(record::LocationIdFor({"ICU", "", "", ""}, record::LocationKind::kRoom), "");
  EXPECT_EQ(record::LocationIdFor({"Ward 7/East", "12", "", ""}), "Ward-7-East.12");
  // Long names are cut to an equal share each: a FHIR id is at most 64 characters.
  const std::string id =
      record::LocationIdFor({std::string(80, 'W'), std::string(80, 'R'), "1", ""});
  EXPECT_LE(id.size(), 64u);
  EXPECT_TRUE(IsFhirId(id)) << id;
  EXPECT_EQ(id.substr(id.size() - 2), ".1");
}

TEST(LocationIds, FhirIdRule) {
  EXPECT_TRUE(IsFhirId("ICU.1.A"));
  EXPECT_TRUE(IsFhirId(std::string(64, 'a')));
  EXPECT_FALSE(IsFhirId(std::string(65, 'a')));
  EXPECT_FALSE(IsFhirId(""));
  EXPECT_FALSE(IsFhirId("a b"));
  EXPECT_FALSE(IsFhirId("a_b"));  // FHIR ids have no underscore
}

TEST(BedStatus, Hl7Table0116) {
  ASSERT_NE(record::FindBedStatus("H"), nullptr);
  EXPECT_EQ(record::FindBedStatus("H")->display, "Housekeeping");
  EXPECT_EQ(record::FindBedStatus("O")->display, "Occupied");
  EXPECT_EQ(record::FindBedStatus("X"), nullptr);
  EXPECT_EQ(record::BedStatuses().size(), 6u);
}

json Encounter() {
  return {
      {"resourceType", "Encounter"},
      {"id", "v-1"},
      {"status", "in-progress"},
      {"class", {{"system", "http://terminology.hl7.org/CodeSystem/v3-ActCode"}, {"code", "IMP"}}},
      {"subject", {{"reference", "Patient/p-1"}}},
      {"period", {{"start", "2026-12-01T08:00:00Z"}}},
      {"location",
       {{{"location", {{"display", "Emergency"}}},
         {"status", "completed"},
         {"period", {{"start", "2026-12-01T08:00:00Z"}, {"end", "2026-12-01T09:00:00Z"}}}},
        {{"location", {{"reference", "Location/ICU.1.A"}, {"display", "ICU 1-A"}}},
         {"status", "active"},
         {"period", {{"start", "2026-12-01T09:00:00Z"}}}}}}};
}

TEST(FhirEncounter, ReadAndWrittenBack) {
  auto in = FromFhirEncounter(Encounter());
  ASSERT_TRUE(in.ok()) << in.error().ToString();
  EXPECT_EQ(in->patient, "p-1");
  const record::Encounter& e = in->encounter;
  EXPECT_EQ(e.id, "v-1");
  EXPECT_EQ(e.status, "in-progress");
  EXPECT_EQ(e.class_code, "IMP");
  EXPECT_EQ(e.start, "2026-12-01T08:00:00Z");
  ASSERT_EQ(e.locations.size(), 2u);
  EXPECT_EQ(e.locations[0].location_id, "");
  EXPECT_EQ(e.locations[0].display, "Emergency");
  EXPECT_FALSE(e.locations[0].occupied());
  EXPECT_EQ(e.locations[1].location_id, "ICU.1.A");
  EXPECT_TRUE(e.locations[1].occupied());
  const json out = ToFhirEncounter(e, in->patient);
  json want = Encounter();
  EXPECT_EQ(out, want) << out.dump(1);
}

TEST(FhirEncounter, RefusalsNameTheElement) {
  struct Case {
    std::function<void(json&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["resourceType"] = "Patient"; }, "Encounter.resourceType"},
      {[](json& r) { r.erase("status"); }, "Encounter.status"},
      {[](json& r) { r["status"] = "admitted"; }, "Encounter.status"},
      {[](json& r) { r["status"] = 3; }, "Encounter.status"},
      {[](json& r) { r.erase("class"); }, "Encounter.class"},
      {[](json& r) { r["class"] = json::object(); }, "Encounter.class.code"},
      {[](json& r) { r.erase("subject"); }, "Encounter.subject"},
      {[](json& r) { r["subject"]["reference"] = "Group/1"; }, "Encounter.subject.reference"},
      {[](json& r) { r["id"] = "a b"; }, "Encounter.id"},
      {[](json& r) { r["period"]["start"] = "yesterday"; }, "Encounter.period.start"},
      {[](json& r) { r["period"]["end"] = "2026-11-01T00:00:00Z"; }, "Encounter.period.end"},
      {[](json& r) { r["location"] = json::object(); }, "Encounter.location"},
      {[](json& r) { r["location"][1]["status"] = "occupied"; }, "Encounter.location[1].status"},
      {[](json& r) {
         r["location"][1]["location"] = {{"reference", "Patient/x"}};
       },
       "Encounter.location[1].location.reference"},
      {[](json& r) { r["location"][0]["location"] = json::object(); },
       "Encounter.location[0].location"},
  };
  for (const auto& c : cases) {
    json r = Encounter();
    c.change(r);
    auto in = FromFhirEncounter(r);
    ASSERT_FALSE(in.ok()) << c.field;
    EXPECT_EQ(in.error().field, c.field) << in.error().ToString();
  }
}

json Bed() {
  return {{"resourceType", "Location"},
          {"id", "ICU.1.A"},
          {"identifier", {{{"system", "urn:hospital:beds"}, {"value", "B-17"}}}},
          {"status", "active"},
          {"operationalStatus",
           {{"system", "http://terminology.hl7.org/CodeSystem/v2-0116"},
            {"code", "K"},
            {"display", "Contaminated"}}},
          {"name", "A"},
          {"alias", {"window bed"}},
          {"description", "by the window"},
          {"mode", "instance"},
          {"physicalType",
           {{"coding",
             {{{"system", "http://terminology.hl7.org/CodeSystem/location-physical-type"},
               {"code", "bd"},
               {"display", "Bed"}}}}}},
          {"partOf", {{"reference", "Location/ICU.1"}}}};
}

TEST(FhirLocation, ReadWrittenBackAndStored) {
  auto l = FromFhirLocation(Bed());
  ASSERT_TRUE(l.ok()) << l.error().ToString();
  EXPECT_EQ(l->bed_status, "K");
  EXPECT_EQ(l->physical_type, "bd");
  EXPECT_EQ(l->part_of, "ICU.1");
  EXPECT_EQ(ToFhirLocation(*l, "K"), Bed());
  // The status shown is the caller's (an occupied bed says O whatever was stored).
  EXPECT_EQ(ToFhirLocation(*l, "O")["operationalStatus"]["code"], "O");
  EXPECT_FALSE(ToFhirLocation(*l, "").contains("operationalStatus"));
  l->version = 3;
  l->last_updated = "2026-12-01T10:00:00Z";
  auto stored = ParseStoredLocation(json::parse(LocationToJson(*l).dump()));
  ASSERT_TRUE(stored.ok()) << stored.error().ToString();
  EXPECT_EQ(*stored, *l);
  EXPECT_EQ(ToFhirLocation(*stored, "K")["meta"]["versionId"], "3");
}

TEST(FhirLocation, RefusalsNameTheElement) {
  struct Case {
    std::function<void(json&)> change;
    std::string field;
  };
  const std::vector<Case> cases = {
      {[](json& r) { r["status"] = "open"; }, "Location.status"},
      {[](json& r) { r["operationalStatus"]["code"] = "Z"; }, "Location.operationalStatus.code"},
      {[](json& r) { r["operationalStatus"]["system"] = "http://example.org"; },
       "Location.operationalStatus.system"},
      {[](json& r) { r["operationalStatus"] = "O"; }, "Location.operationalStatus"},
      {[](json& r) { r["mode"] = "virtual"; }, "Location.mode"},
      {[](json& r) { r["alias"] = {1}; }, "Location.alias[0]"},
      {[](json& r) { r["partOf"]["reference"] = "Organization/1"; }, "Location.partOf.reference"},
      {[](json& r) { r["identifier"] = json::object(); }, "Location.identifier"},
      {[](json& r) { r["id"] = "x/y"; }, "Location.id"},
      {[](json& r) { r["name"] = json::array(); }, "Location.name"},
  };
  for (const auto& c : cases) {
    json r = Bed();
    c.change(r);
    auto l = FromFhirLocation(r);
    ASSERT_FALSE(l.ok()) << c.field;
    EXPECT_EQ(l.error().field, c.field) << l.error().ToString();
  }
}

}  // namespace
}  // namespace medtwin::io
