// core/format.h — numbers in messages: shortest readable form ("2", "0.25", "1e+06").
#pragma once

#include <string>

namespace medtwin {

std::string FormatNumber(double value);

}  // namespace medtwin
