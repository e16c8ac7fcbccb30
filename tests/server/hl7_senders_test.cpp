// The HL7 senders file: who may send what (docs/hl7.md). Errors name the field; ADT (admit,
// move, register) only from a sender that may write every patient, so a ward gateway cannot move
// patients into its ward and then write them.
#include <gtest/gtest.h>

#include "medtwin/server/hl7_listener.h"

namespace medtwin::server {
namespace {

TEST(Hl7Senders, ReadsTheFileAndRefusesWhatWouldOpenAHole) {
  auto ok = ParseHl7Senders(nlohmann::json::parse(R"({"senders": [
      {"facility": "ICU_GW", "ward": "ICU", "addresses": ["10.1.2.3"]},
      {"facility": "EHR", "all_patients": true, "adt": true,
       "identifier_systems": {"HOSP": "http://hospital.example/mrn"}, "utc_offset": "-0530"}]})"));
  ASSERT_TRUE(ok.ok()) << ok.error().ToString();
  ASSERT_EQ(ok->size(), 2u);
  EXPECT_EQ((*ok)[0].ward, "ICU");
  EXPECT_FALSE((*ok)[0].adt);
  EXPECT_EQ((*ok)[1].identifiers.utc_offset_min, -330);
  EXPECT_EQ((*ok)[1].identifiers.systems[0].second, "http://hospital.example/mrn");

  struct Case {
    const char* text;
    const char* field;
  };
  const Case bad[] = {
      {R"({"senders": [{"facility": "GW", "ward": "ICU", "adt": true}]})", "senders[0].adt"},
      {R"({"senders": [{"facility": "GW"}]})", "senders[0]"},
      {R"({"senders": [{"ward": "ICU"}]})", "senders[0].facility"},
      {R"({"senders": [{"facility": "A", "ward": "X"}, {"facility": "A", "ward": "Y"}]})",
       "senders[1].facility"},
      {R"({"senders": [{"facility": "A", "ward": "X", "utc_offset": "+1500"}]})",
       "senders[0].utc_offset"},
      {R"({"senders": [{"facility": "A", "ward": "X", "colour": "red"}]})", "senders[0].colour"},
      {R"({"senders": [{"facility": "A", "patients": ["bad id!"]}]})", "senders[0].patients"},
      {R"([1, 2])", "senders"},
  };
  for (const Case& c : bad) {
    auto r = ParseHl7Senders(nlohmann::json::parse(c.text));
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().field, c.field) << r.error().ToString();
  }
}

}  // namespace
}  // namespace medtwin::server
