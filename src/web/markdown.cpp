#include "web/markdown.h"

#include <cmark.h>

#include <cstdlib>
#include <memory>

#include "api/api_message.h"

namespace confab::embedded {
std::string_view default_template_html();
}  // namespace confab::embedded

namespace confab::web {

std::string markdown_to_html(std::string_view markdown) {
  std::unique_ptr<char, decltype(&std::free)> html(
      cmark_markdown_to_html(markdown.data(), markdown.size(), CMARK_OPT_DEFAULT), &std::free);
  return html ? std::string(html.get()) : std::string();
}

std::string first_heading(std::string_view markdown) {
  size_t at = 0;
  while (at < markdown.size()) {
    size_t eol = markdown.find('\n', at);
    std::string_view line = markdown.substr(at, eol == std::string_view::npos ? std::string_view::npos : eol - at);
    if (line.size() > 2 && line[0] == '#' && (line[1] == ' ' || line[1] == '\t')) {
      line.remove_prefix(2);
      while (!line.empty() && (line.back() == ' ' || line.back() == '\r' || line.back() == '#')) line.remove_suffix(1);
      while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
      return std::string(line);
    }
    if (eol == std::string_view::npos) break;
    at = eol + 1;
  }
  return {};
}

std::string fill_template(std::string_view page_template, const std::map<std::string, std::string>& values) {
  std::string out;
  out.reserve(page_template.size());
  size_t at = 0;
  while (at < page_template.size()) {
    size_t open = page_template.find("{{", at);
    if (open == std::string_view::npos) break;
    size_t close = page_template.find("}}", open + 2);
    if (close == std::string_view::npos) break;
    out.append(page_template.substr(at, open - at));
    auto it = values.find(std::string(page_template.substr(open + 2, close - open - 2)));
    if (it != values.end())
      out += it->second;
    else
      out.append(page_template.substr(open, close + 2 - open));
    at = close + 2;
  }
  out.append(page_template.substr(std::min(at, page_template.size())));
  return out;
}

std::string render_page(std::string_view page_template, std::string_view markdown, std::string_view title,
                        std::string_view conference) {
  return fill_template(page_template, {{"title", api::xml_escape(title)},
                                       {"conference", api::xml_escape(conference)},
                                       {"content", markdown_to_html(markdown)}});
}

std::string_view default_template() { return embedded::default_template_html(); }

}  // namespace confab::web
