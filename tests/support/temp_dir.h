// TempDir: a fresh folder for a test's input and output files, removed with
// everything in it when the TempDir goes.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace kappa::testing {

class TempDir {
 public:
  // `prefix` names the folder (<tmp>/<prefix>-XXXXXX), to tell whose it is.
  explicit TempDir(const std::string& prefix);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  // Writes `lines`, one per line, to the file `name`; returns its path.
  std::string write(const std::string& name, const std::vector<std::string>& lines) const;
  // The lines of the file `name` (none if it does not exist).
  std::vector<std::string> read(const std::string& name) const;

 private:
  std::filesystem::path dir_;
};

}  // namespace kappa::testing
