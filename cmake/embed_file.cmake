# Writes OUTPUT, a C++ source defining `std::string_view confab::embedded::NAME()`
# with the bytes of INPUT: web pages and scripts kept as real files in the tree
# and built into the binary. Run by confab_embed_file() at build time.
file(READ "${INPUT}" bytes HEX)
string(LENGTH "${bytes}" hex_length)
math(EXPR size "${hex_length} / 2")
string(REGEX REPLACE "([0-9a-f][0-9a-f])" "'\\\\x\\1'," chars "${bytes}")
file(WRITE "${OUTPUT}" "// Generated from ${INPUT}: do not edit.\n#include <string_view>\n\n"
     "namespace confab::embedded {\nnamespace {\nconst char kBytes[] = {${chars} 0};\n}  // namespace\n"
     "std::string_view ${NAME}() { return {kBytes, ${size}}; }\n}  // namespace confab::embedded\n")
