// HL7 v2 over MLLP as monitor gateways and an EHR's interface engine send it (issue 16), against
// the real binary on SQLite, with outside HL7 clients: Debian's python3-hl7 (MLLPClient) and
// npm's node-hl7-client, each reading medtwin's ACKs with its own parser. ADT creates the
// patient and moves them between beds; ORU vital signs in IEEE 11073 MDC codes are stored as
// LOINC/UCUM (98.6 °F is 37 °C); every ACK comes after the commit, so an acknowledged reading
// survives kill -9; senders write only the patients the senders file gives them.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "../support/server_process.h"

namespace {

namespace fs = std::filesystem;
namespace http = boost::beast::http;
using json = nlohmann::json;
using medtwin::testing_support::Call;
using medtwin::testing_support::ConnectLoopback;
using medtwin::testing_support::MllpExchange;
using medtwin::testing_support::ReadAll;
using medtwin::testing_support::Server;
constexpr auto Dtm = [](int minutes_ago = 0) {
  return medtwin::testing_support::Hl7Now(minutes_ago);
};

constexpr const char* kMrnSystem = "http://hospital.example/mrn";

std::string Adt(const std::string& facility, const std::string& trigger, const std::string& mrn,
                const std::string& bed, const std::string& id, int minutes_ago) {
  return "MSH|^~\\&|EPIC|" + facility + "|MEDTWIN|HOSP|" + Dtm(minutes_ago) + "||ADT^" + trigger +
         "^ADT_A01|" + id + "|P|2.5\nEVN|" + trigger + "|" + Dtm(minutes_ago) + "\nPID|1||" + mrn +
         "^^^HOSP^MR||Okafor^Adaeze||19500301|F\nPV1|1|I|" + bed + "||||||||||||||||V-" + mrn +
         "\n";
}

// Vital signs as a PCD-01 gateway sends them: MDC codes and units.
std::string Oru(const std::string& facility, const std::string& mrn, const std::string& id,
                int minutes_ago, const std::string& extra_obx = "") {
  return "MSH|^~\\&|GW|" + facility + "|MEDTWIN|HOSP|" + Dtm(minutes_ago) + "||ORU^R01^ORU_R01|" +
         id + "|P|2.6\nPID|||" + mrn + "^^^HOSP^MR\nOBR|1||||||" + Dtm(minutes_ago) +
         "\nOBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1|88|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F\n"
         "OBX|2|NM|150344^MDC_TEMP^MDC|1.2.1|98.6|266560^MDC_DIM_FAHR^MDC|||||F\n" +
         extra_obx;
}

class Hl7Feed : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / ("medtwin_hl7_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    std::ofstream(dir_ / "senders.json") << json{
        {"senders",
         {{{"facility", "EHR"},
           {"all_patients", true},
           {"adt", true},
           {"identifier_systems", {{"HOSP", kMrnSystem}}},
           {"addresses", {"127.0.0.1"}}},
          {{"facility", "ICU_GW"}, {"ward", "ICU"}, {"identifier_systems", {{"HOSP", kMrnSystem}}}},
          {{"facility", "OTHER_GW"},
           {"patients", {"nobody"}},
           {"identifier_systems", {{"HOSP", kMrnSystem}}}}}}};
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::vector<std::string> Extra() {
    return {"--hl7", "127.0.0.1:0", "--hl7-senders", (dir_ / "senders.json").string()};
  }
  // Sends `messages` with the Python or the Node client; one parsed ACK per message.
  std::vector<json> Send(unsigned short port, const std::vector<std::string>& messages,
                         bool node = false) {
    const fs::path file = dir_ / "messages.txt";
    std::ofstream out(file);
    for (const auto& m : messages) out << m << "\n\n";
    out.close();
    const std::string interop = std::string(MEDTWIN_SOURCE_DIR) + "/tests/interop";
    const std::string command = node ? "cd " + interop + " && node hl7_send.mjs " +
                                           std::to_string(port) + " " + file.string()
                                     : "/usr/bin/python3 " + interop + "/hl7_send.py " +
                                           std::to_string(port) + " " + file.string();
    const fs::path log = dir_ / "acks.txt";
    EXPECT_EQ(
        std::system((command + " > " + log.string() + " 2>" + (dir_ / "err.txt").string()).c_str()),
        0)
        << ReadAll(dir_ / "err.txt");
    std::vector<json> acks;
    std::istringstream lines(ReadAll(log));
    for (std::string line; std::getline(lines, line);) {
      if (!line.empty()) acks.push_back(json::parse(line, nullptr, false));
    }
    EXPECT_EQ(acks.size(), messages.size()) << ReadAll(dir_ / "err.txt");
    return acks;
  }
  json PatientByMrn(unsigned short port, const std::string& mrn) {
    auto r = Call(port, http::verb::get,
                  std::string("/fhir/r4/Patient?identifier=") + kMrnSystem + "|" + mrn);
    json bundle = r.Json();
    if (!bundle.contains("entry") || bundle["entry"].size() != 1) return nullptr;
    return bundle["entry"][0]["resource"];
  }
  json Readings(unsigned short port, const std::string& patient) {
    return Call(port, http::verb::get, "/api/v1/patients/" + patient + "/observations").Json();
  }
  fs::path dir_;
};

TEST_F(Hl7Feed, AdmitThenVitalsFromTheWardGatewayAreStoredAsLoincWithAckAfterCommit) {
  const std::string store = "sqlite:" + (dir_ / "twin.db").string();
  std::string patient;
  {
    Server server(store, Extra());
    ASSERT_NE(server.hl7_port(), 0);
    // The EHR admits a patient medtwin has not seen, to bed ICU-1-A (python3-hl7).
    auto acks = Send(server.hl7_port(), {Adt("EHR", "A01", "MRN-100", "ICU^1^A", "ADT-1", 10)});
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0]["msa1"], "AA") << acks[0].dump();
    EXPECT_EQ(acks[0]["msa2"], "ADT-1");
    const json fhir_patient = PatientByMrn(server.port(), "MRN-100");
    ASSERT_TRUE(fhir_patient.is_object());
    EXPECT_EQ(fhir_patient["gender"], "female");
    EXPECT_EQ(fhir_patient["birthDate"], "1950-03-01");
    patient = fhir_patient["id"];
    const json record = Call(server.port(), http::verb::get, "/api/v1/patients/" + patient).Json();
    ASSERT_EQ(record["encounters"].size(), 1u) << record.dump();
    EXPECT_EQ(record["encounters"][0]["status"], "in-progress");
    EXPECT_EQ(record["encounters"][0]["id"], "V-MRN-100");
    EXPECT_EQ(record["encounters"][0]["locations"][0]["ward"], "ICU");
    EXPECT_EQ(record["encounters"][0]["locations"][0]["bed"], "A");

    // The stay as FHIR: an Encounter in progress, in bed ICU 1-A, valid R4 by outside tools.
    const json stays =
        Call(server.port(), http::verb::get, "/fhir/r4/Encounter?patient=" + patient).Json();
    ASSERT_EQ(stays["total"], 1) << stays.dump();
    const json& stay = stays["entry"][0]["resource"];
    EXPECT_EQ(stay["id"], "V-MRN-100");
    EXPECT_EQ(stay["status"], "in-progress");
    EXPECT_EQ(stay["class"]["code"], "IMP");
    EXPECT_EQ(stay["location"][0]["location"]["display"], "ICU 1-A");
    EXPECT_EQ(Call(server.port(), http::verb::get, "/fhir/r4/Encounter/V-MRN-100").Json(), stay);
    std::ofstream(dir_ / "stays.json") << json::array({stays, stay}).dump();
    ASSERT_EQ(
        std::system(("cd " + std::string(MEDTWIN_SOURCE_DIR) +
                     "/tests/interop && node fhir_validate.mjs " + (dir_ / "stays.json").string() +
                     " " + (dir_ / "report.json").string() + " > /dev/null")
                        .c_str()),
        0);
    for (const auto& issue : json::parse(ReadAll(dir_ / "report.json"))["issues"]) {
      EXPECT_NE(issue["severity"], "error") << issue.dump();
    }

    // The ICU gateway sends vitals for a patient in an ICU bed (node-hl7-client).
    acks = Send(server.hl7_port(), {Oru("ICU_GW", "MRN-100", "ORU-1", 2)}, true);
    ASSERT_EQ(acks.size(), 1u);
    EXPECT_EQ(acks[0]["msa1"], "AA") << acks[0].dump();
    EXPECT_EQ(acks[0]["msa2"], "ORU-1");
    // Acknowledged means stored: killed at once, the readings are there after a restart.
    server.Stop(SIGKILL);
  }
  Server again(store, Extra());
  const json readings = Readings(again.port(), patient);
  ASSERT_TRUE(readings.is_array()) << readings.dump();
  std::map<std::string, double> value;
  for (const auto& o : readings) value[o["code"]] = o["value"];
  ASSERT_EQ(value.size(), 2u) << readings.dump();
  EXPECT_EQ(value["8867-4"], 88);
  EXPECT_NEAR(value["8310-5"], (98.6 - 32) * 5 / 9, 1e-9);  // °F to °C, closed form
  for (const auto& o : readings) EXPECT_EQ(o["source"], "GW");
}

TEST_F(Hl7Feed, SendersWriteOnlyTheirPatientsAndErrorsNameTheSegmentAndField) {
  Server server("sqlite:" + (dir_ / "twin.db").string(), Extra());
  ASSERT_NE(server.hl7_port(), 0);
  auto acks = Send(server.hl7_port(), {Adt("EHR", "A01", "MRN-200", "ICU^2^B", "ADT-2", 30)});
  ASSERT_EQ(acks[0]["msa1"], "AA") << acks[0].dump();
  const std::string patient = PatientByMrn(server.port(), "MRN-200")["id"];

  acks = Send(server.hl7_port(),
              {
                  // A gateway not bound to this patient: refused, nothing stored.
                  Oru("OTHER_GW", "MRN-200", "ORU-A", 20),
                  // A facility nobody configured.
                  Oru("ROGUE", "MRN-200", "ORU-B", 20),
                  // An unknown MRN.
                  Oru("ICU_GW", "MRN-999", "ORU-C", 20),
                  // The ward gateway: one good OBX, one in a unit that is no temperature.
                  Oru("ICU_GW", "MRN-200", "ORU-D", 19,
                      "OBX|3|NM|150364^MDC_TEMP_BODY^MDC|1.3.1|37|mm[Hg]^^UCUM|||||F\n"),
                  // Not a message medtwin takes.
                  "MSH|^~\\&|LAB|EHR|MEDTWIN|HOSP|" + Dtm() + "||ORM^O01|ORM-1|P|2.5\nPID|||X",
                  // ADT from a gateway that may not send it.
                  Adt("ICU_GW", "A03", "MRN-200", "ICU^2^B", "ADT-X", 5),
              });
  ASSERT_EQ(acks.size(), 6u);
  // (The same answer as for an unknown MRN: a bound sender learns nothing of other patients.)
  EXPECT_EQ(acks[0]["msa1"], "AE") << acks[0].dump();
  EXPECT_EQ(acks[0]["err"][0][1], "204^Unknown key identifier^HL70357");
  EXPECT_EQ(acks[1]["msa1"], "AR") << acks[1].dump();
  EXPECT_NE(acks[1]["msa3"].get<std::string>().find("ROGUE"), std::string::npos);
  EXPECT_EQ(acks[2]["msa1"], "AE") << acks[2].dump();
  EXPECT_EQ(acks[2]["err"][0][0], "PID^1^3");
  EXPECT_EQ(acks[2]["err"][0][1], "204^Unknown key identifier^HL70357");
  EXPECT_EQ(acks[3]["msa1"], "AE") << acks[3].dump();
  ASSERT_EQ(acks[3]["err"].size(), 1u);
  EXPECT_EQ(acks[3]["err"][0][0], "OBX^3^6");
  EXPECT_EQ(acks[4]["msa1"], "AR");
  EXPECT_EQ(acks[4]["err"][0][1], "200^Unsupported message type^HL70357");
  EXPECT_EQ(acks[5]["msa1"], "AR") << acks[5].dump();

  // Only ORU-D's two good readings were stored.
  const json readings = Readings(server.port(), patient);
  EXPECT_EQ(readings.size(), 2u) << readings.dump();

  // Transferred out of the ICU, the ICU gateway may no longer write the patient.
  acks = Send(
      server.hl7_port(),
      {Adt("EHR", "A02", "MRN-200", "W3^301^A", "ADT-3", 4), Oru("ICU_GW", "MRN-200", "ORU-E", 3)},
      true);
  EXPECT_EQ(acks[0]["msa1"], "AA") << acks[0].dump();
  EXPECT_EQ(acks[1]["msa1"], "AE") << acks[1].dump();
  const json record = Call(server.port(), http::verb::get, "/api/v1/patients/" + patient).Json();
  ASSERT_EQ(record["encounters"][0]["locations"].size(), 2u);
  EXPECT_EQ(record["encounters"][0]["locations"][0]["status"], "completed");
  EXPECT_EQ(record["encounters"][0]["locations"][1]["ward"], "W3");

  // Discharge ends the encounter.
  acks = Send(server.hl7_port(), {Adt("EHR", "A03", "MRN-200", "W3^301^A", "ADT-4", 1)});
  EXPECT_EQ(acks[0]["msa1"], "AA") << acks[0].dump();
  const json after = Call(server.port(), http::verb::get, "/api/v1/patients/" + patient).Json();
  EXPECT_EQ(after["encounters"][0]["status"], "finished");

  // In the audit trail: each message as the facility that sent it, with its outcome and the
  // patient it wrote or tried to; the registration of the new patient as a create; the unknown
  // facility as one refusal with its count (recorded when its connection ended).
  const json audit = Call(server.port(), http::verb::get, "/api/v1/audit?limit=500").Json();
  std::map<std::string, int> seen;  // "who action outcome" → records
  bool refused_write_names_patient = false, registration = false, rogue = false;
  for (const auto& e : audit) {
    const std::string who = e.value("who", "");
    if (who.rfind("hl7:", 0) != 0) continue;
    seen[who + " " + e.value("action", "") + " " + std::to_string(e.value("outcome", 0))]++;
    const json patients = e.value("patients", json::array());
    if (who == "hl7:OTHER_GW" && e["outcome"] == 403 && patients == json::array({patient})) {
      refused_write_names_patient = true;
    }
    if (who == "hl7:EHR" && e["resource"] == "Patient" && e["interaction"] == "c" &&
        patients == json::array({patient})) {
      registration = true;
    }
    if (who == "hl7:unknown" && e["outcome"] == 401) rogue = true;
  }
  EXPECT_TRUE(refused_write_names_patient) << audit.dump().substr(0, 3000);
  EXPECT_TRUE(registration);
  EXPECT_TRUE(rogue);
  EXPECT_EQ(seen["hl7:ICU_GW HL7 ORU^R01 400"], 2);  // ORU-C (unknown MRN), ORU-D (a bad unit)
  EXPECT_EQ(seen["hl7:ICU_GW HL7 ORU^R01 403"], 1);  // ORU-E (the patient left the ICU)
  EXPECT_EQ(seen["hl7:EHR HL7 ADT^A01 200"], 1);
  EXPECT_EQ(seen["hl7:EHR HL7 ADT^A02 200"], 1);
  EXPECT_EQ(seen["hl7:EHR HL7 ADT^A03 200"], 1);
}

// Raw bytes over a socket: framing errors are answered and the connection keeps working.
TEST_F(Hl7Feed, FramingErrorsAndBatchesAreAnsweredOnTheSameConnection) {
  Server server("sqlite:" + (dir_ / "twin.db").string(), Extra());
  ASSERT_NE(server.hl7_port(), 0);
  const int fd = ConnectLoopback(server.hl7_port());
  ASSERT_GE(fd, 0);

  std::string reply = MllpExchange(fd, std::string("\x0bnot hl7 at all\x1c\r"));
  EXPECT_NE(reply.find("MSA|AR|"), std::string::npos) << reply;
  EXPECT_NE(reply.find("starts with MSH"), std::string::npos) << reply;

  std::string adt = Adt("EHR", "A01", "MRN-300", "ICU^3^C", "B-1", 5);
  std::string adt2 = Adt("EHR", "A01", "MRN-301", "ICU^4^D", "B-2", 5);
  for (auto* m : {&adt, &adt2}) {
    for (auto& c : *m) c = c == '\n' ? '\r' : c;
  }
  reply = MllpExchange(fd,
                       "\x0b"
                       "BHS|^~\\&|EPIC|EHR|MEDTWIN|HOSP|20261207120000|||BATCH-77\r" +
                           adt + adt2 + "BTS|2\r\x1c\r");
  // The batch of ACKs names the batch it answers (BHS-11 = the received BHS-10).
  ASSERT_EQ(reply.find("\x0b"
                       "BHS|^~\\&|MEDTWIN|"),
            0u)
      << reply;
  const std::string bhs = reply.substr(1, reply.find('\r') - 1);
  std::vector<std::string> fields;
  for (std::size_t at = 0; at != std::string::npos;) {
    const std::size_t bar = bhs.find('|', at);
    fields.push_back(bhs.substr(at, bar == std::string::npos ? bar : bar - at));
    at = bar == std::string::npos ? bar : bar + 1;
  }
  ASSERT_GE(fields.size(), 11u) << bhs;
  EXPECT_EQ(fields[10], "BATCH-77") << bhs;  // fields[0] is "BHS", so fields[n] is BHS-(n+1)
  EXPECT_NE(reply.find("MSA|AA|B-1"), std::string::npos) << reply;
  EXPECT_NE(reply.find("MSA|AA|B-2"), std::string::npos) << reply;
  EXPECT_NE(reply.find("BTS|2"), std::string::npos) << reply;
  ::close(fd);
  EXPECT_TRUE(PatientByMrn(server.port(), "MRN-300").is_object());
  EXPECT_TRUE(PatientByMrn(server.port(), "MRN-301").is_object());
}

TEST_F(Hl7Feed, HostileInputIsAnsweredAndTheServerLivesOn) {
  Server server("sqlite:" + (dir_ / "twin.db").string(),
                {"--hl7", "127.0.0.1:0", "--hl7-senders", (dir_ / "senders.json").string(),
                 "--hl7-frame-timeout-s", "2"});
  ASSERT_NE(server.hl7_port(), 0);
  auto connect = [&] { return ConnectLoopback(server.hl7_port(), 20); };
  auto cr = [](std::string m) {
    for (auto& c : m) c = c == '\n' ? '\r' : c;
    return m;
  };
  int fd = connect();
  // A name whose escapes make bytes that are not UTF-8 (it once ended the server).
  std::string reply = MllpExchange(
      fd, "\x0b" +
              cr(Adt("EHR", "A01", "MRN-500", "ICU^5^E", "H-1", 5))
                  .replace(cr(Adt("EHR", "A01", "MRN-500", "ICU^5^E", "H-1", 5)).find("Okafor"), 6,
                           "\\XFFFE\\") +
              "\x1c\r");
  EXPECT_NE(reply.find("MSA|AE|H-1"), std::string::npos) << reply;
  EXPECT_NE(reply.find("PID-5"), std::string::npos) << reply;
  // A PID-3 of 200,000 repetitions (a quadratic read would take hours): answered.
  const auto t0 = std::chrono::steady_clock::now();
  reply = MllpExchange(fd, "\x0bMSH|^~\\&|GW|ICU_GW|MEDTWIN|HOSP|" + Dtm() +
                               "||ORU^R01|H-2|P|2.6\rPID|||" + std::string(200000, '~') +
                               "X^^^HOSP\rOBX|1|NM|8867-4^HR^LN||80|/min\r\x1c\r");
  EXPECT_NE(reply.find("MSA|AE|H-2"), std::string::npos) << reply.substr(0, 300);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(10));
  // Unreadable frames, each answered on the same connection.
  for (int k = 0; k < 3; ++k) {
    reply = MllpExchange(fd, "\x0bgarbage\x1c\r");
    EXPECT_NE(reply.find("MSA|AR|"), std::string::npos) << reply;
  }
  ::close(fd);
  // A frame begun and never ended: cut off after the frame timeout (2 s here).
  fd = connect();
  const std::string partial = "\x0bMSH|^~\\&|GW|ICU_GW|MEDTWIN|HOSP|";
  ASSERT_EQ(::send(fd, partial.data(), partial.size(), 0), static_cast<ssize_t>(partial.size()));
  std::string cut;
  char buf[512];
  while (true) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    cut.append(buf, static_cast<std::size_t>(n));
  }
  EXPECT_NE(cut.find("did not end within 2 s"), std::string::npos) << cut;
  ::close(fd);
  // A sender that pipelines frames back to back, every write ending inside the next frame, for
  // twice the frame timeout: never cut off (each frame began recently), every frame answered.
  fd = connect();
  std::vector<std::string> frames;
  for (int k = 0; k < 9; ++k) {
    frames.push_back("\x0bMSH|^~\\&|GW|ICU_GW|MEDTWIN|HOSP|" + Dtm() + "||ORU^R01|P-" +
                     std::to_string(k) + "|P|2.6\rPID|||nobody^^^HOSP\r\x1c\r");
  }
  std::string pending = frames[0].substr(0, frames[0].size() / 2);
  ASSERT_EQ(::send(fd, pending.data(), pending.size(), 0), static_cast<ssize_t>(pending.size()));
  for (int k = 0; k + 1 < 9; ++k) {
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    const std::string chunk =
        frames[static_cast<std::size_t>(k)].substr(frames[static_cast<std::size_t>(k)].size() / 2) +
        frames[static_cast<std::size_t>(k) + 1].substr(
            0, frames[static_cast<std::size_t>(k) + 1].size() / 2);
    ASSERT_EQ(::send(fd, chunk.data(), chunk.size(), MSG_NOSIGNAL),
              static_cast<ssize_t>(chunk.size()));
  }
  const std::string last = frames[8].substr(frames[8].size() / 2);
  ASSERT_EQ(::send(fd, last.data(), last.size(), MSG_NOSIGNAL), static_cast<ssize_t>(last.size()));
  std::string answers;
  while (answers.find("MSA|AE|P-8") == std::string::npos) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    answers.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fd);
  EXPECT_EQ(answers.find("did not end"), std::string::npos) << answers;
  for (int k = 0; k < 9; ++k) {
    EXPECT_NE(answers.find("MSA|AE|P-" + std::to_string(k)), std::string::npos) << k;
  }
  // Still serving, and the unreadable frames are in the audit trail as one record with a count.
  EXPECT_EQ(Call(server.port(), http::verb::get, "/healthz").status, 200u);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  const json audit = Call(server.port(), http::verb::get, "/api/v1/audit?limit=100").Json();
  bool counted = false;
  for (const auto& e : audit) {
    if (e.value("who", "") == "hl7:unknown" && e.value("outcome", 0) == 400 &&
        e.value("count", 1) >= 3) {
      counted = true;
    }
  }
  EXPECT_TRUE(counted) << audit.dump().substr(0, 3000);
}

}  // namespace
