// Events: every type parses with unit conversion; bad input names the field; mutations never
// crash the parser; the stored JSON form parses back to the same event.
#include "medtwin/io/event.h"

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

TEST(Event, EveryTypeParsesAndRoundTrips) {
  const char* bodies[] = {
      R"({"type":"meal","amount":60,"unit":"g","time":"2026-11-25T07:00:00Z","source":"app"})",
      R"({"type":"meal","amount":0.06,"unit":"kg","time":"2026-11-25T07:00:00Z"})",
      R"({"type":"insulin","amount":4.5,"unit":"U","time":"2026-11-25T07:00:00Z"})",
      R"({"type":"basal","rate":0.9,"unit":"U/h","time":"2026-11-25T00:00:00Z"})",
      R"({"type":"basal","rate":0.015,"unit":"U/min","time":"2026-11-25T00:00:00Z"})",
      R"({"type":"dose","drug":"vancomycin","amount":1,"unit":"g","duration_h":1,"time":"2026-11-25T08:00:00Z"})",
      R"({"type":"dose","drug":"fentanyl patch","amount":1,"unit":"{patch}","time":"2026-11-25T08:00:00Z"})",
      R"({"type":"order","drug":"vancomycin","amount":1250,"unit":"mg","interval_h":12,"duration_h":1.5,"by":"dr-1","time":"2026-11-25T08:00:00Z"})"};
  const double expect[] = {60, 60, 4.5, 0.9, 0.9, 1000, 1, 1250};
  for (int i = 0; i < 8; ++i) {
    auto e = ParseEvent(json::parse(bodies[i]), "p1", Now());
    ASSERT_TRUE(e.ok()) << bodies[i] << " " << e.error().ToString();
    EXPECT_NEAR(e->type == "basal" ? e->rate : e->amount, expect[i], 1e-9) << bodies[i];
    auto back = ParseEvent(EventToJson(*e), "", ObservationLimits{});
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(EventToJson(*back), EventToJson(*e));
  }
}

TEST(Event, BadInputNamesTheField) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"amount":60,"unit":"g","time":"2026-11-25T07:00:00Z"})", "type"},
      {R"({"type":"snack","amount":60,"time":"2026-11-25T07:00:00Z"})", "type"},
      {R"({"type":"meal","amount":-5,"unit":"g","time":"2026-11-25T07:00:00Z"})", "amount"},
      {R"({"type":"meal","amount":60,"unit":"U","time":"2026-11-25T07:00:00Z"})", "unit"},
      {R"({"type":"insulin","amount":"4","time":"2026-11-25T07:00:00Z"})", "amount"},
      {R"({"type":"basal","rate":90,"unit":"U/h","time":"2026-11-25T07:00:00Z"})", "rate"},
      {R"({"type":"dose","amount":1000,"unit":"mg","time":"2026-11-25T07:00:00Z"})", "drug"},
      {R"({"type":"dose","drug":"x","amount":1000,"unit":"mg","duration_h":99,"time":"2026-11-25T07:00:00Z"})",
       "duration_h"},
      {R"({"type":"meal","amount":60,"unit":"g","time":"tomorrow"})", "time"},
      // Vancomycin only in mass units; volumes need a concentration.
      {R"({"type":"dose","drug":"vancomycin","amount":2,"unit":"{vial}","time":"2026-11-25T07:00:00Z"})",
       "unit"},
      {R"({"type":"dose","drug":"saline","amount":100,"unit":"mL","time":"2026-11-25T07:00:00Z"})",
       "unit"},
      {R"({"type":"order","drug":"vancomycin","amount":1000,"unit":"mg","time":"2026-11-25T07:00:00Z"})",
       "interval_h"},
      {R"({"type":"meal","amount":60,"unit":"g","time":"2027-11-25T07:00:00Z"})", "time"}};
  for (const auto& c : cases) {
    auto e = ParseEvent(json::parse(c.body), "p1", Now());
    ASSERT_FALSE(e.ok()) << c.body;
    EXPECT_EQ(e.error().field, c.field) << c.body << " → " << e.error().ToString();
  }
}

TEST(Event, RandomMutationsNeverCrash) {
  const std::string seed =
      R"({"type":"dose","drug":"vancomycin","amount":1000,"unit":"mg","duration_h":1,"time":"2026-11-25T08:00:00Z"})";
  std::mt19937 rng(3);
  const std::string alphabet = "{}[]\",:0123456789.-eE+abcdefghijklmnopqrstuvwxyzUgh/ ";
  for (int i = 0; i < 20000; ++i) {
    std::string m = seed;
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4) && !m.empty(); ++k) {
      const std::size_t at = rng() % m.size();
      if (rng() % 2 == 0) {
        m[at] = alphabet[rng() % alphabet.size()];
      } else {
        m.erase(at, 1 + rng() % 5);
      }
    }
    const json j = json::parse(m, nullptr, false);
    if (j.is_discarded()) continue;
    auto e = ParseEvent(j, "p", Now());
    if (!e.ok()) {
      EXPECT_FALSE(e.error().field.empty());
    }
  }
}

}  // namespace
}  // namespace medtwin::io
