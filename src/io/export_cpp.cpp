// The C++ files of export-cpp that need no model file format: identifiers, the type header of a
// Net's spelling, and the embedded parameters.
#include "typenet/io/export_cpp.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>

#include "typenet/io/atomic_write.hpp"

namespace typenet {

namespace {

bool is_cpp_identifier(std::string_view name) {
  static constexpr std::string_view keywords[] = {
      "alignas",       "alignof",     "and",
      "and_eq",        "asm",         "auto",
      "bitand",        "bitor",       "bool",
      "break",         "case",        "catch",
      "char",          "char8_t",     "char16_t",
      "char32_t",      "class",       "compl",
      "concept",       "const",       "consteval",
      "constexpr",     "constinit",   "const_cast",
      "continue",      "co_await",    "co_return",
      "co_yield",      "decltype",    "default",
      "delete",        "do",          "double",
      "dynamic_cast",  "else",        "enum",
      "explicit",      "export",      "extern",
      "false",         "float",       "for",
      "friend",        "goto",        "if",
      "inline",        "int",         "long",
      "mutable",       "namespace",   "new",
      "noexcept",      "not",         "not_eq",
      "nullptr",       "operator",    "or",
      "or_eq",         "private",     "protected",
      "public",        "register",    "reinterpret_cast",
      "requires",      "return",      "short",
      "signed",        "sizeof",      "static",
      "static_assert", "static_cast", "struct",
      "switch",        "template",    "this",
      "thread_local",  "throw",       "true",
      "try",           "typedef",     "typeid",
      "typename",      "union",       "unsigned",
      "using",         "virtual",     "void",
      "volatile",      "wchar_t",     "while",
      "xor",           "xor_eq"};
  const auto word_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
  };
  if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) ||
      !std::ranges::all_of(name, word_char))
    return false;
  // Names with a double underscore or an underscore and a capital are the implementation's.
  if (name.find("__") != std::string_view::npos ||
      (name[0] == '_' && name.size() > 1 && std::isupper(static_cast<unsigned char>(name[1]))))
    return false;
  return std::ranges::find(keywords, name) == std::end(keywords);
}

// "0x1.99999ap-4f": the float's exact value (float to double is exact, and so is the literal
// back to float).
void append_hex_float(std::string& text, float value) {
  char buffer[32];
  const int length = std::snprintf(buffer, sizeof buffer, "%af", static_cast<double>(value));
  text.append(buffer, static_cast<std::size_t>(length));
}

void write_text(const std::filesystem::path& path, const std::string& text) {
  io::write_file_atomically(path, std::as_bytes(std::span(text)));
}

}  // namespace

void check_cpp_identifier(std::string_view name) {
  if (!is_cpp_identifier(name))
    throw std::invalid_argument("the type name '" + std::string(name) +
                                "' is not a C++ identifier (letters, digits and _, not first a "
                                "digit, not a keyword)");
}

std::string net_type_header(std::string_view name, std::string_view net_type,
                            std::string_view about) {
  check_cpp_identifier(name);
  if (net_type.empty())
    throw std::invalid_argument("export-cpp of " + std::string(name) +
                                ": the Net has a layer that does not spell its C++ type "
                                "(LayerInfo::cpp)");
  const std::string type_name(name);
  return "// " + type_name + ": " + std::string(about) +
         ".\n"
         "#pragma once\n\n"
         "#include \"typenet/typenet.hpp\"\n\n"
         "using " +
         type_name + " = " + std::string(net_type) + ";\n";
}

void write_embedded_cpp(const std::filesystem::path& header_path, std::string_view name,
                        std::string_view type_header, std::span<const float> parameters) {
  check_cpp_identifier(name);
  const std::string type_name(name);
  const std::string array = type_name + "_parameters";
  if (parameters.empty())
    throw std::invalid_argument(
        "export-cpp of " + type_name +
        ": the Net has no parameters to embed; its type alone is the model");
  const auto bad = std::ranges::find_if(parameters, [](float p) { return !std::isfinite(p); });
  if (bad != parameters.end())
    throw std::invalid_argument("export-cpp of " + type_name + ": parameter " +
                                std::to_string(bad - parameters.begin()) +
                                " is not finite (a diverged model)");
  const std::filesystem::path source_path = header_path.parent_path() / (array + ".cpp");
  const std::string count = std::to_string(parameters.size());

  std::string header(type_header);
  header += "\n#include \"typenet/frozen.hpp\"\n\n"
            "// The " +
            count + " parameters of " + type_name + ", defined in " +
            source_path.filename().string() +
            " beside this header (compile it into the program).\n"
            "alignas(64) extern const float " +
            array + "[" + type_name +
            "::param_count];\n"
            "// Predicts from them in place: nothing to load or initialise, safe from several "
            "threads.\n"
            "inline constexpr typenet::Frozen<" +
            type_name + "> " + type_name + "_net{" + array + "};\n";

  std::string source = "// The parameters of " + type_name + " (" +
                       header_path.filename().string() +
                       "), written by typenet's export-cpp: each float's exact bits as a "
                       "hexadecimal literal.\n"
                       "#include \"" +
                       header_path.filename().string() +
                       "\"\n\n"
                       "static_assert(" +
                       type_name + "::param_count == " + count +
                       ", \"the header is not the one written with this file\");\n\n"
                       "alignas(64) extern const float " +
                       array + "[" + type_name + "::param_count] = {\n";
  source.reserve(source.size() + parameters.size() * 18);
  constexpr std::size_t per_line = 8;
  for (std::size_t i = 0; i < parameters.size(); ++i) {
    append_hex_float(source, parameters[i]);
    source += (i + 1) % per_line == 0 || i + 1 == parameters.size() ? ",\n" : ", ";
  }
  source += "};\n";
  write_text(source_path, source);
  write_text(header_path, header);
}

}  // namespace typenet
