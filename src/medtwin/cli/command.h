// cli/command.h — how a subcommand joins `medtwin`: each *_command.cpp has an Add…Command(app)
// that declares its subcommand, owns its options and registers what runs when it is the one
// chosen; main.cpp is the list of them. Exit codes: 0 done, 1 a check failed (audit verify,
// witness), 2 bad input (one stderr line naming what and why).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/io/nonmem_csv.h"
#include "medtwin/sim/simulator.h"

namespace CLI {
class App;
}  // namespace CLI

namespace medtwin::cli {

inline constexpr int kBadInput = 2;

// Runs `action` (returning the exit code) when `command` is the subcommand chosen.
void OnChosen(CLI::App* command, std::function<int()> action);
// Parses the command line and runs the chosen command; help, version and parse errors as CLI11
// reports them (a parse error: one line and exit 2).
int ParseAndRun(CLI::App& app, int argc, char** argv);
// The exit code for a command's outcome, printing "medtwin COMMAND: error" when it failed.
int Report(const char* command, const Status& status);

// --ignore-column NAME (repeatable): extra data columns a command that reads records accepts
// and skips (simulate, fit, popfit, dose); and the reader's options that say so.
void AddIgnoreColumnOption(CLI::App* command, std::vector<std::string>* columns);
[[nodiscard]] io::CsvReadOptions IgnoringColumns(const std::vector<std::string>& columns);

// --locf: values records set take effect from their record on, instead of over the interval
// that ends at the record (NONMEM's rule and the default); simulate, fit, popfit and dose.
void AddLocfOption(CLI::App* command, bool* locf);
[[nodiscard]] sim::TimeVarying TimeVaryingRule(bool locf);
// Default simulation options with that rule.
[[nodiscard]] sim::SimOptions SimOptionsFor(bool locf);

// Where a command writes a companion file: `given` when the user named one, else OUT.json
// with `suffix` in place of ".json" (OUT_table.csv, OUT.svg).
[[nodiscard]] std::string BesideOutput(const std::string& out_path, const std::string& given,
                                       const std::string& suffix);

// NAME=VALUE items (--param, --fix, --init) as upper-case names and numbers; errors name
// `option` and the item.
[[nodiscard]] Result<std::vector<std::pair<std::string, double>>> ParseAssignments(
    const std::vector<std::string>& items, const std::string& option);

}  // namespace medtwin::cli
