// What the backends share: the single-part writes as batches, stored events read back, and the
// choice of backend by URL.
#include <nlohmann/json.hpp>

#include <limits>

#include "medtwin/store/store.h"

namespace medtwin::store {

Result<std::size_t> Store::AppendObservations(std::span<const record::Observation> items,
                                              std::vector<bool>* inserted) {
  WriteBatchResult result;
  MEDTWIN_RETURN_IF_ERROR(Commit({.observations = items}, &result));
  const auto fresh = static_cast<std::size_t>(
      std::count(result.observation_inserted.begin(), result.observation_inserted.end(), true));
  if (inserted != nullptr) *inserted = std::move(result.observation_inserted);
  return fresh;
}

Result<std::size_t> Store::AppendEvents(std::span<const record::Event> items,
                                        std::vector<bool>* inserted) {
  WriteBatchResult result;
  MEDTWIN_RETURN_IF_ERROR(Commit({.events = items}, &result));
  const auto fresh = static_cast<std::size_t>(
      std::count(result.event_inserted.begin(), result.event_inserted.end(), true));
  if (inserted != nullptr) *inserted = std::move(result.event_inserted);
  return fresh;
}

Result<record::Event> EventFromStored(const std::string& body) {
  const nlohmann::json j = nlohmann::json::parse(body, nullptr, false);
  // What was stored is read back as it was, whatever today's limits on new events.
  io::ObservationLimits as_stored;
  as_stored.earliest = Instant{std::numeric_limits<std::int64_t>::min()};
  as_stored.as_stored = true;
  MEDTWIN_TRY(record::Event e, io::ParseEvent(j, "", as_stored), "stored event");
  return e;
}

Result<std::unique_ptr<Store>> OpenStore(std::string_view url) {
  if (url.starts_with("sqlite:")) return OpenSqliteStore(std::string(url.substr(7)));
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return OpenPostgresStore(std::string(url));
  }
  return InvalidArgument("--store",
                         "'" + std::string(url) + "' is neither sqlite:PATH nor postgresql://…");
}

}  // namespace medtwin::store
