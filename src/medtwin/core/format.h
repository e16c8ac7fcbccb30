// core/format.h — numbers in messages: shortest readable form ("2", "0.25", "1e+06").
#pragma once

#include <string>
#include <string_view>

namespace medtwin {

std::string FormatNumber(double value);

// `value` to 12 significant digits: what a measurement converted between units means, without
// the binary noise of the conversion (36.80000000000001 -> 36.8; (98.6 °F - 32)·5/9 -> 37).
// No clinical measurement carries 12 digits, so nothing measured is lost.
double WithoutFloatNoise(double value);

// ASCII upper case ("cl" -> "CL"), for column and parameter names; and lower case, for names
// compared without regard to case (drug names).
std::string ToUpperAscii(std::string_view text);
std::string ToLowerAscii(std::string_view text);

// One number through a printf format ("SpO2 %.0f %%"), for messages whose format is data.
std::string FormatPrintf(const char* format, double value);

}  // namespace medtwin
