// What a page of a site says about itself: the conference it is (by default
// from its path, or overridden by the page), its title. The parsers here read
// site files, which the site's owner writes: they are bounded and never throw.
#pragma once

#include <string>
#include <string_view>

namespace confab::web {

// The user part of a page's default conference: "/films/dune" -> "web-films-dune",
// "/" -> "web-home". Lower case, [a-z0-9-] only (other characters become '-', runs
// of '-' collapse, none at either end); a long path is cut to kMaxUser characters,
// ending in a hash of the whole path so that two long paths stay apart.
std::string conference_user(std::string_view page_path);
constexpr size_t kMaxUser = 64;

// "sip:<conference_user(page_path)>@<conference_host>".
std::string default_conference(std::string_view page_path, std::string_view conference_host);

// A conference a page may name: a sip: or sips: URI with a user part.
bool valid_conference_uri(std::string_view uri);

// The content of the first <meta name="confab-conference" content="..."> of an
// HTML page (names case-insensitive, quotes optional, &amp; decoded), or "".
std::string meta_conference(std::string_view html);

// A Markdown page's front matter: leading lines "conference: sip:..." and
// "title: ..." (either, in any order, then an optional blank line), and the
// Markdown after them.
struct FrontMatter {
  std::string conference;
  std::string title;
  std::string_view body;
};
FrontMatter split_front_matter(std::string_view markdown);

}  // namespace confab::web
