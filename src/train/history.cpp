#include "typenet/train/history.hpp"

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace typenet {

void History::record(std::string_view metric, double value) {
  for (auto& [name, values] : metrics_)
    if (name == metric) return values.push_back(value);
  metrics_.emplace_back(std::string(metric), std::vector<double>{value});
}

const std::vector<double>& History::operator[](std::string_view metric) const {
  static const std::vector<double> none;
  for (const auto& [name, values] : metrics_)
    if (name == metric) return values;
  return none;
}

bool History::has(std::string_view metric) const { return !(*this)[metric].empty(); }

std::size_t History::epochs() const {
  std::size_t most = 0;
  for (const auto& [name, values] : metrics_) most = std::max(most, values.size());
  return most;
}

namespace {
std::string number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%.9g", value);
  return text;
}
std::ofstream open_for_writing(const std::filesystem::path& path) {
  std::ofstream out(path);
  if (!out) throw std::runtime_error("typenet: cannot write history file " + path.string());
  return out;
}
}  // namespace

std::string History::to_csv() const {
  std::string csv = "epoch";
  for (const auto& [name, values] : metrics_) csv += "," + name;
  csv += "\n";
  for (std::size_t epoch = 0; epoch < epochs(); ++epoch) {
    csv += std::to_string(epoch + 1);
    for (const auto& [name, values] : metrics_)
      csv += "," + (epoch < values.size() ? number(values[epoch]) : "");
    csv += "\n";
  }
  return csv;
}

void History::write_csv(const std::filesystem::path& path) const {
  std::ofstream out = open_for_writing(path);
  out << to_csv();
  if (!out.flush()) throw std::runtime_error("typenet: cannot write history file " + path.string());
}

std::string History::to_json() const {
  std::string json = "{";
  for (std::size_t m = 0; m < metrics_.size(); ++m) {
    json += (m ? ", \"" : "\"") + metrics_[m].first + "\": [";
    for (std::size_t i = 0; i < metrics_[m].second.size(); ++i)
      json += (i ? ", " : "") + number(metrics_[m].second[i]);
    json += "]";
  }
  return json + "}";
}

void History::write_json(const std::filesystem::path& path) const {
  std::ofstream out = open_for_writing(path);
  out << to_json() << "\n";
  if (!out.flush()) throw std::runtime_error("typenet: cannot write history file " + path.string());
}

History History::read_csv(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("typenet: cannot open history file " + path.string());
  std::stringstream text;
  text << in.rdbuf();
  return from_csv(text.str(), path.string());
}

History History::from_csv(const std::string& text, const std::string& source) {
  std::stringstream in(text);
  std::string line;
  if (!std::getline(in, line) || line.rfind("epoch", 0) != 0)
    throw std::runtime_error("typenet: " + source +
                             ": line 1: expected a header starting with \"epoch\"");
  std::vector<std::string> names;
  std::stringstream header(line);
  std::string cell;
  std::getline(header, cell, ',');
  while (std::getline(header, cell, ',')) names.push_back(cell);
  History history;
  for (std::size_t row = 2; std::getline(in, line); ++row) {
    if (line.empty()) continue;
    std::stringstream cells(line);
    std::getline(cells, cell, ',');
    for (const std::string& name : names) {
      if (!std::getline(cells, cell, ',') || cell.empty()) continue;
      try {
        std::size_t used = 0;
        const double value = std::stod(cell, &used);
        if (used != cell.size()) throw std::invalid_argument(cell);
        history.record(name, value);
      } catch (const std::exception&) {
        throw std::runtime_error("typenet: " + source + ": line " + std::to_string(row) + ": \"" +
                                 cell + "\" is not a number (column " + name + ")");
      }
    }
  }
  return history;
}

}  // namespace typenet
