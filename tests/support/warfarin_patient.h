// A warfarin patient for tests and benchmarks: the record (no genotype: *1/*1 and G/A are
// assumed and noted) and 5 mg a day for a week from kWarfarinT0Us.
#pragma once

#include <vector>

#include "medtwin/io/event.h"
#include "medtwin/record/patient.h"

namespace medtwin::testing_support {

inline constexpr std::int64_t kWarfarinT0Us = 1'800'000'000'000'000LL;  // 2027-01-15
inline constexpr std::int64_t kHourUs = 3'600'000'000LL;

inline record::PatientRecord WarfarinPatient() {
  record::PatientRecord r;
  r.id = "w1";
  r.models = {"warfarin"};
  r.birth_date = "1960-05-01";
  r.height_cm = 175;
  r.weight_kg = 80;
  return r;
}

inline std::vector<record::Event> WarfarinWeekOf5mg() {
  std::vector<record::Event> doses;
  for (int day = 0; day < 7; ++day) {
    record::Event e;
    e.patient = "w1";
    e.type = "dose";
    e.drug = "warfarin";
    e.amount = 5;
    e.time.us_since_epoch = kWarfarinT0Us + day * 24 * kHourUs;
    doses.push_back(e);
  }
  return doses;
}

}  // namespace medtwin::testing_support
