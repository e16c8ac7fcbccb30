// The route table is the only way to a handler: every route has one, every route is reached by
// its own path (none shadows another), parameters come out of the match, and a known path with
// another method is told apart from an unknown path (405, not 404).
#include <gtest/gtest.h>

#include <set>

#include "medtwin/server/access.h"

namespace medtwin::server {
namespace {

std::vector<std::string> SamplePath(const std::string& pattern) {
  std::vector<std::string> out;
  std::size_t start = 1;
  while (start <= pattern.size()) {
    const auto slash = std::min(pattern.find('/', start), pattern.size());
    if (slash > start) {
      std::string seg = pattern.substr(start, slash - start);
      if (seg.front() == '{') seg = "x-1";
      out.push_back(seg);
    }
    start = slash + 1;
  }
  return out;
}

TEST(Routes, EveryRouteHasAHandlerAndIsReachedByItsOwnPath) {
  std::set<std::pair<int, std::string>> seen;
  for (const RouteSpec& r : ApiRoutes()) {
    EXPECT_NE(r.handler, nullptr) << r.path;
    EXPECT_TRUE(seen.insert({static_cast<int>(r.method), r.path}).second) << "twice: " << r.path;
    std::map<std::string, std::string> params;
    bool known = false;
    const RouteSpec* match = MatchRoute(r.method, SamplePath(r.path), &params, &known);
    ASSERT_NE(match, nullptr) << r.path;
    EXPECT_EQ(match, &r) << r.path << " is shadowed by " << match->path;
    EXPECT_TRUE(known);
    for (const auto& [name, value] : params) EXPECT_EQ(value, "x-1") << r.path << " " << name;
    // Non-public routes say what they touch, so authorization can be decided before the handler.
    if (!r.is_public) EXPECT_FALSE(r.resource.empty()) << r.path;
  }
}

TEST(Routes, ParametersMethodsAndUnknownPaths) {
  std::map<std::string, std::string> params;
  bool known = false;
  const RouteSpec* r =
      MatchRoute(http::verb::post, {"api", "v1", "patients", "ward-03", "whatif"}, &params, &known);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(r->path, "/api/v1/patients/{id}/whatif");
  EXPECT_EQ(params.at("id"), "ward-03");
  EXPECT_EQ(r->patient_from, PatientFrom::kPath);

  r = MatchRoute(http::verb::get, {"static", "app", "twin.js"}, &params, &known);
  ASSERT_NE(r, nullptr);
  EXPECT_EQ(params.at("path"), "app/twin.js");

  // Known path, other method: null, but known (405).
  EXPECT_EQ(MatchRoute(http::verb::delete_, {"api", "v1", "patients", "p1"}, &params, &known),
            nullptr);
  EXPECT_TRUE(known);
  // Unknown path: null and unknown (404).
  EXPECT_EQ(
      MatchRoute(http::verb::get, {"api", "v1", "patients", "p1", "secrets"}, &params, &known),
      nullptr);
  EXPECT_FALSE(known);
  EXPECT_EQ(MatchRoute(http::verb::get, {"api", "v2", "patients"}, &params, &known), nullptr);
  EXPECT_FALSE(known);
}

TEST(Routes, SplitTargetDecodesSegmentsAndQuery) {
  const Target t =
      SplitTarget("/fhir/r4/Observation?patient=Patient%2Fp-1&date=ge2026&date=le2027");
  ASSERT_EQ(t.segments.size(), 3u);
  EXPECT_EQ(t.segments[2], "Observation");
  EXPECT_EQ(t.query.at("patient"), "Patient/p-1");
  EXPECT_EQ(t.all_query.count("date"), 2u);
  EXPECT_EQ(SplitTarget("/a%2Fb//c").segments, (std::vector<std::string>{"a/b", "c"}));
}

}  // namespace
}  // namespace medtwin::server
