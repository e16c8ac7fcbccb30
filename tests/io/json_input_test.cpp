#include <gtest/gtest.h>

#include <random>
#include <string>

#include "medtwin/io/json_input.h"
#include "medtwin/io/observation.h"

namespace medtwin::io {
namespace {

// A random document nested exactly `depth` levels (arrays and objects mixed, with strings that
// hold brackets and escaped quotes, which must not count).
std::string Nested(int depth, std::mt19937& rng) {
  std::string open, close;
  for (int i = 0; i < depth; ++i) {
    if (rng() % 2 == 0) {
      open += "[\"[{\\\"\",";
      close = "]" + close;
    } else {
      open += "{\"k]\\\\\":";
      close = "}" + close;
    }
  }
  return open + "1" + close;
}

TEST(UntrustedJson, ParsesUpToTheDepthLimitAndRefusesBeyondItWithTheOffset) {
  std::mt19937 rng(3);
  for (int trial = 0; trial < 200; ++trial) {
    const int depth = 1 + static_cast<int>(rng() % 80);
    const std::string text = Nested(depth, rng);
    // Independent reference: nlohmann parses it (no limit) and we count the depth of the tree.
    const auto reference = nlohmann::json::parse(text);
    int tree_depth = 0;
    for (const nlohmann::json* node = &reference; node->is_structured();) {
      ++tree_depth;
      node = node->is_array() ? &node->back() : &node->begin().value();
    }
    ASSERT_EQ(tree_depth, depth) << text;
    auto parsed = ParseUntrustedJson(text, "body");
    if (depth <= kMaxJsonDepth) {
      ASSERT_TRUE(parsed.ok()) << depth << ": " << parsed.error().message;
      EXPECT_EQ(*parsed, reference);
    } else {
      ASSERT_FALSE(parsed.ok()) << depth;
      EXPECT_EQ(parsed.error().field, "body");
      EXPECT_NE(parsed.error().message.find("deeper than 64"), std::string::npos);
    }
  }
}

TEST(UntrustedJson, TwoHundredThousandNestedArraysAreRefusedWithoutBuildingThem) {
  // The MQTT finding: a 400 KB payload whose "patient" nests 200,000 arrays deep.
  const std::string text =
      "{\"patient\":" + std::string(200'000, '[') + std::string(200'000, ']') + "}";
  auto parsed = ParseUntrustedJson(text, "payload");
  ASSERT_FALSE(parsed.ok());
  EXPECT_EQ(parsed.error().field, "payload");
  EXPECT_NE(parsed.error().message.find("at byte 74"), std::string::npos) << parsed.error().message;
  // And through NDJSON.
  auto lines = ReadNdjson("{\"a\":1}\n" + text + "\n");
  ASSERT_EQ(lines.size(), 2U);
  EXPECT_FALSE(lines[0].malformed);
  EXPECT_TRUE(lines[1].malformed);
  EXPECT_NE(lines[1].error.find("deeper than"), std::string::npos);
}

TEST(UntrustedJson, MalformedAndInvalidUtf8AreErrorsNotExceptions) {
  for (const std::string& bad : {std::string("{"), std::string("[1,]"), std::string("\"\xFF\""),
                                 std::string("{\"a\":\"\xC0\xAF\"}"), std::string("")}) {
    auto parsed = ParseUntrustedJson(bad, "body");
    ASSERT_FALSE(parsed.ok());
    EXPECT_EQ(parsed.error().message, "malformed JSON");
  }
}

TEST(UntrustedJson, DumpNeverThrowsOnBytesThatAreNotUtf8) {
  nlohmann::json j = {{"message", std::string("no patient '\xFF'")}};
  std::string out;
  ASSERT_NO_THROW(out = DumpJson(j));
  EXPECT_NE(out.find("\xEF\xBF\xBD"), std::string::npos);  // U+FFFD
}

TEST(UntrustedJson, TextMembersRefuseHeaderAndLogInjection) {
  const auto j = nlohmann::json::parse(R"({"source":"x\r\n\r\n{\"a\":1}","ok":"monitor-12",
                                           "nul":"a\u0000b","n":5})");
  auto source = TextMember(j, "source", false);
  ASSERT_FALSE(source.ok());
  EXPECT_EQ(source.error().field, "source");
  EXPECT_FALSE(TextMember(j, "nul", false).ok());
  EXPECT_EQ(*TextMember(j, "ok", false), "monitor-12");
  EXPECT_EQ(*TextMember(j, "absent", false), "");
  EXPECT_FALSE(TextMember(j, "absent", true).ok());
  EXPECT_EQ(TextMember(j, "n", false).error().message, "must be a string");
}

TEST(Observations, RefuseHeaderInjectionInSourceAndTimesBeforeNineteenHundred) {
  ObservationLimits limits;
  auto obs = [](const char* source, const char* time) {
    return nlohmann::json{{"patient", "p1"}, {"code", "8867-4"}, {"value", 80},
                          {"unit", "/min"},  {"time", time},     {"source", source}};
  };
  auto injected = ParseObservation(obs("x\r\n\r\n{}", "2026-11-25T10:00:00Z"), "", limits);
  ASSERT_FALSE(injected.ok());
  EXPECT_EQ(injected.error().field, "source");
  auto ancient = ParseObservation(obs("m", "0001-01-01T00:00:00Z"), "", limits);
  ASSERT_FALSE(ancient.ok());
  EXPECT_EQ(ancient.error().field, "time");
  EXPECT_TRUE(ParseObservation(obs("m", "1900-01-01T00:00:00Z"), "", limits).ok());
  auto bad_id = ParseObservation(nlohmann::json{{"patient", "a/b"},
                                                {"code", "8867-4"},
                                                {"value", 80},
                                                {"unit", "/min"},
                                                {"time", "2026-11-25T10:00:00Z"}},
                                 "", limits);
  ASSERT_FALSE(bad_id.ok());
  EXPECT_EQ(bad_id.error().field, "patient");
}

TEST(Ndjson, CountsLinesWithoutParsingThem) {
  EXPECT_EQ(CountNdjsonLines(""), 0U);
  EXPECT_EQ(CountNdjsonLines("1\n2\r\n\n  \n3"), 3U);
  std::string big;
  for (int i = 0; i < 100'000; ++i) big += "1\n";
  EXPECT_EQ(CountNdjsonLines(big), 100'000U);
}

}  // namespace
}  // namespace medtwin::io
