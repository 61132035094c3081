// Markdown pages: rendered with cmark (raw HTML in them is left out, its safe
// default) into the site's page template.
#pragma once

#include <map>
#include <string>
#include <string_view>

namespace confab::web {

// CommonMark to HTML, cmark's safe mode (no raw HTML, no javascript: links).
std::string markdown_to_html(std::string_view markdown);

// The text of the first level-1 ATX heading ("# Dune" -> "Dune"), or "".
std::string first_heading(std::string_view markdown);

// `page_template` with each {{name}} of `values` replaced in one pass (text
// the values bring in is not searched again); unknown {{names}} are kept.
std::string fill_template(std::string_view page_template, const std::map<std::string, std::string>& values);

// A whole page: {{content}} the rendered Markdown, {{title}} and {{conference}}
// HTML-escaped.
std::string render_page(std::string_view page_template, std::string_view markdown, std::string_view title,
                        std::string_view conference);

// The template a site without _template.html gets.
std::string_view default_template();

}  // namespace confab::web
