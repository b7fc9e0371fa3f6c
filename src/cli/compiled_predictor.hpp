// Model files of architectures the tool has no built-in type for: it compiles a small predictor
// (the file's generated type header and the tool's own commands, cli/commands.hpp) with the
// system C++ compiler against typenet's headers and libraries, caches it, and runs it.
#pragma once

#include <string>

namespace typenet::cli {

// Runs argv (the tool's own command line) in the predictor of the Net type that `type_header`
// declares as `Model` (export-cpp's text), compiling it first unless the cache has it: under
// $TYPENET_CACHE, else $XDG_CACHE_HOME/typenet, else ~/.cache/typenet, in predictors/KEY where
// KEY hashes the type and this tool's build. It says so on stderr when it compiles, and how long
// that took. Replaces the process on success; throws std::runtime_error when there is no compiler,
// no pkg-config, typenet's libraries cannot be found, or the compilation fails (its log named).
[[noreturn]] void run_compiled_predictor(const std::string& type_header, char** argv);

}  // namespace typenet::cli
