#include "medtwin/io/nonmem_csv.h"

#include "medtwin/core/format.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

namespace medtwin::io {
namespace {

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();

enum class Column {
  kId,
  kTime,
  kEvid,
  kAmt,
  kCmt,
  kRate,
  kIi,
  kAddl,
  kSs,
  kDv,
  kMdv,
  kParam,
  kCovariate,
  kIgnored
};

std::string_view Trim(std::string_view s) {
  while (!s.empty() &&
         (std::isspace(static_cast<unsigned char>(s.front())) != 0 || s.front() == '"'))
    s.remove_prefix(1);
  while (!s.empty() && (std::isspace(static_cast<unsigned char>(s.back())) != 0 || s.back() == '"'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> SplitFields(std::string_view line) {
  std::vector<std::string_view> out;
  std::size_t start = 0;
  for (;;) {
    std::size_t comma = line.find(',', start);
    out.push_back(
        Trim(line.substr(start, comma == std::string_view::npos ? comma : comma - start)));
    if (comma == std::string_view::npos) break;
    start = comma + 1;
  }
  return out;
}

// NaN for missing ("." or empty); error for anything that is not a finite number.
Result<double> ParseNumber(std::string_view field) {
  if (field.empty() || field == ".") return kMissing;
  double v = 0;
  const char* begin = field.data();
  if (*begin == '+') ++begin;
  auto [ptr, ec] = std::from_chars(begin, field.data() + field.size(), v);
  if (ec != std::errc() || ptr != field.data() + field.size() || !std::isfinite(v)) {
    return InvalidArgument("", "'" + std::string(field.substr(0, 40)) + "' is not a number");
  }
  return v;
}

Result<int> AsInteger(double v, int lo, int hi) {
  if (std::isnan(v)) return 0;
  if (v != std::floor(v) || v < lo || v > hi) {
    return InvalidArgument("", "must be a whole number in " + std::to_string(lo) + ".." +
                                   std::to_string(hi) + ", got " + std::to_string(v));
  }
  return static_cast<int>(v);
}

}  // namespace

Result<Dataset> ParseNonmemCsv(std::string_view text, std::string_view source_name,
                               const sim::ModelInfo& model, const CsvReadOptions& options) {
  const sim::ParameterLayout layout(model);
  const std::string source(source_name);
  Dataset data;
  std::vector<Column> kinds;
  std::vector<std::string> names;
  std::vector<int> param_index;       // parameter index, or covariate index for kCovariate
  std::vector<std::size_t> carry_at;  // field index of each carried column
  data.carry_names = options.carry_columns;
  bool have_header = false, have_evid = false, have_time = false;
  std::size_t line_no = 0, pos = 0;
  while (pos <= text.size()) {
    std::size_t eol = text.find('\n', pos);
    std::string_view line = text.substr(pos, eol == std::string_view::npos ? eol : eol - pos);
    pos = eol == std::string_view::npos ? text.size() + 1 : eol + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line_no == 1 && line.size() >= 3 && line.substr(0, 3) == "\xEF\xBB\xBF")
      line.remove_prefix(3);
    if (Trim(line).empty() || Trim(line).front() == '#') continue;
    const std::string where = source + ":" + std::to_string(line_no);
    auto fields = SplitFields(line);
    if (!have_header) {
      have_header = true;
      for (std::string_view raw : fields) {
        std::string name = ToUpperAscii(raw);
        static const std::pair<const char*, Column> kStandard[] = {
            {"ID", Column::kId},   {"TIME", Column::kTime}, {"EVID", Column::kEvid},
            {"AMT", Column::kAmt}, {"CMT", Column::kCmt},   {"RATE", Column::kRate},
            {"II", Column::kIi},   {"ADDL", Column::kAddl}, {"SS", Column::kSs},
            {"DV", Column::kDv},   {"MDV", Column::kMdv}};
        Column kind = Column::kIgnored;
        int pi = -1;
        bool known = false;
        for (const auto& [n, k] : kStandard) {
          if (name == n) {
            kind = k;
            known = true;
          }
        }
        if (!known) {
          pi = layout.Find(name);
          if (pi >= 0) {
            kind = Column::kParam;
          } else if (auto it = std::find(model.covariates.begin(), model.covariates.end(), name);
                     it != model.covariates.end()) {
            kind = Column::kCovariate;
            pi = static_cast<int>(it - model.covariates.begin());
          } else if (options.ignore_columns.count(name) == 0 &&
                     std::find(options.carry_columns.begin(), options.carry_columns.end(), name) ==
                         options.carry_columns.end()) {
            return InvalidArgument(name.empty() ? "header" : name,
                                   "unknown column (not a record field, parameter or covariate of "
                                   "model " +
                                       model.name + "; pass --ignore-column " +
                                       (name.empty() ? "NAME" : name) + " to skip it)")
                .WithContext(where);
          }
        }
        if (std::find(names.begin(), names.end(), name) != names.end()) {
          return InvalidArgument(name, "column appears twice").WithContext(where);
        }
        have_evid |= kind == Column::kEvid;
        have_time |= kind == Column::kTime;
        kinds.push_back(kind);
        names.push_back(name);
        param_index.push_back(pi);
      }
      if (!have_time)
        return InvalidArgument("TIME", "required column is missing").WithContext(where);
      for (const std::string& carry : options.carry_columns) {
        const auto at = std::find(names.begin(), names.end(), carry);
        if (at == names.end()) {
          return InvalidArgument("--carry " + carry, "the file has no such column")
              .WithContext(where);
        }
        carry_at.push_back(static_cast<std::size_t>(at - names.begin()));
      }
      continue;
    }
    if (fields.size() != kinds.size()) {
      return InvalidArgument("line", "has " + std::to_string(fields.size()) +
                                         " fields, header has " + std::to_string(kinds.size()))
          .WithContext(where);
    }
    sim::Record rec;
    rec.source_line = line_no;
    std::string id = "1";
    double evid = kMissing, mdv = kMissing;
    if (!model.covariates.empty()) rec.covariates.assign(model.covariates.size(), kMissing);
    for (std::size_t c = 0; c < fields.size(); ++c) {
      if (kinds[c] == Column::kIgnored) continue;
      if (kinds[c] == Column::kId) {
        if (fields[c].empty() || fields[c] == ".") {
          return InvalidArgument("ID", "missing subject id").WithContext(where);
        }
        id = std::string(fields[c]);
        continue;
      }
      auto parsed = ParseNumber(fields[c]);
      if (!parsed.ok()) return InvalidArgument(names[c], parsed.error().message).WithContext(where);
      const double v = *parsed;
      auto integer = [&](int lo, int hi) -> Result<int> {
        auto r = AsInteger(v, lo, hi);
        if (!r.ok()) return InvalidArgument(names[c], r.error().message).WithContext(where);
        return r;
      };
      switch (kinds[c]) {
        case Column::kTime:
          if (std::isnan(v)) return InvalidArgument("TIME", "missing time").WithContext(where);
          rec.time = v;
          break;
        case Column::kEvid:
          evid = v;
          break;
        case Column::kDv:
          rec.dv = v;
          break;
        case Column::kMdv:
          mdv = v;
          break;
        case Column::kCovariate:
          rec.covariates[static_cast<std::size_t>(param_index[c])] = v;
          break;
        case Column::kAmt:
          rec.amt = std::isnan(v) ? 0.0 : v;
          if (rec.amt < 0) {
            return InvalidArgument("AMT", "negative dose amount " + std::string(fields[c]))
                .WithContext(where);
          }
          break;
        case Column::kCmt: {
          MEDTWIN_TRY(rec.cmt, integer(0, static_cast<int>(model.states.size())));
          break;
        }
        case Column::kRate:
          rec.rate = std::isnan(v) ? 0.0 : v;
          if (rec.rate < 0 && rec.rate != -1 && rec.rate != -2) {
            return InvalidArgument("RATE", "must be >= 0, -1 or -2").WithContext(where);
          }
          break;
        case Column::kIi:
          rec.ii = std::isnan(v) ? 0.0 : v;
          if (rec.ii < 0) return InvalidArgument("II", "must be >= 0").WithContext(where);
          break;
        case Column::kAddl: {
          MEDTWIN_TRY(rec.addl, integer(0, 10'000'000));
          break;
        }
        case Column::kSs: {
          MEDTWIN_TRY(rec.ss, integer(0, 2));
          break;
        }
        case Column::kParam:
          if (!std::isnan(v)) {
            MEDTWIN_RETURN_IF_ERROR(layout.Validate(param_index[c], v), where);
            if (rec.parameter_updates.empty()) {
              rec.parameter_updates.assign(static_cast<std::size_t>(layout.size()), kMissing);
            }
            rec.parameter_updates[static_cast<std::size_t>(param_index[c])] = v;
          }
          break;
        default:
          break;
      }
    }
    if (have_evid) {
      auto e = AsInteger(evid, 0, 4);
      if (!e.ok()) return InvalidArgument("EVID", e.error().message).WithContext(where);
      rec.evid = static_cast<sim::Evid>(*e);
    } else {
      rec.evid = rec.amt > 0 ? sim::Evid::kDose : sim::Evid::kObservation;  // NONMEM's rule
    }
    if (mdv == 1 || rec.evid != sim::Evid::kObservation) rec.dv = kMissing;
    if (data.subjects.empty() || data.subjects.back().id != id) {
      data.subjects.push_back(sim::Subject{id, {}});
      if (!carry_at.empty()) data.carried.emplace_back();
    }
    data.subjects.back().records.push_back(std::move(rec));
    if (!carry_at.empty()) {
      std::vector<std::string> values;
      for (std::size_t c : carry_at) {
        const std::string_view f = Trim(fields[c]);
        values.emplace_back(f.empty() ? "." : f);
      }
      data.carried.back().push_back(std::move(values));
    }
    ++data.record_count;
  }
  if (!have_header) return InvalidArgument("header", "file is empty").WithContext(source);
  for (const auto& subject : data.subjects) {
    MEDTWIN_RETURN_IF_ERROR(sim::ValidateSubject(subject, model, source));
  }
  return data;
}

Result<Dataset> ReadNonmemCsv(const std::string& path, const sim::ModelInfo& model,
                              const CsvReadOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    return Error{ErrorCode::kNotFound, path, std::string("cannot open: ") + std::strerror(errno)};
  }
  std::ostringstream buffer;
  buffer << in.rdbuf();
  const std::string text = buffer.str();
  return ParseNonmemCsv(text, path, model, options);
}

Status WriteFileAtomically(const std::string& path, std::string_view contents) {
  const std::string tmp = path + ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out)
      return Error{ErrorCode::kIoError, path, std::string("cannot write: ") + std::strerror(errno)};
    out.write(contents.data(), static_cast<std::streamsize>(contents.size()));
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      return Error{ErrorCode::kIoError, path, "write failed"};
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Error{ErrorCode::kIoError, path,
                 std::string("cannot rename into place: ") + std::strerror(errno)};
  }
  return Ok{};
}

Status WriteResultsCsv(const std::string& path, const sim::ModelInfo& model, const Dataset& data,
                       const std::vector<sim::SubjectResult>& results) {
  std::string out = "ID,TIME,EVID";
  for (const auto& c : data.carry_names) out += "," + c;
  for (const auto& o : model.outputs) out += "," + o.name;
  out += '\n';
  char buf[64];
  for (std::size_t s = 0; s < data.subjects.size(); ++s) {
    const auto& subject = data.subjects[s];
    const auto& res = results[s];
    for (std::size_t r = 0; r < subject.records.size(); ++r) {
      out += subject.id;
      std::snprintf(buf, sizeof buf, ",%.10g,%d", subject.records[r].time,
                    static_cast<int>(subject.records[r].evid));
      out += buf;
      if (!data.carry_names.empty()) {
        for (const auto& v : data.carried[s][r]) out += "," + v;
      }
      for (int c = 0; c < res.output_count; ++c) {
        std::snprintf(buf, sizeof buf, ",%.10g", res.Output(r, c));
        out += buf;
      }
      out += '\n';
    }
  }
  return WriteFileAtomically(path, out);
}

}  // namespace medtwin::io
