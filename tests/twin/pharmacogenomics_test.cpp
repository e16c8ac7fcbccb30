// The record's genotype as the guidance reads it: ambiguous unphased calls ("A/B or C/D") keep
// every diplotype, and the guidance follows the phenotype they agree on.
#include <gtest/gtest.h>

#include "medtwin/twin/pharmacogenomics.h"

namespace {

using medtwin::record::GenotypeCall;
using medtwin::record::PatientRecord;
using medtwin::twin::GeneCallsOf;
using medtwin::twin::GuidanceFor;

TEST(TwinPharmacogenomics, AmbiguousCallsKeepEveryDiplotype) {
  PatientRecord r;
  r.genotype = {GenotypeCall{"CYP2C19", "*1/*2 or *2/*38", "Intermediate Metabolizer", {}},
                GenotypeCall{"HLA-B", "*15:02/*57:01", "", {}}};
  const auto calls = GeneCallsOf(r);
  ASSERT_EQ(calls.size(), 2u);
  ASSERT_EQ(calls[0].diplotypes.size(), 2u);
  EXPECT_EQ(calls[0].diplotypes[1].Name(), "*2/*38");
  EXPECT_TRUE(calls[0].called);
  const auto clopidogrel = GuidanceFor(r, "clopidogrel");
  ASSERT_TRUE(clopidogrel.has_value());
  EXPECT_EQ(clopidogrel->action, "alternative");
  EXPECT_EQ(clopidogrel->strength, "moderate");
  EXPECT_EQ(GuidanceFor(r, "abacavir")->action, "avoid");
  EXPECT_FALSE(GuidanceFor(r, "aspirin").has_value());  // not covered
}

}  // namespace
