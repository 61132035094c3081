// A site on disk: which file a request path names, safely. Paths are decoded
// once (Boost.URL); dot segments, backslashes, NUL and malformed escapes are
// refused; hidden names (".git", "_template.html") are never served; and the
// file found, symlinks followed, must lie inside the site's directory.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace confab::web {

enum class FileKind { markdown, html, asset };

struct SiteFile {
  std::filesystem::path path;  // canonical, inside the site
  FileKind kind = FileKind::asset;
  std::string page_path;      // pages: "/films/dune" for films/dune.md, "/films" for films/index.html
  std::string content_type;   // of what is served (Markdown: HTML)
  uintmax_t size = 0;
  int64_t mtime_ns = 0;
};

struct Lookup {
  int status = 404;               // 200 (then `file`), 400 (a malformed or hostile path), 404
  std::optional<SiteFile> file;
};

class Site {
 public:
  // Throws std::invalid_argument naming --site when `dir` is missing or not a directory.
  explicit Site(const std::filesystem::path& dir);

  // A request path as received (percent-encoded, no query): "/films/dune",
  // "/films/", "/style.css". Pages are found without their extension too
  // (dune -> dune.md, dune.html, dune/index.md, dune/index.html), "/" is index.*.
  Lookup find(std::string_view encoded_path) const;
  // The same for a path already decoded (e.g. a query parameter).
  Lookup find_decoded(std::string_view path) const;

  // The site's page template, _template.html, if it has one.
  std::optional<SiteFile> page_template() const { return file_at("_template.html"); }
  const std::filesystem::path& root() const { return root_; }

 private:
  std::optional<SiteFile> file_at(const std::string& relative) const;
  std::filesystem::path root_;  // canonical
};

// The Content-Type a file is served with, by its extension (lower case):
// "application/octet-stream" for an unknown one.
std::string content_type_of(const std::filesystem::path& file);

// A strong ETag for files of this size and modification time, quoted.
std::string etag_of(uintmax_t size, int64_t mtime_ns, std::string_view more = {});

}  // namespace confab::web
