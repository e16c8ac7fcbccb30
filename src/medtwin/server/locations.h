// server/locations.h — the hospital's places (record/location.h) as the server keeps them: in
// memory for reads, in the store (one document per Location) for restarts. FHIR clients create
// and update them; the ADT feed adds the ward, room and bed a patient is put in when they are
// new, so a census works with no set-up. Versions as FHIR's meta.versionId (If-Match).
#pragma once

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "medtwin/core/result.h"
#include "medtwin/record/location.h"
#include "medtwin/store/store.h"

namespace medtwin::server {

class LocationRegistry {
 public:
  explicit LocationRegistry(store::Store* store) : store_(store) {}
  [[nodiscard]] Status Load();

  [[nodiscard]] std::optional<record::Location> Get(const std::string& id) const;
  [[nodiscard]] std::vector<record::Location> All() const;  // by id

  struct Saved {
    record::Location location;  // as stored (version, last_updated)
    bool created = false;
  };
  // Creates `l` (a new id) or replaces the Location with its id. Refused: a version other than
  // `if_match` (kFailedPrecondition), a partOf that is unknown or would make a cycle
  // (kInvalidArgument, field Location.partOf).
  [[nodiscard]] Result<Saved> Put(record::Location l, std::optional<int> if_match);
  // The ward, room and bed PV1-3 names, each created (as "wa", "ro", "bd", inside the one
  // above) unless it exists.
  [[nodiscard]] Status EnsureBed(const record::BedLocation& bed);
  // PV1-3's names for a Location: its own name at its level, and those of the room and ward
  // it is in (by physical type, following partOf).
  [[nodiscard]] record::BedLocation BedOf(const std::string& id) const;

 private:
  [[nodiscard]] Status SaveLocked(record::Location& l);

  store::Store* store_;
  mutable std::mutex mu_;
  std::map<std::string, record::Location> by_id_;
};

}  // namespace medtwin::server
