// Random mutations of a text for parser fuzz/property tests: 1..max_edits edits, each a
// character replaced or inserted from `alphabet`, or a run of up to `max_erase` erased.
// Deterministic for a given generator state.
#pragma once

#include <random>
#include <string>

namespace medtwin::testing_support {

inline std::string Mutate(std::string text, std::mt19937& rng, const std::string& alphabet,
                          int max_edits = 4, std::size_t max_erase = 8) {
  const int edits = 1 + static_cast<int>(rng() % static_cast<unsigned>(max_edits));
  for (int e = 0; e < edits && !text.empty(); ++e) {
    const std::size_t at = rng() % text.size();
    switch (rng() % 3) {
      case 0:
        text[at] = alphabet[rng() % alphabet.size()];
        break;
      case 1:
        text.erase(at, 1 + rng() % max_erase);
        break;
      default:
        text.insert(at, 1, alphabet[rng() % alphabet.size()]);
    }
  }
  return text;
}

}  // namespace medtwin::testing_support
