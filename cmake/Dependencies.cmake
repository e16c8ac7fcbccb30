# Debian packages installed by scripts/setup.sh.
find_package(Threads REQUIRED)
find_package(Eigen3 3.4 REQUIRED NO_MODULE)
find_package(CLI11 REQUIRED)
find_package(nlohmann_json 3 REQUIRED)

# SUNDIALS' CMake package insists on static libraries Debian does not ship, so link by name.
find_path(SUNDIALS_INCLUDE_DIR cvode/cvode.h REQUIRED)
foreach(lib cvode nvecserial sunlinsoldense sunmatrixdense)
  find_library(SUNDIALS_${lib}_LIBRARY NAMES sundials_${lib} REQUIRED)
  list(APPEND SUNDIALS_LIBRARIES ${SUNDIALS_${lib}_LIBRARY})
endforeach()
add_library(medtwin_sundials INTERFACE)
target_include_directories(medtwin_sundials SYSTEM INTERFACE ${SUNDIALS_INCLUDE_DIR})
target_link_libraries(medtwin_sundials INTERFACE ${SUNDIALS_LIBRARIES})

if(MEDTWIN_BUILD_TESTS)
  find_package(GTest REQUIRED)
endif()
if(MEDTWIN_BUILD_BENCH)
  find_package(benchmark REQUIRED)
endif()

# The twin server: SQLite (embedded store), libpq (PostgreSQL store), Boost.Beast (HTTP),
# libmosquitto (MQTT).
find_package(SQLite3 REQUIRED)
find_package(PostgreSQL REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(OpenSSL 3 REQUIRED)  # tokens (HMAC), audit ledger (SHA-256, Ed25519), TLS
find_path(MOSQUITTO_INCLUDE_DIR mosquitto.h REQUIRED)
find_library(MOSQUITTO_LIBRARY NAMES mosquitto REQUIRED)
add_library(medtwin_mosquitto INTERFACE)
target_include_directories(medtwin_mosquitto SYSTEM INTERFACE ${MOSQUITTO_INCLUDE_DIR})
target_link_libraries(medtwin_mosquitto INTERFACE ${MOSQUITTO_LIBRARY})
