#include "medtwin/security/audit.h"

#include "medtwin/core/time.h"

#include <fstream>

namespace medtwin::security {

using nlohmann::json;

std::string AuditRecordText(const AuditEntry& e, std::uint64_t seq, const Hash& prev_root) {
  // nlohmann's object keeps keys sorted and dump() is deterministic: the canonical form.
  json j = {{"seq", seq},
            {"time", FormatRfc3339(Instant{e.time_us})},
            {"who", e.who},
            {"role", e.role},
            {"action", e.action},
            {"resource", e.resource},
            {"interaction", std::string(1, e.interaction)},
            {"patients", e.patients},
            {"outcome", e.outcome},
            {"from", e.from},
            {"prev_root", ToHex(prev_root)}};
  if (e.count != 1) j["count"] = e.count;
  // Never throws: a byte that is not UTF-8 (which the edges refuse) would become U+FFFD rather
  // than stop the ledger's writer.
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Result<json> ParseAuditRecord(const std::string& text) {
  json j = json::parse(text, nullptr, false);
  if (!j.is_object() || !j.contains("seq") || !j["seq"].is_number_unsigned() ||
      !j.contains("prev_root") || !j["prev_root"].is_string()) {
    return InvalidArgument("audit", "not an audit record");
  }
  return j;
}

Result<SigningKeyPair> ReadAuditKeyFile(const std::string& path) {
  MEDTWIN_TRY(const auto seed, ReadKeyFile(path), "--audit-key");
  return Ed25519FromSeed(seed.bytes);
}

Result<SigningKeyPair> LegacyAuditSigningKey(const SigningKey& secret) {
  return Ed25519FromSeed(HmacSha256(secret.bytes, "medtwin audit signing key v1"));
}

Result<std::string> ReadPublicKey(const std::string& hex_or_file) {
  std::string text = hex_or_file;
  if (text.size() != 64) {
    std::ifstream in(hex_or_file);
    if (!in) {
      return InvalidArgument("--public-key", "64 hex digits, or a file holding them");
    }
    std::getline(in, text);
    while (!text.empty() && (text.back() == '\r' || text.back() == ' ')) text.pop_back();
  }
  auto bytes = FromHex(text);
  if (!bytes.ok() || bytes->size() != 32) {
    return InvalidArgument("--public-key", "an Ed25519 public key is 64 hex digits");
  }
  return *bytes;
}

json TreeHeadToJson(const StoredHead& h) {
  return {{"size", h.size},
          {"root", h.root_hex},
          {"time_us", h.time_us},
          {"signature", h.signature_hex}};
}

Result<StoredHead> TreeHeadFromJson(const json& j) {
  if (!j.is_object() || !j.contains("size") || !j["size"].is_number_unsigned() ||
      !j.contains("root") || !j["root"].is_string() || !j.contains("time_us") ||
      !j["time_us"].is_number_integer() || !j.contains("signature") ||
      !j["signature"].is_string()) {
    return InvalidArgument("tree head", "expected {size, root, time_us, signature}");
  }
  return StoredHead{j["size"].get<std::uint64_t>(), j["root"].get<std::string>(),
                    j["time_us"].get<std::int64_t>(), j["signature"].get<std::string>()};
}

bool TreeHeadSignatureValid(const StoredHead& h, const std::string& public_key) {
  auto root = FromHex(h.root_hex);
  auto sig = FromHex(h.signature_hex);
  return root.ok() && sig.ok() &&
         Ed25519Verify(public_key, TreeHeadMessage(h.size, *root, h.time_us), *sig);
}

std::string TreeHeadMessage(std::uint64_t size, const Hash& root, std::int64_t time_us) {
  return "medtwin-audit-tree-head-v1\n" + std::to_string(size) + "\n" + ToHex(root) + "\n" +
         std::to_string(time_us);
}

LedgerReport VerifyLedger(const std::vector<StoredRecord>& rows,
                          const std::vector<StoredHead>& heads, const std::string& public_key) {
  LedgerReport report;
  auto fail = [&](std::uint64_t seq, std::string why) {
    if (!report.ok) return;
    report.ok = false;
    report.first_bad_seq = seq;
    report.problem = std::move(why);
  };
  MerkleFrontier tree;
  std::vector<Hash> roots_at;  // roots_at[n] = root of the first n records
  roots_at.push_back(tree.Root());
  for (std::size_t i = 0; i < rows.size() && report.ok; ++i) {
    const std::uint64_t expected = i;
    const StoredRecord& row = rows[i];
    if (row.seq != expected) {
      fail(expected, row.seq > expected
                         ? "record " + std::to_string(expected) + " is missing (removed)"
                         : "record " + std::to_string(row.seq) + " appears twice");
      break;
    }
    auto j = ParseAuditRecord(row.text);
    if (!j.ok()) {
      fail(expected, "record " + std::to_string(expected) + " is not a valid record (altered)");
      break;
    }
    if ((*j)["seq"].get<std::uint64_t>() != expected) {
      fail(expected, "record " + std::to_string(expected) + " holds record " +
                         std::to_string((*j)["seq"].get<std::uint64_t>()) + " (reordered)");
      break;
    }
    if ((*j)["prev_root"] != ToHex(tree.Root())) {
      // This record's link to its predecessors does not match them: the previous record was
      // changed (or this record's link was).
      const std::uint64_t bad = expected == 0 ? 0 : expected - 1;
      fail(bad, "record " + std::to_string(bad) + " was altered (record " +
                    std::to_string(expected) + " no longer chains to it)");
      break;
    }
    tree.Append(LeafHash(row.text));
    roots_at.push_back(tree.Root());
  }
  report.records = tree.size();
  report.root = tree.Root();
  for (const auto& h : heads) {
    if (!report.ok) break;
    auto root = FromHex(h.root_hex);
    if (!root.ok() || !TreeHeadSignatureValid(h, public_key)) {
      fail(h.size == 0 ? 0 : h.size - 1,
           "tree head at size " + std::to_string(h.size) + " has a bad signature");
      break;
    }
    if (h.size > tree.size()) {
      fail(tree.size(), "records " + std::to_string(tree.size()) + ".." +
                            std::to_string(h.size - 1) + " are missing (the signed tree head " +
                            "covers " + std::to_string(h.size) + ")");
      break;
    }
    if (roots_at[h.size] != *root) {
      // The last record under this head is the one a change went unchained through.
      fail(h.size - 1, "record " + std::to_string(h.size - 1) + " was altered (the root at size " +
                           std::to_string(h.size) + " differs from its signed tree head)");
      break;
    }
    ++report.heads_checked;
  }
  return report;
}

json ToFhirAuditEvent(const json& r) {
  const std::string interaction = r.value("interaction", "r");
  // FHIR AuditEvent.action: C R U D E.
  const std::string action =
      interaction == "s" ? "E" : std::string(1, static_cast<char>(std::toupper(interaction[0])));
  const int outcome = r.value("outcome", 0);
  json entities = json::array();
  for (const auto& p : r.value("patients", json::array())) {
    entities.push_back({{"what", {{"reference", "Patient/" + p.get<std::string>()}}},
                        {"type",
                         {{"system", "http://terminology.hl7.org/CodeSystem/audit-entity-type"},
                          {"code", "1"},
                          {"display", "Person"}}}});
  }
  return {{"resourceType", "AuditEvent"},
          {"id", "audit-" + std::to_string(r.value("seq", 0ULL))},
          {"type",
           {{"system", "http://terminology.hl7.org/CodeSystem/audit-event-type"},
            {"code", "rest"},
            {"display", "RESTful Operation"}}},
          {"action", action},
          {"recorded", r.value("time", "")},
          {"outcome", outcome < 400   ? "0"
                      : outcome < 500 ? "4"
                                      : "8"},
          {"outcomeDesc", r.value("action", "") + " → " + std::to_string(outcome)},
          {"agent",
           {{{"who", {{"display", r.value("who", "")}}},
             {"role", {{{"text", r.value("role", "")}}}},
             {"requestor", true},
             {"network", {{"address", r.value("from", "")}, {"type", "2"}}}}}},
          {"source", {{"observer", {{"display", "medtwin"}}}}},
          {"entity", entities}};
}

}  // namespace medtwin::security
