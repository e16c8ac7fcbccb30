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

namespace medtwin::io {
namespace {

// An order the server builds from accepted advice is held to the limits ParseEvent holds a
// posted order to: over a grid of doses, intervals, infusions, boluses and basal rates around
// every limit, both accept the same orders and name the same field.
TEST(Event, ValidateOrderAgreesWithParseEvent) {
  const ObservationLimits limits = Now();
  int compared = 0;
  auto agree = [&](const nlohmann::json& body, const Event& built) {
    auto parsed = ParseEvent(body, "p1", limits);
    const Status checked = ValidateOrder(built);
    ASSERT_EQ(parsed.ok(), checked.ok()) << body.dump();
    if (!parsed.ok()) {
      EXPECT_EQ(parsed.error().field, checked.error().field) << body.dump();
      EXPECT_EQ(parsed.error().message, checked.error().message) << body.dump();
    }
    ++compared;
  };
  const std::string time = FormatRfc3339(limits.now);
  for (double dose : {-1.0, 0.0, 0.0005, 0.001, 1000.0, 100000.0, 100001.0}) {
    for (double interval : {0.5, 1.0, 12.0, 168.0, 169.0}) {
      for (double infusion : {-0.1, 0.0, 1.0, 48.0, 49.0}) {
        nlohmann::json body = {
            {"type", "order"},        {"drug", "vancomycin"},   {"amount", dose}, {"unit", "mg"},
            {"interval_h", interval}, {"duration_h", infusion}, {"by", "dr-x"},   {"time", time}};
        Event e;
        e.patient = "p1";
        e.type = "order";
        e.drug = "vancomycin";
        e.amount = dose;
        e.interval_h = interval;
        e.duration_h = infusion;
        e.by = "dr-x";
        agree(body, e);
      }
    }
  }
  for (double bolus : {-0.5, 0.0, 3.0, 25.0, 25.5}) {
    for (double rate : {-1.0, 0.0, 1.5, 40.0, 41.0}) {
      nlohmann::json body = {{"type", "order"},
                             {"drug", "insulin"},
                             {"amount", bolus},
                             {"by", "dr-x"},
                             {"time", time}};
      if (rate != -1) body["rate"] = rate;  // -1: the order keeps the basal rate
      Event e;
      e.patient = "p1";
      e.type = "order";
      e.drug = "insulin";
      e.dose_unit = "U";
      e.amount = bolus;
      e.rate = rate;
      e.by = "dr-x";
      agree(body, e);
    }
  }
  EXPECT_EQ(compared, 7 * 5 * 5 + 5 * 5);
  Event bad_by;
  bad_by.type = "order";
  bad_by.drug = "vancomycin";
  bad_by.amount = 1000;
  bad_by.interval_h = 12;
  bad_by.by = std::string(65, 'x');
  EXPECT_EQ(ValidateOrder(bad_by).error().field, "by");
}

}  // namespace
}  // namespace medtwin::io
