#include "medtwin/core/data_dir.h"

#include <cstdlib>

namespace medtwin {

std::string DataDirectory() {
  const char* env = std::getenv("MEDTWIN_DATA_DIR");
  return env != nullptr && *env != '\0' ? env : MEDTWIN_SOURCE_DATA_DIR;
}

std::string WebDirectory() {
  const char* env = std::getenv("MEDTWIN_WEB_DIR");
  return env != nullptr && *env != '\0' ? env : MEDTWIN_SOURCE_WEB_DIR;
}

}  // namespace medtwin
