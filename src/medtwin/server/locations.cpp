#include "medtwin/server/locations.h"

#include "medtwin/core/time.h"
#include "medtwin/io/fhir_encounter.h"

namespace medtwin::server {

Status LocationRegistry::Load() {
  MEDTWIN_TRY(auto bodies, store_->LoadLocations());
  std::lock_guard lock(mu_);
  by_id_.clear();
  for (const auto& body : bodies) {
    const auto j = nlohmann::json::parse(body, nullptr, /*allow_exceptions=*/false);
    auto l = io::ParseStoredLocation(j);
    if (!l.ok()) return l.error().WithContext("stored location");
    by_id_[l->id] = std::move(*l);
  }
  return Ok{};
}

std::optional<record::Location> LocationRegistry::Get(const std::string& id) const {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return it->second;
}

std::vector<record::Location> LocationRegistry::All() const {
  std::lock_guard lock(mu_);
  std::vector<record::Location> out;
  out.reserve(by_id_.size());
  for (const auto& [id, l] : by_id_) out.push_back(l);
  return out;
}

Status LocationRegistry::SaveLocked(record::Location& l) {
  l.version += 1;
  l.last_updated = FormatRfc3339(WallClockNow());
  MEDTWIN_RETURN_IF_ERROR(store_->SaveLocation(l.id, io::LocationToJson(l).dump()));
  by_id_[l.id] = l;
  return Ok{};
}

Result<LocationRegistry::Saved> LocationRegistry::Put(record::Location l,
                                                      std::optional<int> if_match) {
  std::lock_guard lock(mu_);
  auto it = by_id_.find(l.id);
  const int current = it == by_id_.end() ? 0 : it->second.version;
  if (if_match && *if_match != current) {
    return Error{ErrorCode::kFailedPrecondition, "If-Match",
                 "Location/" + l.id + " is at version " + std::to_string(current) + ", not " +
                     std::to_string(*if_match)};
  }
  // partOf names a Location there is, and following it never comes back here.
  for (std::string up = l.part_of; !up.empty();) {
    if (up == l.id) return InvalidArgument("Location.partOf", "would make a cycle");
    auto parent = by_id_.find(up);
    if (parent == by_id_.end()) {
      return InvalidArgument("Location.partOf", "no Location/" + up + " (create it first)");
    }
    up = parent->second.part_of;
  }
  l.version = current;
  MEDTWIN_RETURN_IF_ERROR(SaveLocked(l));
  return Saved{l, current == 0};
}

Status LocationRegistry::EnsureBed(const record::BedLocation& bed) {
  std::lock_guard lock(mu_);
  std::string parent;
  const std::pair<record::LocationKind, const std::string*> levels[] = {
      {record::LocationKind::kWard, &bed.ward},
      {record::LocationKind::kRoom, &bed.room},
      {record::LocationKind::kBed, &bed.bed}};
  for (const auto& [kind, name] : levels) {
    if (name->empty()) continue;
    const std::string id = record::LocationIdFor(bed, kind);
    if (!by_id_.contains(id)) {
      record::Location l;
      l.id = id;
      l.name = *name;
      l.physical_type = std::string(record::PhysicalTypeCode(kind));
      l.part_of = parent;
      l.description = "from the ADT feed (HL7 v2 PV1-3)";
      MEDTWIN_RETURN_IF_ERROR(SaveLocked(l));
    }
    parent = id;
  }
  return Ok{};
}

record::BedLocation LocationRegistry::BedOf(const std::string& id) const {
  std::lock_guard lock(mu_);
  record::BedLocation bed;
  std::string at = id;
  for (int depth = 0; depth < 64 && !at.empty(); ++depth) {
    auto it = by_id_.find(at);
    if (it == by_id_.end()) break;
    const record::Location& l = it->second;
    if (l.physical_type == "bd" && bed.bed.empty()) bed.bed = l.name;
    if (l.physical_type == "ro" && bed.room.empty()) bed.room = l.name;
    if (l.physical_type == "wa" && bed.ward.empty()) bed.ward = l.name;
    at = l.part_of;
  }
  // A place that is none of the three (an operating room of type "ro" is a room; a wing "wi"
  // is none): its name stands for the ward, so the encounter still says where.
  if (bed.empty()) {
    if (auto it = by_id_.find(id); it != by_id_.end()) bed.ward = it->second.name;
  }
  return bed;
}

}  // namespace medtwin::server
