#include "medtwin/record/location.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <utility>
#include <vector>

namespace medtwin::record {

std::span<const BedStatus> BedStatuses() {
  // HL7 v2.5.1 table 0116.
  static constexpr std::array<BedStatus, 6> kStatuses = {{{"C", "Closed"},
                                                          {"H", "Housekeeping"},
                                                          {"I", "Isolated"},
                                                          {"K", "Contaminated"},
                                                          {"O", "Occupied"},
                                                          {"U", "Unoccupied"}}};
  return kStatuses;
}

const BedStatus* FindBedStatus(std::string_view code) {
  for (const auto& s : BedStatuses()) {
    if (s.code == code) return &s;
  }
  return nullptr;
}

std::string_view PhysicalTypeCode(LocationKind kind) {
  switch (kind) {
    case LocationKind::kWard:
      return "wa";
    case LocationKind::kRoom:
      return "ro";
    case LocationKind::kBed:
      return "bd";
  }
  return "bd";
}

std::string_view PhysicalTypeDisplay(std::string_view code) {
  // FHIR R4 location-physical-type (terminology.hl7.org CodeSystem, version 4.0.1).
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 14> kTypes = {
      {{"si", "Site"},
       {"bu", "Building"},
       {"wi", "Wing"},
       {"wa", "Ward"},
       {"lvl", "Level"},
       {"co", "Corridor"},
       {"ro", "Room"},
       {"bd", "Bed"},
       {"ve", "Vehicle"},
       {"ho", "House"},
       {"ca", "Cabinet"},
       {"rd", "Road"},
       {"area", "Area"},
       {"jdn", "Jurisdiction"}}};
  for (const auto& [c, display] : kTypes) {
    if (c == code) return display;
  }
  return "";
}

std::string LocationIdFor(const BedLocation& bed, LocationKind kind) {
  std::vector<std::string_view> parts;
  if (!bed.ward.empty()) parts.push_back(bed.ward);
  if (kind != LocationKind::kWard && !bed.room.empty()) parts.push_back(bed.room);
  if (kind == LocationKind::kBed && !bed.bed.empty()) parts.push_back(bed.bed);
  const bool named = kind == LocationKind::kWard   ? !bed.ward.empty()
                     : kind == LocationKind::kRoom ? !bed.room.empty()
                                                   : !bed.bed.empty();
  if (!named) return "";
  // Each part gets an equal share of FHIR's 64 characters (less the dots).
  const std::size_t share = (64 - (parts.size() - 1)) / parts.size();
  std::string id;
  for (std::string_view p : parts) {
    if (!id.empty()) id += '.';
    for (char c : p.substr(0, share)) {
      id += std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '-' ? c : '-';
    }
  }
  return id;
}

std::string LocationIdFor(const BedLocation& bed) {
  if (!bed.bed.empty()) return LocationIdFor(bed, LocationKind::kBed);
  if (!bed.room.empty()) return LocationIdFor(bed, LocationKind::kRoom);
  return LocationIdFor(bed, LocationKind::kWard);
}

}  // namespace medtwin::record
