#include "medtwin/server/static_files.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "medtwin/core/data_dir.h"

namespace medtwin::server {
namespace {

namespace fs = std::filesystem;

Response NotFound() {
  Response r;
  r.status = 404;
  r.body = R"({"error":{"code":"not_found","field":"path","message":"no such file"}})";
  return r;
}

const char* ContentType(const fs::path& p) {
  const std::string ext = p.extension().string();
  if (ext == ".html") return "text/html; charset=utf-8";
  if (ext == ".js" || ext == ".mjs") return "text/javascript; charset=utf-8";
  if (ext == ".css") return "text/css; charset=utf-8";
  if (ext == ".svg") return "image/svg+xml";
  if (ext == ".png") return "image/png";
  if (ext == ".ico") return "image/x-icon";
  if (ext == ".json") return "application/json";
  return nullptr;
}

bool SafeSegment(const std::string& s) {
  if (s.empty() || s.front() == '.') return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '-' || c == '_';
  });
}

}  // namespace

Response ServeStatic(const std::string& path) {
  const fs::path web = fs::path(WebDirectory());
  fs::path file;
  if (path.empty()) {
    file = web / "app" / "index.html";
  } else if (path == "vendor/uplot.esm.js") {
    file = web / "node_modules" / "uplot" / "dist" / "uPlot.esm.js";
  } else if (path == "vendor/uplot.min.css") {
    file = web / "node_modules" / "uplot" / "dist" / "uPlot.min.css";
  } else {
    file = web / "app";
    std::size_t start = 0;
    while (start <= path.size()) {
      const auto slash = std::min(path.find('/', start), path.size());
      const std::string segment = path.substr(start, slash - start);
      if (!SafeSegment(segment)) return NotFound();
      file /= segment;
      start = slash + 1;
    }
  }
  const char* type = ContentType(file);
  if (type == nullptr) return NotFound();
  std::error_code ec;
  const fs::path real = fs::canonical(file, ec);
  const fs::path root = fs::canonical(web, ec);
  if (ec || real.string().rfind(root.string() + "/", 0) != 0 || !fs::is_regular_file(real)) {
    return NotFound();
  }
  std::ifstream in(real, std::ios::binary);
  std::stringstream body;
  body << in.rdbuf();
  Response r;
  r.content_type = type;
  r.body = body.str();
  r.headers.emplace_back("Cache-Control", "no-cache");
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back(
      "Content-Security-Policy",
      "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; "
      "frame-ancestors 'none'");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  return r;
}

}  // namespace medtwin::server
