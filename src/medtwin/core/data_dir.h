// core/data_dir.h — where medtwin finds the data it needs at run time (population models,
// virtual patients): $MEDTWIN_DATA_DIR if set, else the source tree's data/.
#pragma once

#include <string>

namespace medtwin {

[[nodiscard]] std::string DataDirectory();
// Where the dashboard's static files are: $MEDTWIN_WEB_DIR if set, else the source tree's web/.
[[nodiscard]] std::string WebDirectory();

}  // namespace medtwin
