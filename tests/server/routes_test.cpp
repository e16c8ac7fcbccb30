// The route table is the only way to a handler: every route has one, every route is reached by
// its own path (none shadows another), parameters come out of the match, and a known path with
// another method is told apart from an unknown path (405, not 404).
#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

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
    if (!r.is_public) {
      EXPECT_FALSE(r.resource.empty()) << r.path;
    }
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

// docs/openapi.yaml describes exactly the routes the server has: a route added without its
// documentation, or documentation of a route that is gone, fails here (and so in CI).
TEST(Routes, OpenApiDocumentsExactlyTheRouteTable) {
  std::ifstream in(std::string(MEDTWIN_SOURCE_DIR) + "/docs/openapi.yaml");
  ASSERT_TRUE(in) << "docs/openapi.yaml";
  const std::regex path_line(R"(^  (/\S*):\s*$)");
  const std::regex method_line(R"(^    (get|put|post|patch|delete):\s*$)");
  std::set<std::string> documented;
  std::string line, path;
  bool in_paths = false;
  while (std::getline(in, line)) {
    if (!line.empty() && line[0] != ' ' && line[0] != '#') in_paths = line.starts_with("paths:");
    if (!in_paths) continue;
    std::smatch m;
    if (std::regex_match(line, m, path_line)) path = m[1];
    if (std::regex_match(line, m, method_line) && !path.empty()) {
      std::string method = m[1];
      for (auto& c : method) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      documented.insert(method + " " + path);
    }
  }
  std::set<std::string> routes;
  for (const RouteSpec& r : ApiRoutes()) {
    routes.insert(std::string(http::to_string(r.method)) + " " + r.path);
  }
  for (const auto& r : routes) EXPECT_TRUE(documented.count(r) > 0) << "undocumented: " << r;
  for (const auto& d : documented) EXPECT_TRUE(routes.count(d) > 0) << "no such route: " << d;
}

}  // namespace
}  // namespace medtwin::server
