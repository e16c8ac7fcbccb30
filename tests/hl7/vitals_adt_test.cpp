// ORU^R01 and ADT read as medtwin takes them: IHE PCD-01 monitor messages (MDC codes and
// units) and LOINC/UCUM ones to the same observations; ADT A01/A02/A03/A08 to encounters.
#include <gtest/gtest.h>

#include "medtwin/hl7/adt.h"
#include "medtwin/hl7/vitals.h"

namespace medtwin::hl7 {
namespace {

// The message, or a failed test (a message the test wrote must parse).
Message Parsed(const std::string& text) {
  auto m = Message::Parse(text);
  if (!m.ok()) {
    ADD_FAILURE() << m.error().ToString();
    return std::move(Message::Parse("MSH|^~\\&|X|X|X|X|2026||ACK^A01|0|P|2.5")).value();
  }
  return std::move(m).value();
}

TEST(Oru, MonitorCodesAndLoincReadAsTheSameObservations) {
  // IEEE 11073 MDC terms and units as a PCD-01 gateway sends them, and the same vitals in LOINC.
  const Message pcd = Parsed(
      "MSH|^~\\&|GW|ICU|MEDTWIN|HOSP|20261207134500+0000||ORU^R01^ORU_R01|1|P|2.6\r"
      "PID|||MRN-7^^^HOSP^MR\r"
      "OBR|1||||||20261207134000+0000\r"
      "OBX|1|NM|147842^MDC_ECG_HEART_RATE^MDC|1.1.1|88|264864^MDC_DIM_BEAT_PER_MIN^MDC|||||F\r"
      "OBX|2|NM|150456^MDC_PULS_OXIM_SAT_O2^MDC|1.2.1|97|262688^MDC_DIM_PERCENT^MDC|||||F\r"
      "OBX|3|NM|150021^MDC_PRESS_BLD_NONINV_SYS^MDC|1.3.1|128|266016^MDC_DIM_MMHG^MDC|||||F|||"
      "20261207134130+0000||||NIBP-3\r"
      "OBX|4|NM|150344^MDC_TEMP^MDC|1.4.1|98.6|266560^MDC_DIM_FAHR^MDC|||||F\r"
      "OBX|5|NM|151562^MDC_RESP_RATE^MDC|1.5.1|18|264928^MDC_DIM_RESP_PER_MIN^MDC|||||F\r");
  auto r = ReadOru(pcd, {});
  ASSERT_TRUE(r.ok()) << r.error().ToString();
  ASSERT_EQ(r->patients.size(), 1u);
  ASSERT_EQ(r->patients[0].identifiers.size(), 1u);
  EXPECT_EQ(r->patients[0].identifiers[0].system, "HOSP");
  EXPECT_EQ(r->patients[0].identifiers[0].value, "MRN-7");
  const auto& obs = r->patients[0].observations;
  ASSERT_EQ(obs.size(), 5u);
  const char* codes[] = {"8867-4", "2708-6", "8480-6", "8310-5", "9279-1"};
  const char* units[] = {"/min", "%", "mm[Hg]", "[degF]", "/min"};
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(obs[static_cast<std::size_t>(i)].code, codes[i]);
    EXPECT_EQ(obs[static_cast<std::size_t>(i)].unit, units[i]);
  }
  EXPECT_EQ(obs[0].value, "88");
  EXPECT_EQ(FormatRfc3339(obs[0].time), "2026-12-07T13:40:00Z");  // OBR-7
  EXPECT_EQ(FormatRfc3339(obs[2].time), "2026-12-07T13:41:30Z");  // OBX-14
  EXPECT_EQ(obs[0].source, "GW");                                 // MSH-3
  EXPECT_EQ(obs[2].source, "NIBP-3");                             // OBX-18

  const Message loinc = Parsed(
      "MSH|^~\\&|GW|ICU|MEDTWIN|HOSP|20261207134000+0000||ORU^R01|2|P|2.5.1\r"
      "PID|||MRN-7^^^HOSP\r"
      "OBX|1|NM|8867-4^Heart rate^LN||88|/min^^UCUM|||||F\r"
      "OBX|2|CWE|80288-4^Level of consciousness^LN||^Alert|||||F\r"
      "OBX|3|SN|2708-6^SpO2^LN||=^97|%|||||F\r");
  auto l = ReadOru(loinc, {});
  ASSERT_TRUE(l.ok()) << l.error().ToString();
  const auto& lo = l->patients[0].observations;
  ASSERT_EQ(lo.size(), 3u);
  EXPECT_EQ(lo[0].code, obs[0].code);
  EXPECT_EQ(lo[0].time, obs[0].time);  // MSH-7
  EXPECT_EQ(lo[1].value, "A");
  EXPECT_FALSE(lo[1].numeric);
  EXPECT_EQ(lo[2].value, "97");
}

TEST(Oru, SkipsWhatItDoesNotUseWithAWarningAndRefusesWhatIsWrong) {
  const Message m = Parsed(
      "MSH|^~\\&|GW|ICU|MEDTWIN|HOSP|20261207134500||ORU^R01|1|P|2.6\r"
      "PID|||MRN-7^^^HOSP\r"
      "OBX|1|NM|150468^MDC_PULS_OXIM_SAT_O2_DIFF^MDC||0|262688^MDC_DIM_PERCENT^MDC|||||F\r"
      "OBX|2|NM|8867-4^HR^LN||90|/min|||||X\r"
      "OBX|3|SN|8867-4^HR^LN||>^200|/min|||||F\r"
      "OBX|4|NM|8867-4^HR^LN||91|/min|||||F\r");
  auto r = ReadOru(m, {});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->patients[0].observations.size(), 1u);
  ASSERT_EQ(r->issues.size(), 3u);
  EXPECT_EQ(r->issues[0].sequence, 1);
  EXPECT_EQ(r->issues[0].field, 3);
  EXPECT_EQ(r->issues[1].field, 11);
  EXPECT_EQ(r->issues[2].field, 5);
  for (const auto& s : r->issues) EXPECT_EQ(s.severity, 'W');

  const std::string head = "MSH|^~\\&|GW|ICU|MEDTWIN|HOSP|20261207134500||ORU^R01|1|P|2.6\r";
  // What makes the message unusable is an error for the message.
  struct Case {
    std::string body, field;
  };
  const Case unusable[] = {
      {"OBX|1|NM|8867-4^HR^LN||90|/min\r", "OBX[1]"},  // before PID
      {"PID|||^^^HOSP\r", "PID[1]-3"},                 // no identifier
      {"PID|||X\rOBR|1||||||2026-12-07\r", "OBR-7: time"},
  };
  for (const Case& c : unusable) {
    auto e = ReadOru(Parsed(head + c.body), {});
    ASSERT_FALSE(e.ok()) << c.body;
    EXPECT_EQ(e.error().field, c.field) << e.error().ToString();
  }
  // What is wrong with one OBX is an error for that OBX (E, with its field); the rest is taken.
  auto partly = ReadOru(Parsed(head + "PID|||X\r"
                                      "OBX|1|NM|8867-4^HR^LN||ninety|/min\r"
                                      "OBX|2|NM|8867-4^HR^LN||90|/min|||||F|||2026-12-07\r"
                                      "OBX|3|CWE|80288-4^ACVPU^LN||Q|||||F\r"
                                      "OBX|4|NM|8867-4^HR^LN||90||||||F\r"
                                      "OBX|5|NM|8867-4^HR^LN||91|/min|||||F\r"),
                        {});
  ASSERT_TRUE(partly.ok()) << partly.error().ToString();
  ASSERT_EQ(partly->patients[0].observations.size(), 1u);
  EXPECT_EQ(partly->patients[0].observations[0].obx, 5);
  const int fields[] = {5, 14, 5, 6};
  ASSERT_EQ(partly->issues.size(), 4u);
  for (std::size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(partly->issues[k].sequence, static_cast<int>(k) + 1);
    EXPECT_EQ(partly->issues[k].field, fields[k]);
    EXPECT_EQ(partly->issues[k].severity, 'E');
  }
}

TEST(Oru, IdentifierSystemsFollowTheSendersPolicy) {
  const Message m = Parsed(
      "MSH|^~\\&|GW|ICU|MEDTWIN|HOSP|20261207134500||ORU^R01|1|P|2.6\r"
      "PID|||MRN-7^^^HOSP^MR~9^^^&2.16.840.1.113883.19.5&ISO~ward-01^^^MEDTWIN\r");
  IdentifierPolicy policy;
  policy.systems = {{"HOSP", "http://hospital.example/mrn"}};
  auto r = ReadOru(m, policy);
  ASSERT_TRUE(r.ok());
  const auto& ids = r->patients[0].identifiers;
  ASSERT_EQ(ids.size(), 3u);
  EXPECT_EQ(ids[0].system, "http://hospital.example/mrn");
  EXPECT_EQ(ids[1].system, "urn:oid:2.16.840.1.113883.19.5");
  EXPECT_EQ(ids[2].system, kMedtwinIdSystem);
  EXPECT_EQ(ids[2].value, "ward-01");
}

AdtContent Adt(const std::string& trigger, const std::string& bed, const std::string& time,
               const std::string& visit = "V1") {
  const Message m =
      Parsed("MSH|^~\\&|ADT|HOSP|MEDTWIN|HOSP|" + time + "||ADT^" + trigger + "|1|P|2.5\rEVN|" +
             trigger + "|" + time + "\rPID|||MRN-7^^^HOSP||Doe^Jane^Q||19700102|F\rPV1|1|I|" + bed +
             "||||||||||||||||" + visit + "\r");
  auto a = ReadAdt(m, {});
  EXPECT_TRUE(a.ok()) << a.error().ToString();
  return std::move(a).value();
}

TEST(Adt, AdmitTransferDischargeMakeOneEncounterWithItsBeds) {
  const AdtContent admit = Adt("A01", "W3^301^A^HOSP", "20261201080000+0000");
  EXPECT_EQ(admit.event, AdtEvent::kAdmit);
  EXPECT_EQ(admit.name, "Jane Doe");
  EXPECT_EQ(admit.birth_date, "1970-01-02");
  EXPECT_EQ(admit.sex, "female");
  EXPECT_EQ(admit.class_code, "IMP");
  EXPECT_EQ(admit.bed, (record::BedLocation{"W3", "301", "A", "HOSP"}));
  auto e = ApplyAdt({}, admit, "gen-1");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->size(), 1u);
  EXPECT_EQ((*e)[0].id, "V1");
  EXPECT_EQ((*e)[0].status, "in-progress");
  EXPECT_EQ((*e)[0].start, "2026-12-01T08:00:00Z");
  // Sent twice: the same stay.
  e = ApplyAdt(*e, admit, "gen-2");
  ASSERT_EQ(e->size(), 1u);
  ASSERT_EQ((*e)[0].locations.size(), 1u);

  e = ApplyAdt(*e, Adt("A02", "ICU^1^2^HOSP", "20261202100000+0000"), "gen-3");
  ASSERT_TRUE(e.ok());
  ASSERT_EQ((*e)[0].locations.size(), 2u);
  EXPECT_EQ((*e)[0].locations[0].status, "completed");
  EXPECT_EQ((*e)[0].locations[0].end, "2026-12-02T10:00:00Z");
  EXPECT_EQ((*e)[0].locations[1].status, "active");
  EXPECT_EQ(record::CurrentEncounter(*e)->locations.back().bed.ward, "ICU");

  e = ApplyAdt(*e, Adt("A03", "ICU^1^2^HOSP", "20261205120000+0000"), "gen-4");
  ASSERT_TRUE(e.ok());
  EXPECT_EQ((*e)[0].status, "finished");
  EXPECT_EQ((*e)[0].end, "2026-12-05T12:00:00Z");
  EXPECT_EQ((*e)[0].locations[1].status, "completed");
  EXPECT_EQ(record::CurrentEncounter(*e), nullptr);

  // A transfer or discharge with nothing in progress is refused, not invented.
  auto t = ApplyAdt(*e, Adt("A02", "W1^1^1", "20261206120000+0000", ""), "gen-5");
  ASSERT_FALSE(t.ok());
  EXPECT_EQ(t.error().code, ErrorCode::kFailedPrecondition);
  // A new admission is a second encounter.
  e = ApplyAdt(*e, Adt("A01", "W1^1^1", "20261207120000+0000", "V2"), "gen-6");
  ASSERT_EQ(e->size(), 2u);
  EXPECT_EQ(record::CurrentEncounter(*e)->id, "V2");
}

TEST(Adt, RefusesEventsItDoesNotTakeAndAdmissionsWithoutABed) {
  auto other =
      ReadAdt(Parsed("MSH|^~\\&|ADT|HOSP|MEDTWIN|HOSP|20261201||ADT^A40|1|P|2.5\rPID|||X\r"), {});
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kUnimplemented);
  auto no_bed = ReadAdt(
      Parsed("MSH|^~\\&|ADT|HOSP|MEDTWIN|HOSP|20261201||ADT^A01|1|P|2.5\rPID|||X\rPV1|1|I\r"), {});
  ASSERT_FALSE(no_bed.ok());
  EXPECT_EQ(no_bed.error().field, "PV1-3");
}

}  // namespace
}  // namespace medtwin::hl7
