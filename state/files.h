// The file-system steps that make checkpoints durable, as Status-returning
// functions (POSIX underneath): write-and-fsync, rename-and-fsync-the-
// directory, hard links, removal. Every error names the path and says what
// the system said.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "runtime/status.h"

namespace kappa::state_internal {

// Creates or replaces `path` with `content` and fsyncs it (not its directory).
Status write_file_synced(const std::string& path, std::string_view content);
// rename(2), then fsync of the directory holding `to`.
Status rename_synced(const std::string& from, const std::string& to);
// fsync of a directory, so that entries created or renamed in it survive a
// power cut.
Status sync_dir(const std::string& dir);
// Writes `content` to `path` + ".tmp", syncs it and renames it over `path`:
// readers see the old file or the new one, never a part.
Status write_file_atomically(const std::string& path, std::string_view content);

// The whole file. kNotFound if it does not exist.
Result<std::string> read_file(const std::string& path);
Status copy_file(const std::string& from, const std::string& to);

// The names in `dir` (not "." or ".."), sorted.
Result<std::vector<std::string>> list_dir(const std::string& dir);
bool path_exists(const std::string& path);
bool is_directory(const std::string& path);
// Creates `dir` and its missing parents.
Status create_dirs(const std::string& dir);
// Removes `path` and everything under it; fine if it does not exist.
Status remove_all(const std::string& path);

}  // namespace kappa::state_internal
