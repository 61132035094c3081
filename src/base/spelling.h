// "Did you mean ...?": the known name nearest to a mistyped one (a command,
// an option, a setting), by edit distance.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace confab::base {

// Edits to turn a into b: insertions, deletions, substitutions and swaps of two
// neighbouring characters ("gmae" -> "game": 1), as Damerau-Levenshtein (optimal
// string alignment).
size_t edit_distance(std::string_view a, std::string_view b);

// The name in `known` nearest to `typed`, if it is close enough to be what was
// meant: at most a third of its length away (at least 1, at most 3 edits), or
// `typed` (4 characters or more) is its prefix. nullopt when nothing is that close (then a list of the
// valid names helps more than a guess). Ties: the first in `known`.
std::optional<std::string> nearest_name(std::string_view typed, const std::vector<std::string>& known);

}  // namespace confab::base
