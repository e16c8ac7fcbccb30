// De-identification: no identifier survives (ids, names, birth dates, device sources, care
// teams); dates move by one secret offset per patient (1–365 days, intervals kept); ages over
// 89 become "90+"; the age generalization is the least that gives k-anonymity with at most 5 %
// suppressed, and every released (age, sex) class holds at least k patients — also on random
// cohorts.
#include "medtwin/security/deidentify.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

namespace medtwin::security {
namespace {

using nlohmann::json;

const Instant kAsOf = *ParseRfc3339("2026-11-25T12:00:00Z");

IdentifiedPatient Person(const std::string& id, const std::string& sex, int birth_year,
                         int n_obs = 2) {
  IdentifiedPatient p;
  p.record = {{"id", id},
              {"name", "Name of " + id},
              {"sex", sex},
              {"birth_date", std::to_string(birth_year) + "-03-15"},
              {"care_team", {"dr-secret"}},
              {"conditions", {"pneumonia"}},
              {"models", {"news2"}}};
  for (int i = 0; i < n_obs; ++i) {
    io::Observation o;
    o.patient = id;
    o.code = "8867-4";
    o.value = 70 + i;
    o.time = Instant{kAsOf.us_since_epoch - (10 - i) * 3'600'000'000LL};
    o.source = "monitor-serial-" + id;
    p.observations.push_back(o);
  }
  return p;
}

TEST(Deidentify, NoIdentifiersShiftedDatesAgesAndBands) {
  SigningKey secret{std::string(32, 's')};
  std::vector<IdentifiedPatient> cohort;
  for (int i = 0; i < 20; ++i)
    cohort.push_back(Person("pat-" + std::to_string(i), "male", 1987 + i / 2));
  cohort.push_back(Person("old-1", "female", 1930));  // 96: "90+", alone: suppressed
  DeidentifyOptions options;
  options.as_of = kAsOf;
  const DeidentifiedCohort c = Deidentify(cohort, secret, options);
  EXPECT_EQ(c.age_generalization, "5-year bands");
  EXPECT_EQ(c.suppressed, 1);
  ASSERT_EQ(c.patients.size(), 20u);
  const std::string all = c.patients.dump() + c.observations.dump();
  for (const char* identifier :
       {"pat-", "Name of", "1987", "03-15", "dr-secret", "monitor-serial", "old-1"}) {
    EXPECT_EQ(all.find(identifier), std::string::npos) << identifier;
  }
  // Ages: born 1987-03-15 → 39 on 2026-11-25 → band 35-39; 1996 → 30 → 30-34.
  std::map<std::string, int> bands;
  for (const auto& p : c.patients) ++bands[p["age"].get<std::string>()];
  EXPECT_EQ(bands["35-39"], 10);
  EXPECT_EQ(bands["30-34"], 10);
  // Dates: one offset per patient, 1..365 days back; the 1-h interval kept.
  std::map<std::string, std::vector<std::int64_t>> times;
  for (const auto& o : c.observations) {
    times[o["patient"]].push_back(ParseRfc3339(o["time"].get<std::string>())->us_since_epoch);
  }
  for (const auto& [who, ts] : times) {
    ASSERT_EQ(ts.size(), 2u);
    EXPECT_EQ(ts[1] - ts[0], 3'600'000'000LL);
    const std::int64_t shift = ts[0] - (kAsOf.us_since_epoch - 10 * 3'600'000'000LL);
    EXPECT_LE(shift, -86'400'000'000LL) << who;
    EXPECT_GE(shift, -365 * 86'400'000'000LL) << who;
  }
  // Stable pseudonyms, keyed by the secret.
  EXPECT_EQ(Pseudonym(secret, "pat-1"), Pseudonym(secret, "pat-1"));
  EXPECT_NE(Pseudonym(secret, "pat-1"), Pseudonym(SigningKey{std::string(32, 't')}, "pat-1"));
  EXPECT_NE(Pseudonym(secret, "pat-1"), Pseudonym(secret, "pat-2"));
  // A 96-year-old in a large enough class is released as 90+.
  std::vector<IdentifiedPatient> old;
  for (int i = 0; i < 5; ++i) old.push_back(Person("o" + std::to_string(i), "female", 1926 + i));
  const auto c2 = Deidentify(old, secret, options);
  ASSERT_EQ(c2.patients.size(), 5u);
  for (const auto& p : c2.patients) EXPECT_EQ(p["age"], "90+");
}

TEST(Deidentify, RandomCohortsAreKAnonymous) {
  SigningKey secret{std::string(32, 'r')};
  std::mt19937 rng(3);
  DeidentifyOptions options;
  options.as_of = kAsOf;
  for (int trial = 0; trial < 200; ++trial) {
    options.k = 2 + static_cast<int>(rng() % 6);
    std::vector<IdentifiedPatient> cohort;
    const int n = static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      cohort.push_back(Person("p" + std::to_string(i), rng() % 2 ? "male" : "female",
                              1920 + static_cast<int>(rng() % 100), 0));
    }
    const auto c = Deidentify(cohort, secret, options);
    EXPECT_EQ(static_cast<int>(c.patients.size()) + c.suppressed, n);
    std::map<std::pair<std::string, std::string>, int> classes;
    for (const auto& p : c.patients) ++classes[{p["age"], p["sex"]}];
    for (const auto& [cls, count] : classes) {
      EXPECT_GE(count, options.k) << cls.first << "/" << cls.second << " trial " << trial;
    }
  }
}

}  // namespace
}  // namespace medtwin::security
