// The medtwin binary as a user runs it: exit codes, one-line errors, no partial output.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code;
  std::string out;
  std::string err;
};

std::string Slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

class Cli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("medtwin_cli_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path Write(const std::string& name, const std::string& text) {
    fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  RunResult Run(const std::string& args) {
    const std::string cmd = std::string(MEDTWIN_BINARY_DIR) + "/medtwin " + args + " >" +
                            (dir_ / "stdout").string() + " 2>" + (dir_ / "stderr").string();
    int status = std::system(cmd.c_str());
    return {WEXITSTATUS(status), Slurp(dir_ / "stdout"), Slurp(dir_ / "stderr")};
  }

  fs::path dir_;
};

TEST_F(Cli, SimulatesAndWritesOneRowPerRecordInInputOrder) {
  auto data = Write("d.csv",
                    "ID,TIME,EVID,AMT,CMT,RATE,II,ADDL,SS,DV\n"
                    "7,0,1,1000,1,1000,12,1,0,.\n7,1,0,.,.,.,.,.,.,30\n7,13,0,.,.,.,.,.,.,.\n"
                    "3,0,1,100,1,0,0,0,0,.\n3,2,0,.,.,.,.,.,.,.\n");
  auto r = Run("simulate --model pk_1cmt_iv --data " + data.string() + " --out " +
               (dir_ / "out.csv").string() + " --param CL=5 --param V=50 --plot " +
               (dir_ / "cp.svg").string());
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string out = Slurp(dir_ / "out.csv");
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);
  EXPECT_EQ(line, "ID,TIME,EVID,CP,A1");
  std::vector<std::string> rows;
  while (std::getline(lines, line)) rows.push_back(line);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].substr(0, 6), "7,0,1,");
  EXPECT_EQ(rows[3].substr(0, 6), "3,0,1,");
  // ID 3: bolus 100 mg, V 50 L → CP(2 h) = 2·e^{-0.2}.
  double cp = std::stod(rows[4].substr(rows[4].find(',', 4) + 1));
  EXPECT_NEAR(cp, 2 * std::exp(-0.2), 1e-8);
  std::string svg = Slurp(dir_ / "cp.svg");
  EXPECT_NE(svg.find("<svg"), std::string::npos);
  EXPECT_NE(svg.find("Time (h)"), std::string::npos);
  EXPECT_NE(svg.find("CP (mg/L)"), std::string::npos);
  EXPECT_NE(svg.find("ID 7"), std::string::npos);
  EXPECT_NE(svg.find("ID 3"), std::string::npos);
}

struct BadInput {
  std::string name;
  std::string csv;       // empty: no file at all
  std::string extra;     // extra arguments
  std::string expected;  // substring of stderr
};

TEST_F(Cli, BadInputExitsTwoWithOneLineAndNoOutputFile) {
  const BadInput cases[] = {
      {"unknown_model", "ID,TIME\n1,0\n", "--model pk_7cmt", "unknown model 'pk_7cmt'"},
      {"unknown_column", "ID,TIME,FOO\n1,0,1\n", "", ":1: FOO: unknown column"},
      {"non_numeric", "ID,TIME,AMT\n1,0,ten\n", "", ":2: AMT: 'ten' is not a number"},
      {"negative_amt", "ID,TIME,AMT\n1,0,-1\n", "", ":2: AMT: negative dose amount"},
      {"rate_minus_two_without_d", "ID,TIME,AMT,RATE\n1,0,100,-2\n1,1,.,.\n", "",
       "line 2: RATE: RATE=-2 needs parameter D1 > 0"},
      {"time_backwards", "ID,TIME,AMT\n1,5,100\n1,4,.\n", "", ":3: TIME: time 4 goes backwards"},
      {"missing_file", "", "", "cannot open"},
      {"bad_param", "ID,TIME\n1,0\n", "--param CL=abc", "--param CL: 'abc' is not a number"},
      {"unknown_param", "ID,TIME\n1,0\n", "--param XX=1", "no parameter 'XX'"},
      {"bad_method", "ID,TIME\n1,0\n", "--method rk4", "unknown method 'rk4'"},
      {"closed_on_nonlinear", "ID,TIME\n1,0\n", "--model pk_1cmt_mm_iv --method closed",
       "nonlinear"},
  };
  for (const auto& c : cases) {
    fs::path data = dir_ / (c.name + ".csv");
    if (!c.csv.empty()) Write(c.name + ".csv", c.csv);
    fs::path out = dir_ / (c.name + "_out.csv");
    std::string model = c.extra.find("--model") == std::string::npos ? "--model pk_1cmt_iv " : "";
    auto r =
        Run("simulate " + model + c.extra + " --data " + data.string() + " --out " + out.string());
    EXPECT_EQ(r.exit_code, 2) << c.name;
    EXPECT_NE(r.err.find(c.expected), std::string::npos) << c.name << ": " << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << c.name << ": " << r.err;
    EXPECT_FALSE(fs::exists(out)) << c.name << " left a partial output";
    for (const auto& entry : fs::directory_iterator(dir_)) {
      EXPECT_EQ(entry.path().string().find(".tmp."), std::string::npos) << entry.path();
    }
  }
}

TEST_F(Cli, HelpAndModelListing) {
  auto help = Run("simulate --help");
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_NE(help.out.find("--model"), std::string::npos);
  EXPECT_NE(help.out.find("--plot"), std::string::npos);
  auto models = Run("models");
  EXPECT_EQ(models.exit_code, 0);
  for (const char* m : {"pk_1cmt_iv", "pk_1cmt_oral", "pk_2cmt_iv", "pk_2cmt_oral", "pk_3cmt_iv",
                        "pk_3cmt_oral", "pk_1cmt_mm_iv"}) {
    EXPECT_NE(models.out.find(m), std::string::npos) << m;
  }
  EXPECT_NE(models.out.find("L/h"), std::string::npos);
  EXPECT_NE(models.out.find("vancomycin_goti2018"), std::string::npos);
  EXPECT_NE(models.out.find("Ther Drug Monit 2018"), std::string::npos);
  auto none = Run("");
  EXPECT_EQ(none.exit_code, 2);
}

}  // namespace
