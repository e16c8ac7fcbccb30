#include "medtwin/cli/command.h"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdio>

#include "medtwin/core/format.h"

namespace medtwin::cli {
namespace {

// The action of the subcommand CLI11 parsed (its callback runs once parsing succeeded).
std::function<int()>& Chosen() {
  static std::function<int()> chosen;
  return chosen;
}

}  // namespace

void OnChosen(CLI::App* command, std::function<int()> action) {
  command->callback([action = std::move(action)] { Chosen() = action; });
}

int ParseAndRun(CLI::App& app, int argc, char** argv) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "medtwin: %s (see medtwin --help)\n", e.what());
    return kBadInput;
  }
  return Chosen() ? Chosen()() : 0;
}

void AddIgnoreColumnOption(CLI::App* command, std::vector<std::string>* columns) {
  command->add_option("--ignore-column", *columns,
                      "Accept and skip an extra data column (repeatable), e.g. a covariate the "
                      "model does not use");
}

void AddLocfOption(CLI::App* command, bool* locf) {
  command->add_flag(
      "--locf", *locf,
      "Time-varying data items (parameter or covariate columns) act from their record on "
      "(last observation carried forward). Default: NONMEM's rule, the value on the record "
      "that ends each interval (docs/dosing_records.md)");
}

sim::TimeVarying TimeVaryingRule(bool locf) {
  return locf ? sim::TimeVarying::kLocf : sim::TimeVarying::kNocb;
}

sim::SimOptions SimOptionsFor(bool locf) {
  sim::SimOptions options;
  options.time_varying = TimeVaryingRule(locf);
  return options;
}

std::string BesideOutput(const std::string& out_path, const std::string& given,
                         const std::string& suffix) {
  if (!given.empty()) return given;
  std::string path = out_path;
  if (path.ends_with(".json")) path.resize(path.size() - 5);
  return path + suffix;
}

io::CsvReadOptions IgnoringColumns(const std::vector<std::string>& columns) {
  io::CsvReadOptions read;
  for (const std::string& c : columns) read.ignore_columns.insert(ToUpperAscii(c));
  return read;
}

Result<std::vector<std::pair<std::string, double>>> ParseAssignments(
    const std::vector<std::string>& items, const std::string& option) {
  std::vector<std::pair<std::string, double>> out;
  for (const std::string& a : items) {
    const auto eq = a.find('=');
    if (eq == std::string::npos) return InvalidArgument(option, "'" + a + "' is not NAME=VALUE");
    const std::string name = ToUpperAscii(a.substr(0, eq));
    const std::string text = a.substr(eq + 1);
    double v = 0;
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size()) {
      return InvalidArgument(option + " " + name, "'" + text + "' is not a number");
    }
    out.emplace_back(name, v);
  }
  return out;
}

int Report(const char* command, const Status& status) {
  if (status.ok()) return 0;
  std::fprintf(stderr, "medtwin %s: %s\n", command, status.error().ToString().c_str());
  return kBadInput;
}

}  // namespace medtwin::cli
