#include "medtwin/io/nonmem_csv.h"

#include <gtest/gtest.h>

#include <random>

#include "medtwin/models/registry.h"

namespace medtwin::io {
namespace {

const sim::ModelInfo& Info(const char* name) { return (*models::FindModel(name))->Info(); }

TEST(NonmemCsv, ParsesRecordsSubjectsAndParameterColumns) {
  const char* text =
      "ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS,DV,CL\n"
      "# comment lines and blank lines are skipped\n"
      "\n"
      "1,0,1,100,1,0,12,2,0,.,4.5\n"
      "1,1,0,.,.,.,.,.,.,3.2,.\n"
      "2,0,4,50,1,-2,0,0,0,.,\n";
  auto data = ParseNonmemCsv(text, "d.csv", Info("pk_1cmt_iv"));
  ASSERT_TRUE(data.ok()) << data.error().ToString();
  ASSERT_EQ(data->subjects.size(), 2u);
  EXPECT_EQ(data->record_count, 3u);
  const auto& r0 = data->subjects[0].records[0];
  EXPECT_EQ(r0.evid, sim::Evid::kDose);
  EXPECT_EQ(r0.amt, 100);
  EXPECT_EQ(r0.addl, 2);
  EXPECT_EQ(r0.ii, 12);
  EXPECT_EQ(r0.source_line, 4u);
  ASSERT_FALSE(r0.parameter_updates.empty());
  EXPECT_EQ(r0.parameter_updates[0], 4.5);
  EXPECT_TRUE(data->subjects[0].records[1].parameter_updates.empty());
  EXPECT_EQ(data->subjects[1].records[0].evid, sim::Evid::kResetDose);
  EXPECT_EQ(data->subjects[1].records[0].rate, -2);
}

TEST(NonmemCsv, MissingEvidColumnFollowsNonmem) {
  auto data = ParseNonmemCsv("ID,TIME,AMT\n1,0,100\n1,1,.\n", "d.csv", Info("pk_1cmt_iv"));
  ASSERT_TRUE(data.ok());
  EXPECT_EQ(data->subjects[0].records[0].evid, sim::Evid::kDose);
  EXPECT_EQ(data->subjects[0].records[1].evid, sim::Evid::kObservation);
}

struct BadCase {
  const char* text;
  const char* expected;  // substring of the one-line error
};

TEST(NonmemCsv, BadInputNamesFileLineColumnAndReason) {
  const BadCase cases[] = {
      {"ID,TIME,AMT,WT\n1,0,1\n", "d.csv:1: WT: unknown column"},
      {"ID,TIME,AMT\n1,0,abc\n", "d.csv:2: AMT: 'abc' is not a number"},
      {"ID,TIME,AMT\n1,0,-5\n", "d.csv:2: AMT: negative dose amount"},
      {"ID,TIME,EVID\n1,0,7\n", "d.csv:2: EVID: must be a whole number in 0..4"},
      {"ID,TIME,AMT,CMT\n1,0,5,3\n", "d.csv:2: CMT: must be a whole number in 0..1"},
      {"ID,TIME,AMT\n1,5,1\n1,2,.\n", "d.csv:3: TIME: time 2 goes backwards"},
      {"ID,TIME,AMT,RATE\n1,0,5,-3\n", "d.csv:2: RATE: must be >= 0, -1 or -2"},
      {"ID,TIME,AMT\n1,0\n", "d.csv:2: line: has 2 fields, header has 3"},
      {"ID,AMT\n1,0\n", "d.csv:1: TIME: required column is missing"},
      {"ID,TIME,AMT,CL\n1,0,5,-1\n", "d.csv:2: CL: value -1 outside"},
      {"ID,TIME,AMT,SS\n1,0,5,1\n", "d.csv:2: II: steady state needs II > 0"},
      {"ID,TIME,AMT,ADDL\n1,0,5,2\n", "d.csv:2: II: ADDL > 0 needs II > 0"},
      {"", "d.csv: header: file is empty"},
      {"ID,TIME,TIME\n", "d.csv:1: TIME: column appears twice"},
  };
  for (const auto& c : cases) {
    auto data = ParseNonmemCsv(c.text, "d.csv", Info("pk_1cmt_iv"));
    ASSERT_FALSE(data.ok()) << c.text;
    const std::string msg = data.error().ToString();
    EXPECT_NE(msg.find(c.expected), std::string::npos) << "got: " << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos) << "error must be one line: " << msg;
  }
}

TEST(NonmemCsv, IgnoredColumnsAreAccepted) {
  CsvReadOptions options;
  options.ignore_columns.insert("WT");
  auto data = ParseNonmemCsv("ID,TIME,AMT,WT\n1,0,5,70\n", "d.csv", Info("pk_1cmt_iv"), options);
  EXPECT_TRUE(data.ok());
}

// Fuzz-style property: random mutations of a valid file never crash the parser, and any
// failure is a one-line error naming the file.
TEST(NonmemCsv, RandomMutationsNeverCrashAndErrorsNameTheFile) {
  const std::string valid =
      "ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS,DV,CL,F1,ALAG1\n"
      "1,0,1,100,1,0,12,2,1,.,4.5,0.8,0.5\n1,1.5,0,.,.,.,.,.,.,3.2,.,.,.\n"
      "2,0,1,50,1,-2,0,0,0,.,.,.,.\n2,3,2,.,.,.,.,.,.,.,6,.,.\n";
  const std::string alphabet = "0123456789.,-+eE\n\r #abcXYZ\"\t\xff";
  std::mt19937 rng(20261125);
  int failures = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    std::string text = valid;
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      const std::size_t pos = rng() % (text.size() + 1);
      switch (rng() % 3) {
        case 0:
          text.insert(pos, 1, alphabet[rng() % alphabet.size()]);
          break;
        case 1:
          if (pos < text.size()) text.erase(pos, 1);
          break;
        default:
          if (pos < text.size()) text[pos] = alphabet[rng() % alphabet.size()];
      }
    }
    auto data = ParseNonmemCsv(text, "fuzz.csv", Info("pk_1cmt_oral"));
    if (!data.ok()) {
      ++failures;
      const std::string msg = data.error().ToString();
      ASSERT_EQ(msg.rfind("fuzz.csv", 0), 0u) << msg;
      ASSERT_EQ(msg.find('\n'), std::string::npos) << msg;
    }
  }
  EXPECT_GT(failures, 1000);  // the mutations do reach the error paths
}

}  // namespace
}  // namespace medtwin::io
