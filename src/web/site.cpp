#include "web/site.h"

#include <boost/url/pct_string_view.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <stdexcept>
#include <system_error>
#include <vector>

namespace confab::web {

namespace fs = std::filesystem;

namespace {

constexpr size_t kMaxPath = 2048;
constexpr size_t kMaxSegments = 32;

std::string lower_extension(const fs::path& p) {
  std::string ext = p.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext;
}

// The segments of a decoded path, or nullopt for one the site never serves.
// `status` says why: 400 for hostile or malformed input, 404 for a hidden name.
std::optional<std::vector<std::string>> segments_of(std::string_view path, int& status) {
  status = 400;
  if (path.empty() || path.front() != '/' || path.size() > kMaxPath) return std::nullopt;
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) return std::nullopt;
  std::vector<std::string> out;
  size_t at = 1;
  while (at <= path.size()) {
    size_t slash = path.find('/', at);
    std::string_view seg = path.substr(at, slash == std::string_view::npos ? std::string_view::npos : slash - at);
    if (seg == "." || seg == "..") return std::nullopt;
    if (!seg.empty()) {
      if (seg.front() == '.' || seg.front() == '_') {
        status = 404;
        return std::nullopt;
      }
      out.emplace_back(seg);
    }
    if (slash == std::string_view::npos) break;
    at = slash + 1;
  }
  if (out.size() > kMaxSegments) return std::nullopt;
  return out;
}

std::string join(const std::vector<std::string>& segments) {
  std::string s;
  for (auto& seg : segments) s += (s.empty() ? "" : "/") + seg;
  return s;
}

// "/films/dune" for "films/dune.md", "/films" for "films/index.html", "/" for "index.md".
std::string page_path_of(const std::string& relative) {
  fs::path p(relative);
  p.replace_extension();
  if (p.filename() == "index") p = p.parent_path();
  return "/" + p.generic_string();
}

}  // namespace

Site::Site(const fs::path& dir) {
  std::error_code ec;
  auto status = fs::status(dir, ec);
  if (ec || !fs::exists(status))
    throw std::invalid_argument("--site " + dir.string() + ": no such directory");
  if (!fs::is_directory(status)) throw std::invalid_argument("--site " + dir.string() + ": not a directory");
  root_ = fs::canonical(dir, ec);
  if (ec) throw std::invalid_argument("--site " + dir.string() + ": " + ec.message());
}

Lookup Site::find(std::string_view encoded_path) const {
  auto pct = boost::urls::make_pct_string_view(encoded_path);
  if (!pct) return {400, std::nullopt};
  return find_decoded(pct->decode());
}

Lookup Site::find_decoded(std::string_view path) const {
  int status = 400;
  auto segments = segments_of(path, status);
  if (!segments) return {status, std::nullopt};
  std::string rel = join(*segments);
  std::string dir = rel.empty() ? "" : rel + "/";
  std::vector<std::string> candidates;
  if (!rel.empty() && path.back() != '/') candidates = {rel, rel + ".md", rel + ".html"};
  candidates.push_back(dir + "index.md");
  candidates.push_back(dir + "index.html");
  for (auto& c : candidates)
    if (auto f = file_at(c)) return {200, std::move(f)};
  return {404, std::nullopt};
}

std::optional<SiteFile> Site::file_at(const std::string& relative) const {
  std::error_code ec;
  fs::path real = fs::canonical(root_ / relative, ec);
  if (ec) return std::nullopt;
  auto inside = real.lexically_relative(root_);
  if (inside.empty() || *inside.begin() == "..") {
    spdlog::warn("web: {} leads out of the site (to {}): not served", relative, real.string());
    return std::nullopt;
  }
  if (!fs::is_regular_file(real, ec)) return std::nullopt;
  SiteFile f;
  f.path = real;
  f.size = fs::file_size(real, ec);
  if (ec) return std::nullopt;
  auto mtime = fs::last_write_time(real, ec);
  if (ec) return std::nullopt;
  f.mtime_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(mtime.time_since_epoch()).count();
  std::string ext = lower_extension(relative);
  f.kind = ext == ".md" ? FileKind::markdown : ext == ".html" || ext == ".htm" ? FileKind::html : FileKind::asset;
  if (f.kind != FileKind::asset) f.page_path = page_path_of(relative);
  f.content_type = f.kind == FileKind::markdown ? "text/html; charset=utf-8" : content_type_of(relative);
  return f;
}

std::string content_type_of(const fs::path& file) {
  static const std::pair<const char*, const char*> kTypes[] = {
      {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
      {".css", "text/css; charset=utf-8"},   {".js", "text/javascript; charset=utf-8"},
      {".mjs", "text/javascript; charset=utf-8"}, {".svg", "image/svg+xml"},
      {".png", "image/png"},                 {".jpg", "image/jpeg"},
      {".jpeg", "image/jpeg"},               {".webp", "image/webp"},
      {".ico", "image/x-icon"},              {".json", "application/json"},
      {".txt", "text/plain; charset=utf-8"}, {".woff2", "font/woff2"},
      {".md", "text/markdown; charset=utf-8"}};
  std::string ext = lower_extension(file);
  for (auto& [e, type] : kTypes)
    if (ext == e) return type;
  return "application/octet-stream";
}

std::string etag_of(uintmax_t size, int64_t mtime_ns, std::string_view more) {
  return fmt::format("\"{:x}-{:x}{}{}\"", size, static_cast<uint64_t>(mtime_ns), more.empty() ? "" : "-", more);
}

}  // namespace confab::web
