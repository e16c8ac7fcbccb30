// HL7 v2 reading: positions, escapes, batches and DTM times, against the examples of HL7
// v2.5.1 chapter 2 and closed forms (RFC 3339 for the same instants).
#include "medtwin/hl7/message.h"

#include <gtest/gtest.h>

#include "medtwin/hl7/ack.h"
#include "medtwin/hl7/mllp.h"

namespace medtwin::hl7 {
namespace {

constexpr const char* kOru =
    "MSH|^~\\&|GW^gateway|ICU_WEST|MEDTWIN|HOSP|20261207134500+0100||ORU^R01^ORU_R01|MSG-1|P|2.5."
    "1\r"
    "PID|1||MRN-7^^^HOSP^MR~4711^^^NHS^NH||Doe^Jane||19700102|F\r"
    "OBX|1|ST|X^Note^L||a \\F\\ b \\S\\ c \\T\\ d \\R\\ e \\E\\ f\\.br\\g\\X4142\\||||||F\r";

TEST(Hl7Message, ReadsFieldsComponentsAndRepetitionsByHl7Position) {
  auto m = Message::Parse(kOru);
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->type(), "ORU");
  EXPECT_EQ(m->trigger(), "R01");
  EXPECT_EQ(m->control_id(), "MSG-1");
  EXPECT_EQ(m->version(), "2.5.1");
  EXPECT_EQ(m->sending_facility(), "ICU_WEST");
  EXPECT_EQ(m->msh().Get(1), "|");
  EXPECT_EQ(m->msh().Get(2), "^~\\&");
  EXPECT_EQ(m->msh().Get(3, 2), "gateway");
  const Segment* pid = m->Find("PID");
  ASSERT_NE(pid, nullptr);
  EXPECT_EQ(pid->Repetitions(3), 2);
  EXPECT_EQ(pid->Get(3, 1, 1, 0), "MRN-7");
  EXPECT_EQ(pid->Get(3, 4, 1, 0), "HOSP");
  EXPECT_EQ(pid->Get(3, 1, 1, 1), "4711");
  EXPECT_EQ(pid->Get(3, 5, 1, 1), "NH");
  EXPECT_EQ(pid->Get(5, 2), "Jane");
  EXPECT_EQ(pid->Get(40), "");  // past the end
  EXPECT_EQ(pid->Get(3, 9, 1, 7), "");
}

TEST(Hl7Message, UnescapesEverySequenceOfChapter2) {
  auto m = Message::Parse(kOru);
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->Find("OBX")->Get(5), "a | b ^ c & d ~ e \\ f\ngAB");
  // And Escape is its inverse for text holding every delimiter.
  const std::string text = "x|y^z&w~v\\u\nend";
  EXPECT_EQ(Unescape(Escape(text, m->delimiters()), m->delimiters()), text);
}

TEST(Hl7Message, TakesOtherDelimitersAndLineEndings) {
  auto m = Message::Parse("MSH#*!?$#A#B#C#D#20261207##ADT*A01#9#P#2.5\nPID#1##X$Y*Z!W\n");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->trigger(), "A01");
  EXPECT_EQ(m->Find("PID")->Get(3, 1, 1, 0), "X");  // "$" separates subcomponents here
  EXPECT_EQ(m->Find("PID")->Get(3, 1, 2, 0), "Y");
  EXPECT_EQ(m->Find("PID")->Get(3, 2, 1, 0), "Z");
  EXPECT_EQ(m->Find("PID")->Get(3, 1, 1, 1), "W");
}

TEST(Hl7Message, RefusesWhatIsNotHl7WithThePositionAndReason) {
  struct Case {
    std::string text, field;
  };
  const Case cases[] = {
      {"", "message"},
      {"PID|1", "segment 1"},
      {"MSH|^~", "MSH-2"},
      {"MSH|^^\\&|A", "MSH-2"},  // repeated delimiter
      {"MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rpid|x", "segment 2"},
      {"MSH|^~\\&|A|B|C|D|2026|||1|P|2.5", "MSH-9"},
      {"MSH|^~\\&|A|B|C|D|2026||ORU^R01||P|2.5", "MSH-10"},
      {"MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rMSH|^~\\&|A", "segment 2"},
      {"MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rPID|\xff\xfe", "MSH-18"},
  };
  for (const Case& c : cases) {
    auto m = Message::Parse(c.text);
    ASSERT_FALSE(m.ok()) << c.text;
    EXPECT_EQ(m.error().field, c.field) << c.text << ": " << m.error().ToString();
  }
}

TEST(Hl7Message, ReadsLatin1WhenMsh18SaysSo) {
  auto m = Message::Parse(
      "MSH|^~\\&|A|B|C|D|2026||ADT^A08|1|P|2.5||||||8859/1\rPID|1||X||M\xfcller^J\xf6rg");
  ASSERT_TRUE(m.ok()) << m.error().ToString();
  EXPECT_EQ(m->Find("PID")->Get(5, 1), "M\xc3\xbcller");
  EXPECT_EQ(m->Find("PID")->Get(5, 2), "J\xc3\xb6rg");
}

TEST(Hl7Batch, SplitsABatchAndChecksItsCount) {
  const std::string one = "MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5\rPID|1||X";
  const std::string two = "MSH|^~\\&|A|B|C|D|2026||ORU^R01|2|P|2.5\rPID|1||Y";
  // (The views SplitBatch returns point into the text: it must outlive them.)
  const std::string text =
      "FHS|^~\\&\rBHS|^~\\&||||||||B-7\r" + one + "\r" + two + "\rBTS|2\rFTS|1\r";
  std::string_view control_id;
  auto batch = SplitBatch(text, &control_id);
  ASSERT_TRUE(batch.ok()) << batch.error().ToString();
  ASSERT_EQ(batch->size(), 2u);
  EXPECT_EQ((*batch)[0], one);
  EXPECT_EQ((*batch)[1], two);
  EXPECT_EQ(control_id, "B-7");  // BHS-10
  auto wrong = SplitBatch("BHS|^~\\&\r" + one + "\rBTS|3\r");
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.error().field, "BTS-1");
  auto single = SplitBatch(one);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ(single->size(), 1u);
}

TEST(Hl7Dtm, MeansTheSameInstantAsRfc3339) {
  struct Case {
    std::string dtm, rfc3339;
  };
  const Case cases[] = {
      {"20261207134500+0100", "2026-12-07T12:45:00Z"},
      {"20261207134500-0530", "2026-12-07T19:15:00Z"},
      {"20261207134500.25+0000", "2026-12-07T13:45:00.25Z"},
      {"202612071345", "2026-12-07T13:45:00Z"},
      {"20240229", "2024-02-29T00:00:00Z"},
  };
  for (const Case& c : cases) {
    auto a = ParseDtm(c.dtm);
    auto b = ParseRfc3339(c.rfc3339);
    ASSERT_TRUE(a.ok()) << c.dtm << ": " << a.error().ToString();
    ASSERT_TRUE(b.ok());
    EXPECT_EQ(a->us_since_epoch, b->us_since_epoch) << c.dtm;
  }
  // Without an offset, the sender's.
  EXPECT_EQ(ParseDtm("202612071345", 60)->us_since_epoch,
            ParseRfc3339("2026-12-07T12:45:00Z")->us_since_epoch);
  // A partial DTM means its start.
  EXPECT_EQ(ParseDtm("1950")->us_since_epoch, ParseRfc3339("1950-01-01T00:00:00Z")->us_since_epoch);
  EXPECT_EQ(ParseDtm("195003")->us_since_epoch,
            ParseRfc3339("1950-03-01T00:00:00Z")->us_since_epoch);
  for (const char* bad : {"202", "20230229", "20261307", "20261207246000", "20261207134500+2500",
                          "2026120713450", "20261207134500x", "20261207.5"}) {
    EXPECT_FALSE(ParseDtm(bad).ok()) << bad;
  }
  EXPECT_EQ(FormatDtm(*ParseRfc3339("2026-12-07T12:45:09Z")), "20261207124509+0000");
}

TEST(Mllp, FindsFramesHoweverTheBytesArrive) {
  const std::string a = "MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5";
  const std::string b = "MSH|^~\\&|A|B|C|D|2026||ORU^R01|2|P|2.5";
  const std::string wire = MllpFrame(a) + MllpFrame(b);
  for (std::size_t chunk : {std::size_t{1}, std::size_t{3}, std::size_t{7}, wire.size()}) {
    MllpDecoder decoder(1 << 20);
    std::vector<MllpItem> items;
    for (std::size_t i = 0; i < wire.size(); i += chunk) {
      decoder.Feed(std::string_view(wire).substr(i, chunk), items);
    }
    ASSERT_EQ(items.size(), 2u) << chunk;
    EXPECT_FALSE(items[0].error);
    EXPECT_EQ(items[0].text, a);
    EXPECT_EQ(items[1].text, b);
    EXPECT_FALSE(decoder.InFrame());
  }
}

TEST(Mllp, ReportsFramingErrorsAndRecovers) {
  const std::string good = "MSH|^~\\&|A|B|C|D|2026||ORU^R01|1|P|2.5";
  MllpDecoder decoder(64);
  std::vector<MllpItem> items;
  decoder.Feed("junk" + MllpFrame(good), items);                   // bytes outside a frame
  decoder.Feed("\x0b" + std::string(100, 'x') + "\x1c\r", items);  // too large
  decoder.Feed("\x0bhalf\x0b" + good + "\x1c\r", items);           // start before end
  ASSERT_EQ(items.size(), 5u);
  EXPECT_TRUE(items[0].error);
  EXPECT_NE(items[0].text.find("outside"), std::string::npos);
  EXPECT_EQ(items[1].text, good);
  EXPECT_TRUE(items[2].error);
  EXPECT_NE(items[2].text.find("larger than 64"), std::string::npos);
  EXPECT_TRUE(items[3].error);
  EXPECT_EQ(items[4].text, good);
}

TEST(Hl7Ack, AnswersWithTheSendersControlIdAndTheReason) {
  auto m = Message::Parse(kOru);
  ASSERT_TRUE(m.ok());
  const std::string ack =
      BuildAck(&*m, AckCode::kError,
               {{"OBX", 2, 5, ErrorCondition::kDataType, "'abc' is not a | number", 'E'}},
               *ParseRfc3339("2026-12-07T13:46:00Z"), "ACK-1");
  auto parsed = Message::Parse(ack);
  ASSERT_TRUE(parsed.ok()) << parsed.error().ToString();
  EXPECT_EQ(parsed->type(), "ACK");
  EXPECT_EQ(parsed->trigger(), "R01");
  EXPECT_EQ(parsed->msh().Get(3), "MEDTWIN");  // from MSH-5
  EXPECT_EQ(parsed->msh().Get(5, 1), "GW");    // to MSH-3
  EXPECT_EQ(parsed->msh().Get(6), "ICU_WEST");
  const Segment* msa = parsed->Find("MSA");
  ASSERT_NE(msa, nullptr);
  EXPECT_EQ(msa->Get(1), "AE");
  EXPECT_EQ(msa->Get(2), "MSG-1");
  EXPECT_EQ(msa->Get(3), "'abc' is not a | number");
  const Segment* err = parsed->Find("ERR");
  ASSERT_NE(err, nullptr);
  EXPECT_EQ(err->Get(2, 1), "OBX");
  EXPECT_EQ(err->Get(2, 2), "2");
  EXPECT_EQ(err->Get(2, 3), "5");
  EXPECT_EQ(err->Get(3, 1), "102");
  EXPECT_EQ(err->Get(3, 3), "HL70357");
  EXPECT_EQ(err->Get(4), "E");
  EXPECT_EQ(err->Get(8), "'abc' is not a | number");
  // A v2.3.1 sender gets its errors where v2.3 has them: ERR-1 (segment ^ sequence ^ field ^
  // code&text&system), nothing after it.
  std::string v231 = kOru;
  v231.replace(v231.find("|2.5.1\r"), 7, "|2.3.1\r");
  auto old = Message::Parse(v231);
  ASSERT_TRUE(old.ok());
  const std::string old_ack =
      BuildAck(&*old, AckCode::kError,
               {{"OBX", 2, 5, ErrorCondition::kDataType, "not a number", 'E'},
                {"", 0, 0, ErrorCondition::kUnknownKey, "no patient", 'E'}},
               *ParseRfc3339("2026-12-07T13:46:00Z"), "ACK-3");
  // (One ERR segment before v2.5: the errors are repetitions of ERR-1.)
  EXPECT_NE(old_ack.find("\rERR|OBX^2^5^102&Data type error&HL70357~^^^204&Unknown key "
                         "identifier&HL70357\r"),
            std::string::npos)
      << old_ack;
  EXPECT_EQ(old_ack.find("ERR", old_ack.find("ERR|") + 1), std::string::npos) << old_ack;
  EXPECT_NE(old_ack.find("|P|2.3.1\r"), std::string::npos);
  EXPECT_NE(old_ack.find("\rMSA|AE|MSG-1|not a number\r"), std::string::npos);
  for (const char* legacy : {"2.1", "2.2", "2.3", "2.3.1", "2.4"}) {
    EXPECT_TRUE(LegacyErrorSegment(legacy)) << legacy;
  }
  for (const char* current : {"2.5", "2.5.1", "2.6", "2.7", "2.8.2", "", "3"}) {
    EXPECT_FALSE(LegacyErrorSegment(current)) << current;
  }
  // An unreadable message still gets an answer, with no control id to echo.
  auto reject = Message::Parse(BuildAck(nullptr, AckCode::kReject, {}, Instant{}, "ACK-2"));
  ASSERT_TRUE(reject.ok());
  EXPECT_EQ(reject->Find("MSA")->Get(1), "AR");
  EXPECT_EQ(reject->Find("MSA")->Get(2), "");
}

}  // namespace
}  // namespace medtwin::hl7
