// The links a FHIR answer holds (fullUrl, Location, next/previous, the CapabilityStatement's
// implementation.url) point where clients reach the server: `--public-url` when given (behind
// a proxy), else the request's Host — only when it is a plain host[:port], so a forged Host
// cannot plant a path or markup in the links a client follows next.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "../support/server_process.h"
#include "medtwin/server/access.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::Server;
using medtwin::testing_support::TestAuth;

TEST(PublicUrl, OnlyAnHttpUrlWithAPlainAuthority) {
  EXPECT_EQ(*medtwin::server::PublicBaseUrl("https://twin.hospital.org/"),
            "https://twin.hospital.org");
  EXPECT_EQ(*medtwin::server::PublicBaseUrl("http://10.0.0.5:8080/medtwin"),
            "http://10.0.0.5:8080/medtwin");
  EXPECT_EQ(*medtwin::server::PublicBaseUrl("https://[::1]:8443"), "https://[::1]:8443");
  for (const char* bad : {"twin.hospital.org", "ftp://x", "https://user@x", "https://x/?q=1",
                          "https://x:-1", "https://x:99999", "https://", "https://a b"}) {
    auto r = medtwin::server::PublicBaseUrl(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.error().field, "--public-url");
  }
}

class FhirLinks : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_fhir_links_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path dir_;
};

json Post(unsigned short port, const std::string& host, std::string* location) {
  const json patient = {{"resourceType", "Patient"}, {"gender", "female"}};
  auto r = Call(port, http::verb::post, "/fhir/r4/Patient", patient.dump(), "application/fhir+json",
                TestAuth::Admin(), {{"Host", host}});
  EXPECT_EQ(r.status, 201u) << r.body;
  *location = r.headers["location"];
  return Call(port, http::verb::get, "/fhir/r4/Patient?_count=5", "", "application/json",
              TestAuth::Admin(), {{"Host", host}})
      .Json();
}

TEST_F(FhirLinks, FromTheHostWhenPlainElseLocalhostOrThePublicUrl) {
  {
    Server server("sqlite:" + (dir_ / "a.db").string());
    ASSERT_NE(server.port(), 0);
    std::string location;
    json bundle = Post(server.port(), "twin.example:8443", &location);
    EXPECT_EQ(location.rfind("http://twin.example:8443/fhir/r4/Patient/", 0), 0u) << location;
    EXPECT_EQ(bundle["entry"][0]["fullUrl"].get<std::string>().rfind(
                  "http://twin.example:8443/fhir/r4/Patient/", 0),
              0u);
    // A Host carrying a path, userinfo or markup is not echoed into links.
    for (const char* forged :
         {"evil.example/phish?x=", "user@evil.example", "<script>x", "evil.example:80:80"}) {
      bundle = Post(server.port(), forged, &location);
      EXPECT_EQ(location.rfind("http://localhost/fhir/r4/Patient/", 0), 0u) << forged;
      for (const auto& e : bundle["entry"]) {
        EXPECT_EQ(e["fullUrl"].get<std::string>().rfind("http://localhost/fhir/r4/", 0), 0u)
            << forged;
      }
      EXPECT_EQ(bundle["link"][0]["url"].get<std::string>().find("evil"), std::string::npos);
    }
  }
  {
    Server server("sqlite:" + (dir_ / "b.db").string(),
                  {"--public-url", "https://twin.hospital.org/medtwin/"});
    ASSERT_NE(server.port(), 0);
    std::string location;
    const json bundle = Post(server.port(), "127.0.0.1", &location);
    EXPECT_EQ(location.rfind("https://twin.hospital.org/medtwin/fhir/r4/Patient/", 0), 0u)
        << location;
    EXPECT_EQ(bundle["link"][0]["url"].get<std::string>().rfind(
                  "https://twin.hospital.org/medtwin/fhir/r4/Patient?", 0),
              0u);
    const json cs =
        Call(server.port(), http::verb::get, "/fhir/r4/metadata", "", "application/json", "")
            .Json();
    EXPECT_EQ(cs["implementation"]["url"], "https://twin.hospital.org/medtwin/fhir/r4");
  }
}

}  // namespace
