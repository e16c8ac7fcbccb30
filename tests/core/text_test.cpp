#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>

#include "medtwin/core/text.h"
#include "medtwin/core/time.h"
#include "medtwin/core/units.h"

namespace medtwin {
namespace {

// RFC 3629 §3: the encoding of one code point (the reference the validator is checked against:
// built by encoding, not by decoding).
std::string EncodeUtf8(std::uint32_t cp) {
  std::string s;
  if (cp < 0x80) {
    s += static_cast<char>(cp);
  } else if (cp < 0x800) {
    s += static_cast<char>(0xC0 | (cp >> 6));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    s += static_cast<char>(0xE0 | (cp >> 12));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    s += static_cast<char>(0xF0 | (cp >> 18));
    s += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    s += static_cast<char>(0x80 | (cp & 0x3F));
  }
  return s;
}

TEST(Utf8, EveryStringOfUpToThreeBytesIsValidExactlyWhenItIsEncodedScalarValues) {
  // The valid strings of 1–3 bytes are the concatenations of encodings of scalar values
  // (U+0000..U+10FFFF without surrogates). Enumerate them by construction, then compare the
  // validator on all 16,843,008 byte strings of length 1, 2 and 3.
  std::set<std::string> one, two, three;
  std::vector<std::string> enc1, enc2, enc3;
  for (std::uint32_t cp = 0; cp < 0x10000; ++cp) {
    if (cp >= 0xD800 && cp <= 0xDFFF) continue;
    std::string e = EncodeUtf8(cp);
    (e.size() == 1 ? enc1 : e.size() == 2 ? enc2 : enc3).push_back(e);
  }
  std::vector<bool> valid2(1 << 16, false), valid3(1 << 24, false);
  auto index = [](const std::string& s) {
    std::uint32_t v = 0;
    for (char c : s) v = (v << 8) | static_cast<unsigned char>(c);
    return v;
  };
  for (const auto& a : enc1) {
    for (const auto& b : enc1) {
      valid2[index(a + b)] = true;
      for (const auto& c : enc1) valid3[index(a + b + c)] = true;
    }
    for (const auto& b : enc2) valid3[index(a + b)] = true;
  }
  for (const auto& a : enc2) {
    valid2[index(a)] = true;
    for (const auto& b : enc1) valid3[index(a + b)] = true;
  }
  for (const auto& a : enc3) valid3[index(a)] = true;
  for (std::uint32_t v = 0; v < 256; ++v) {
    const std::string s(1, static_cast<char>(v));
    EXPECT_EQ(IsValidUtf8(s), v < 0x80) << v;
  }
  std::size_t mismatches = 0;
  for (std::uint32_t v = 0; v < (1U << 16); ++v) {
    const std::string s{static_cast<char>(v >> 8), static_cast<char>(v & 0xFF)};
    mismatches += IsValidUtf8(s) != valid2[v];
  }
  for (std::uint32_t v = 0; v < (1U << 24); ++v) {
    const std::string s{static_cast<char>(v >> 16), static_cast<char>((v >> 8) & 0xFF),
                        static_cast<char>(v & 0xFF)};
    mismatches += IsValidUtf8(s) != valid3[v];
  }
  EXPECT_EQ(mismatches, 0U);
}

TEST(Utf8, FourByteSequencesAreValidExactlyForSupplementaryScalarValues) {
  for (std::uint32_t cp = 0x10000; cp <= 0x10FFFF; cp += 7) {
    ASSERT_TRUE(IsValidUtf8(EncodeUtf8(cp))) << cp;
  }
  // Random 4-byte strings: valid iff they decode (by the reference formula) to a supplementary
  // scalar value, or are made of shorter valid pieces.
  std::mt19937 rng(7);
  std::set<std::string> supplementary;
  int checked = 0;
  for (int i = 0; i < 2'000'000; ++i) {
    std::string s(4, '\0');
    for (auto& c : s) c = static_cast<char>(rng() & 0xFF);
    const auto b = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    if (b(0) < 0xF0) continue;  // 4-byte leads only; shorter pieces are covered above
    const std::uint32_t cp =
        ((b(0) & 0x07U) << 18) | ((b(1) & 0x3FU) << 12) | ((b(2) & 0x3FU) << 6) | (b(3) & 0x3FU);
    const bool expected = b(0) <= 0xF7 && (b(1) & 0xC0) == 0x80 && (b(2) & 0xC0) == 0x80 &&
                          (b(3) & 0xC0) == 0x80 && cp >= 0x10000 && cp <= 0x10FFFF;
    ASSERT_EQ(IsValidUtf8(s), expected) << std::hex << b(0) << " " << b(1);
    ++checked;
  }
  EXPECT_GT(checked, 100'000);
  // The classic attacks: overlong '/', a surrogate, beyond U+10FFFF, a truncated sequence.
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("ab\xE2\x82"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_TRUE(IsValidUtf8("Zoë Müller, 37.1 °C, €, 𝄞"));
}

TEST(Ids, FollowTheFhirIdRule) {
  EXPECT_TRUE(IsValidId("ward-01"));
  EXPECT_TRUE(IsValidId("p.2_a"));
  EXPECT_TRUE(IsValidId(std::string(64, 'a')));
  EXPECT_FALSE(IsValidId(std::string(65, 'a')));
  EXPECT_FALSE(IsValidId(""));
  EXPECT_FALSE(IsValidId("\xFF"));
  EXPECT_FALSE(IsValidId("a/b"));
  EXPECT_FALSE(IsValidId("a b"));
  EXPECT_FALSE(IsValidId("x\r\n"));
  auto e = ValidateId("\xC0\xAF", "patient");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.error().field, "patient");
  // The message never echoes the bytes it refused.
  EXPECT_TRUE(IsValidUtf8(e.error().message));
  EXPECT_EQ(e.error().message.find('\xC0'), std::string::npos);
}

TEST(Text, RefusesControlCharactersAndInvalidUtf8) {
  EXPECT_TRUE(ValidateText("monitor-12 (bed 4)", "source", 256).ok());
  EXPECT_TRUE(ValidateText("Zoë", "name", 256).ok());
  for (const std::string& bad :
       {std::string("x\r\n\r\n{}"), std::string("a\0b", 3), std::string("tab\there"),
        std::string("\x1b[31m"), std::string("del\x7f")}) {
    auto r = ValidateText(bad, "source", 256);
    ASSERT_FALSE(r.ok()) << Printable(bad);
    EXPECT_EQ(r.error().field, "source");
  }
  EXPECT_FALSE(ValidateText("\xFF", "source", 256).ok());
  EXPECT_FALSE(ValidateText(std::string(257, 'a'), "source", 256).ok());
  EXPECT_EQ(Printable("a\r\n\xFF"), "a\\x0D\\x0A\\xFF");
}

TEST(Time, LeapSecondOnlyOnLeapSecondDaysAndAfterEveryReadingOfItsSecond) {
  auto leap = ParseRfc3339("2016-12-31T23:59:60Z");
  auto before = ParseRfc3339("2016-12-31T23:59:59Z");
  auto late = ParseRfc3339("2016-12-31T23:59:59.999998Z");
  auto midnight = ParseRfc3339("2017-01-01T00:00:00Z");
  ASSERT_TRUE(leap.ok() && before.ok() && late.ok() && midnight.ok());
  // Distinct from the :59 reading (no false duplicate), and in order.
  EXPECT_LT(*before, *leap);
  EXPECT_LT(*late, *leap);
  EXPECT_LT(*leap, *midnight);
  // The same leap second written with an offset.
  auto offset = ParseRfc3339("2017-01-01T00:59:60+01:00");
  ASSERT_TRUE(offset.ok());
  EXPECT_EQ(*offset, *leap);
  // Every one of the 27 leap seconds is accepted (IERS Bulletin C list), others are not.
  for (const char* day :
       {"1972-06-30", "1972-12-31", "1973-12-31", "1974-12-31", "1975-12-31", "1976-12-31",
        "1977-12-31", "1978-12-31", "1979-12-31", "1981-06-30", "1982-06-30", "1983-06-30",
        "1985-06-30", "1987-12-31", "1989-12-31", "1990-12-31", "1992-06-30", "1993-06-30",
        "1994-06-30", "1995-12-31", "1997-06-30", "1998-12-31", "2005-12-31", "2008-12-31",
        "2012-06-30", "2015-06-30", "2016-12-31"}) {
    EXPECT_TRUE(ParseRfc3339(std::string(day) + "T23:59:60Z").ok()) << day;
  }
  EXPECT_FALSE(ParseRfc3339("2026-11-25T10:43:60Z").ok());
  EXPECT_FALSE(ParseRfc3339("2026-12-31T23:59:60Z").ok());
  EXPECT_FALSE(ParseRfc3339("2016-12-30T23:59:60Z").ok());
  EXPECT_FALSE(ParseRfc3339("2016-12-31T23:58:60Z").ok());
}

TEST(Units, AValueInItsOwnUnitComesBackUnchanged) {
  // Offset units too: 37.1 Cel must not pass through kelvin (37.10000000000002).
  for (double v : {37.1, 36.6, 41.3, -0.1, 98.6}) {
    auto c = ConvertUnit(v, "Cel", "Cel");
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(*c, v);
  }
  auto f = ConvertUnit(98.6, "[degF]", "[degF]");
  ASSERT_TRUE(f.ok());
  EXPECT_EQ(*f, 98.6);
}

}  // namespace
}  // namespace medtwin

namespace medtwin {
namespace {

TEST(ParseNumbers, WholeTextOrNothing) {
  EXPECT_EQ(ParseInt64("-42"), -42);
  EXPECT_EQ(ParseInt64("9223372036854775807"), INT64_MAX);
  for (const char* bad : {"", " 1", "1 ", "12abc", "0x10", "9223372036854775808", "+"}) {
    EXPECT_FALSE(ParseInt64(bad).has_value()) << bad;  // std::stoll took several of these
  }
  EXPECT_EQ(ParseUint64("18446744073709551615"), UINT64_MAX);
  EXPECT_FALSE(ParseUint64("-1").has_value());
  EXPECT_DOUBLE_EQ(*ParseDouble("1.25"), 1.25);
  EXPECT_DOUBLE_EQ(*ParseDouble("2e-3"), 0.002);
  for (const char* bad : {"", "n/a", "1.5x", "inf", "nan", "1e999"}) {
    EXPECT_FALSE(ParseDouble(bad).has_value()) << bad;
  }
}

}  // namespace
}  // namespace medtwin
