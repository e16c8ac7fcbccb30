// server/static_files.h — the dashboard's files (web/, or $MEDTWIN_WEB_DIR): "/" is
// web/app/index.html, "/static/PATH" a file under web/app/, "/static/vendor/uplot.*" uPlot from
// web/node_modules (installed by npm in scripts/setup.sh). Paths are checked segment by segment
// (letters, digits, '.', '-', '_'; no leading dot, so no '..') and resolved paths must stay
// inside the web directory; only known file types are served.
#pragma once

#include <string>

#include "medtwin/server/http_server.h"

namespace medtwin::server {

// `path`: what follows "/static/" ("" for the index page).
[[nodiscard]] Response ServeStatic(const std::string& path);

}  // namespace medtwin::server
