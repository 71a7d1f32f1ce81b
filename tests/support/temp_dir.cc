#include "tests/support/temp_dir.h"

#include <stdlib.h>

#include <fstream>

#include "runtime/status.h"

namespace kappa::testing {

TempDir::TempDir(const std::string& prefix) {
  std::string pattern = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
  KAPPA_CHECK(::mkdtemp(pattern.data()) != nullptr, "cannot create a temporary folder " + pattern);
  dir_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ignored;  // a test's leftovers in /tmp are no reason to fail it
  std::filesystem::remove_all(dir_, ignored);
}

std::string TempDir::write(const std::string& name, const std::vector<std::string>& lines) const {
  std::ofstream out(path(name));
  for (const std::string& line : lines) out << line << "\n";
  return path(name);
}

std::vector<std::string> TempDir::read(const std::string& name) const {
  std::ifstream in(path(name));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace kappa::testing
