// Observation JSON: accepted forms with unit conversion, and every kind of bad input refused
// with the field named; random mutations never crash the parser.
#include "medtwin/io/observation.h"
#include "../support/mutate.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

namespace medtwin::io {
namespace {

using nlohmann::json;

ObservationLimits Now() {
  ObservationLimits l;
  l.now = *ParseRfc3339("2026-11-25T12:00:00Z");
  return l;
}

TEST(Observation, ParsesAndConvertsToCanonicalUnits) {
  auto o = ParseObservation(json::parse(R"({"patient":"p1","code":"8867-4","value":88,
      "unit":"/min","time":"2026-11-25T10:00:00Z","source":"monitor-12"})"),
                            "", Now());
  ASSERT_TRUE(o.ok()) << o.error().ToString();
  EXPECT_EQ(o->patient, "p1");
  EXPECT_EQ(o->value, 88);
  EXPECT_EQ(o->source, "monitor-12");
  // 98.6 °F = 37 °C; 5.5 mmol/L glucose = 99.09 mg/dL; beats per hour to per minute.
  auto t = ParseObservation(json::parse(R"({"patient":"p1","code":"8310-5","value":98.6,
      "unit":"[degF]","time":"2026-11-25T10:00:00Z"})"),
                            "", Now());
  ASSERT_TRUE(t.ok()) << t.error().ToString();
  EXPECT_NEAR(t->value, 37.0, 1e-9);
  auto g = ParseObservation(json::parse(R"({"patient":"p1","code":"99504-3","value":5.5,
      "unit":"mmol/L","time":"2026-11-25T10:00:00Z"})"),
                            "", Now());
  ASSERT_TRUE(g.ok()) << g.error().ToString();
  EXPECT_NEAR(g->value, 5.5 * 180.156 / 10, 1e-9);
  auto h = ParseObservation(json::parse(R"({"code":"8867-4","value":5280,"unit":"/h",
      "time":"2026-11-25T10:00:00Z"})"),
                            "p9", Now());
  ASSERT_TRUE(h.ok()) << h.error().ToString();
  EXPECT_NEAR(h->value, 88, 1e-9);
  EXPECT_EQ(h->patient, "p9");
  auto c = ParseObservation(json::parse(R"({"patient":"p1","code":"80288-4","value":"V",
      "time":"2026-11-25T10:00:00Z"})"),
                            "", Now());
  ASSERT_TRUE(c.ok()) << c.error().ToString();
  EXPECT_EQ(c->text, "V");
  EXPECT_EQ(ObservationToJson(*c)["value"], "V");
  EXPECT_EQ(ObservationToJson(*t)["unit"], "Cel");
}

TEST(Observation, BadInputNamesTheField) {
  struct Case {
    const char* body;
    const char* path_patient;
    const char* field;
    const char* reason;
  } cases[] = {
      {R"({"code":"8867-4","value":88,"unit":"/min","time":"2026-11-25T10:00:00Z"})", "", "patient",
       "missing"},
      {R"({"patient":"p1","code":"1234-5","value":1,"unit":"/min","time":"2026-11-25T10:00:00Z"})",
       "", "code", "unknown LOINC code '1234-5'"},
      {R"({"patient":"p1","code":"2708-6","value":120,"unit":"%","time":"2026-11-25T10:00:00Z"})",
       "", "value", "outside the possible range"},
      {R"({"patient":"p1","code":"8867-4","value":-5,"unit":"/min","time":"2026-11-25T10:00:00Z"})",
       "", "value", "outside the possible range"},
      {R"({"patient":"p1","code":"8867-4","value":88,"unit":"mg","time":"2026-11-25T10:00:00Z"})",
       "", "unit", "is not a unit of heart rate"},
      {R"({"patient":"p1","code":"8867-4","value":"88","unit":"/min","time":"2026-11-25T10:00:00Z"})",
       "", "value", "must be a number"},
      {R"({"patient":"p1","code":"8867-4","value":88,"unit":"/min","time":"yesterday"})", "",
       "time", "is not RFC 3339"},
      {R"({"patient":"p1","code":"8867-4","value":88,"unit":"/min","time":"2027-01-01T00:00:00Z"})",
       "", "time", "in the future"},
      {R"({"patient":"p1","code":"80288-4","value":"sleepy","time":"2026-11-25T10:00:00Z"})", "",
       "value", "is not one of A, C, V, P, U"},
      {R"({"patient":"p2","code":"8867-4","value":88,"unit":"/min","time":"2026-11-25T10:00:00Z"})",
       "p1", "patient", "differs from the patient in the URL"},
      {R"([1,2])", "", "observation", "must be a JSON object"},
  };
  for (const auto& c : cases) {
    auto r = ParseObservation(json::parse(c.body), c.path_patient, Now());
    ASSERT_FALSE(r.ok()) << c.body;
    EXPECT_EQ(r.error().field, c.field) << c.body << " → " << r.error().ToString();
    EXPECT_NE(r.error().message.find(c.reason), std::string::npos) << r.error().ToString();
  }
}

TEST(Observation, RandomMutationsNeverCrash) {
  const std::string seed =
      R"({"patient":"p1","code":"8310-5","value":38.2,"unit":"Cel","time":"2026-11-25T10:00:00Z","source":"x"})";
  std::mt19937 rng(11);
  const std::string alphabet = "{}[]\",:0123456789.-eE+abcdefghijklmnopqrstuvwxyzACVPU/%[] ";
  int parsed = 0, accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    const std::string m = testing_support::Mutate(seed, rng, alphabet, 5, 8);
    json j = json::parse(m, nullptr, false);
    if (j.is_discarded()) continue;
    ++parsed;
    auto r = ParseObservation(j, "", Now());
    if (r.ok()) {
      ++accepted;
      const ObservationCode* code = FindObservationCode(r->code);
      ASSERT_NE(code, nullptr);
      EXPECT_GE(r->value, code->min);
      EXPECT_LE(r->value, code->max);
    } else {
      EXPECT_FALSE(r.error().field.empty());
    }
  }
  EXPECT_GT(parsed, 1000);
  EXPECT_GT(accepted, 10);
}

}  // namespace
}  // namespace medtwin::io
