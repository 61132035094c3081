#include "web/site.h"

#include <gtest/gtest.h>

#include <fstream>

#include "base/temp_dir.h"

using namespace confab::web;
namespace fs = std::filesystem;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

struct SiteFixture : ::testing::Test {
  confab::base::TempDir tmp{"confab-web-test"};
  fs::path root = fs::path(tmp.path) / "site";
  fs::path outside = fs::path(tmp.path) / "secret";
  void SetUp() override {
    write(root / "index.md", "# Home");
    write(root / "films" / "index.md", "# Films");
    write(root / "films" / "dune.md", "# Dune");
    write(root / "films" / "alien.html", "<h1>Alien</h1>");
    write(root / "about" / "index.html", "<h1>About</h1>");
    write(root / "style.css", "body{}");
    write(root / "_template.html", "{{content}}");
    write(root / ".git" / "config", "x");
    write(outside / "passwd", "root:x");
    fs::create_directory_symlink(outside, root / "escape");
    fs::create_symlink(outside / "passwd", root / "passwd.txt");
    fs::create_symlink(root / "films" / "dune.md", root / "dune-link.md");
  }
  std::string found(std::string_view path) {
    auto l = Site(root).find(path);
    return l.file ? fs::relative(l.file->path, fs::canonical(root)).generic_string() + " " + l.file->page_path
                  : std::to_string(l.status);
  }
};

}  // namespace

TEST_F(SiteFixture, PagesByPathWithOrWithoutExtension) {
  EXPECT_EQ(found("/"), "index.md /");
  EXPECT_EQ(found("/films"), "films/index.md /films");
  EXPECT_EQ(found("/films/"), "films/index.md /films");
  EXPECT_EQ(found("/films/dune"), "films/dune.md /films/dune");
  EXPECT_EQ(found("/films/dune.md"), "films/dune.md /films/dune");
  EXPECT_EQ(found("/films/alien"), "films/alien.html /films/alien");
  EXPECT_EQ(found("/about"), "about/index.html /about");
  EXPECT_EQ(found("/films/d%75ne"), "films/dune.md /films/dune");
  EXPECT_EQ(found("/style.css"), "style.css ");
  EXPECT_EQ(found("/dune-link"), "films/dune.md /dune-link");  // a symlink inside the site is fine
  EXPECT_EQ(found("/films/nope"), "404");
  EXPECT_EQ(found("/films/dune/"), "404");
}

TEST_F(SiteFixture, TraversalAndHiddenFilesAreRefused) {
  for (auto path : {"/../secret/passwd", "/films/../../secret/passwd", "/%2e%2e/secret/passwd", "/%2E%2E/secret/passwd",
                    "/films/%2e%2e%2f%2e%2e%2fsecret/passwd", "/..%5csecret%5cpasswd", "/films\\..\\..\\secret",
                    "/index.md%00.css", "/./index.md", "/%", "/%zz", "relative", ""})
    EXPECT_EQ(found(path), "400") << path;
  for (auto path : {"/_template.html", "/_template", "/.git/config", "/films/.hidden", "/%2egit/config"})
    EXPECT_EQ(found(path), "404") << path;
  // Symlinks that leave the site's directory.
  EXPECT_EQ(found("/escape/passwd"), "404");
  EXPECT_EQ(found("/passwd.txt"), "404");
  // Decoded once only: "%252e%252e" is a name with '%' in it, not "..".
  EXPECT_EQ(found("/%252e%252e/secret/passwd"), "404");
  EXPECT_EQ(Site(root).find_decoded("/../secret/passwd").status, 400);
  EXPECT_EQ(Site(root).find_decoded("/films/dune").file->page_path, "/films/dune");
}

TEST_F(SiteFixture, TheTemplateAndBadSiteDirectories) {
  ASSERT_TRUE(Site(root).page_template());
  EXPECT_THROW(Site(root / "missing"), std::invalid_argument);
  EXPECT_THROW(Site(root / "style.css"), std::invalid_argument);
}

TEST(Site, ContentTypesByExtension) {
  EXPECT_EQ(content_type_of("a/b.html"), "text/html; charset=utf-8");
  EXPECT_EQ(content_type_of("x.CSS"), "text/css; charset=utf-8");
  EXPECT_EQ(content_type_of("x.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_of("x.mjs"), "text/javascript; charset=utf-8");
  EXPECT_EQ(content_type_of("x.svg"), "image/svg+xml");
  EXPECT_EQ(content_type_of("x.png"), "image/png");
  EXPECT_EQ(content_type_of("x.jpg"), "image/jpeg");
  EXPECT_EQ(content_type_of("x.webp"), "image/webp");
  EXPECT_EQ(content_type_of("x.ico"), "image/x-icon");
  EXPECT_EQ(content_type_of("x.json"), "application/json");
  EXPECT_EQ(content_type_of("x.txt"), "text/plain; charset=utf-8");
  EXPECT_EQ(content_type_of("x.woff2"), "font/woff2");
  EXPECT_EQ(content_type_of("x.exe"), "application/octet-stream");
  EXPECT_EQ(content_type_of("Makefile"), "application/octet-stream");
}

TEST(Site, ETags) {
  EXPECT_EQ(etag_of(255, 16), "\"ff-10\"");
  EXPECT_EQ(etag_of(255, 16, "a-b"), "\"ff-10-a-b\"");
  EXPECT_NE(etag_of(1, 2), etag_of(1, 3));
}
