// De-identification: no identifier survives (ids, names, birth dates, device sources, care
// teams, free-text conditions); dates move by one secret offset per patient and export (1–365
// days, generalized to the day, intervals of days kept) and each patient's newest 30–120 days are
// withheld; ages over 89 become "90+"; the age generalization is the least that gives
// k-anonymity on (age, sex, condition codes) with at most 5 % suppressed — also on random
// cohorts; and the attacks that re-identified patients before fail.
#include "medtwin/security/deidentify.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

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
    record::Observation o;
    o.patient = id;
    o.code = "8867-4";
    o.value = 70 + i;
    o.time = Instant{kAsOf.us_since_epoch - (200 - i) * 86'400'000'000LL};
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
  // Dates: one offset per patient, 1..365 days back, at day granularity; the 1-day interval kept.
  std::map<std::string, std::vector<std::int64_t>> times;
  for (const auto& o : c.observations) {
    times[o["patient"]].push_back(ParseRfc3339(o["time"].get<std::string>())->us_since_epoch);
  }
  for (const auto& [who, ts] : times) {
    ASSERT_EQ(ts.size(), 2u);
    EXPECT_EQ(ts[1] - ts[0], 86'400'000'000LL);
    EXPECT_EQ(ts[0] % 86'400'000'000LL, 0);
    const std::int64_t shift = ts[0] - (kAsOf.us_since_epoch - 200 * 86'400'000'000LL);
    EXPECT_LE(shift, -86'400'000'000LL + 86'400'000'000LL) << who;  // floor to the day
    EXPECT_GE(shift, -366 * 86'400'000'000LL) << who;
  }
  // Pseudonyms keyed by the secret and the export's salt.
  EXPECT_EQ(Pseudonym(secret, "a", "pat-1"), Pseudonym(secret, "a", "pat-1"));
  EXPECT_NE(Pseudonym(secret, "a", "pat-1"),
            Pseudonym(SigningKey{std::string(32, 't')}, "a", "pat-1"));
  EXPECT_NE(Pseudonym(secret, "a", "pat-1"), Pseudonym(secret, "a", "pat-2"));
  EXPECT_NE(Pseudonym(secret, "a", "pat-1"), Pseudonym(secret, "b", "pat-1"));
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
      // Some with coded conditions (quasi-identifiers too), some with free text only.
      const char* kConditions[] = {"I10", "E11.9", "SNOMED:44054006", "pneumonia"};
      cohort.back().record["conditions"] = {kConditions[rng() % 4]};
    }
    const auto c = Deidentify(cohort, secret, options);
    EXPECT_EQ(static_cast<int>(c.patients.size()) + c.suppressed, n);
    std::map<std::string, int> classes;
    for (const auto& p : c.patients) {
      ++classes[p["age"].get<std::string>() + "|" + p["sex"].get<std::string>() + "|" +
                p["conditions"].dump()];
    }
    for (const auto& [cls, count] : classes) {
      EXPECT_GE(count, options.k) << cls << " trial " << trial;
    }
  }
}

// The attacks that worked before (issue 14, finding 6), as properties over random cohorts.
TEST(Deidentify, TheExportResistsTheReidentificationAttacks) {
  SigningKey secret{std::string(32, 'q')};
  std::mt19937 rng(11);
  DeidentifyOptions options;
  options.as_of = kAsOf;
  options.salt = "export-1";
  std::vector<IdentifiedPatient> cohort;
  for (int i = 0; i < 40; ++i) {
    // Live patients: a reading every day up to the hour before the export.
    IdentifiedPatient p = Person("live-" + std::to_string(i), i % 2 ? "male" : "female", 1960, 0);
    for (int d = 300; d >= 0; --d) {
      record::Observation o;
      o.patient = p.record["id"];
      o.code = "8867-4";
      o.value = 60 + d % 30;
      o.time = Instant{kAsOf.us_since_epoch - d * 86'400'000'000LL - 3'600'000'000LL};
      o.source = "m";
      p.observations.push_back(o);
    }
    p.record["conditions"] = {"MRN 0048213, 12 Elm Street", "I10"};
    cohort.push_back(std::move(p));
  }
  const auto c = Deidentify(cohort, secret, options);
  ASSERT_EQ(c.patients.size(), 40u);
  // (a) "The newest reading was just before the export": export time minus the newest released
  // date no longer recovers the shift — the error is the embargo (30–120 days), and it differs
  // between patients.
  std::map<std::string, std::int64_t> newest;
  std::map<std::string, std::string> id_of;
  for (const auto& o : c.observations) {
    const auto t = ParseRfc3339(o["time"].get<std::string>())->us_since_epoch;
    auto& n = newest[o["patient"]];
    n = std::max(n, t);
  }
  std::vector<double> errors_days;
  for (const auto& p : cohort) {
    const std::string pseudonym = Pseudonym(secret, options.salt, p.record["id"]);
    ASSERT_TRUE(newest.contains(pseudonym));
    const std::int64_t true_shift = DateShiftUs(secret, options.salt, p.record["id"]);
    const std::int64_t guessed_shift = newest[pseudonym] - kAsOf.us_since_epoch;
    errors_days.push_back(std::abs(static_cast<double>(guessed_shift - true_shift)) / 86'400e6);
  }
  const auto [lo, hi] = std::minmax_element(errors_days.begin(), errors_days.end());
  EXPECT_GE(*lo, 29.0);
  EXPECT_GE(*hi - *lo, 20.0) << "the embargo differs between patients";
  // (b) Two exports cannot be joined: another salt gives other pseudonyms and other shifts.
  DeidentifyOptions second = options;
  second.salt = "export-2";
  const auto c2 = Deidentify(cohort, secret, second);
  std::set<std::string> first_ids, second_ids;
  for (const auto& p : c.patients) first_ids.insert(p["id"]);
  for (const auto& p : c2.patients) second_ids.insert(p["id"]);
  for (const auto& id : second_ids) EXPECT_FALSE(first_ids.contains(id));
  // (c) Free text never leaves: the MRN and the address are dropped, the ICD-10 code is kept.
  const std::string all = c.patients.dump() + c.observations.dump();
  EXPECT_EQ(all.find("0048213"), std::string::npos);
  EXPECT_EQ(all.find("Elm"), std::string::npos);
  EXPECT_EQ(c.patients[0]["conditions"], json::array({"ICD-10:I10"}));
  // A rare condition code is a quasi-identifier: alone in its class, the patient is suppressed.
  std::vector<IdentifiedPatient> rare = cohort;
  rare[0].record["conditions"] = {"SNOMED:718447001"};
  const auto c3 = Deidentify(rare, secret, options);
  EXPECT_EQ(c3.suppressed, 1);
  EXPECT_EQ(c3.patients.dump().find("718447001"), std::string::npos);
}

TEST(Deidentify, ConditionsAreReleasedOnlyAsCodes) {
  EXPECT_EQ(ConditionCode("I10"), "ICD-10:I10");
  EXPECT_EQ(ConditionCode("E11.9"), "ICD-10:E11.9");
  EXPECT_EQ(ConditionCode("ICD-10:J18.9"), "ICD-10:J18.9");
  EXPECT_EQ(ConditionCode("SNOMED:44054006"), "SNOMED:44054006");
  EXPECT_EQ(ConditionCode("http://snomed.info/sct|233604007"), "SNOMED:233604007");
  EXPECT_EQ(ConditionCode("233604007"), "SNOMED:233604007");
  EXPECT_FALSE(ConditionCode("pneumonia").has_value());
  EXPECT_FALSE(ConditionCode("MRN 0048213").has_value());
  EXPECT_FALSE(ConditionCode("12 Elm Street").has_value());
}

}  // namespace
}  // namespace medtwin::security
