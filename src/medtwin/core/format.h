// core/format.h — numbers in messages: shortest readable form ("2", "0.25", "1e+06").
#pragma once

#include <string>
#include <string_view>

namespace medtwin {

std::string FormatNumber(double value);

// ASCII upper case ("cl" -> "CL"), for column and parameter names.
std::string ToUpperAscii(std::string_view text);

}  // namespace medtwin
