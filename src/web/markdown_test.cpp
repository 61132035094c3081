#include "web/markdown.h"

#include <gtest/gtest.h>

#include "web/page_meta.h"

using namespace confab::web;

TEST(Markdown, RendersCommonMarkSafely) {
  EXPECT_EQ(markdown_to_html("# Dune\n\nA *desert* planet."), "<h1>Dune</h1>\n<p>A <em>desert</em> planet.</p>\n");
  std::string html = markdown_to_html("<script>alert(1)</script>\n\n[x](javascript:alert(1))\n");
  EXPECT_EQ(html.find("<script>"), std::string::npos) << html;
  EXPECT_EQ(html.find("javascript:"), std::string::npos) << html;
}

TEST(Markdown, TitleFromTheFirstHeading) {
  EXPECT_EQ(first_heading("intro\n# Arrival #\n## Sub\n"), "Arrival");
  EXPECT_EQ(first_heading("## Only a sub\n"), "");
  EXPECT_EQ(first_heading("#NoSpace\n"), "");
}

TEST(Markdown, TemplatesFillInOnePass) {
  EXPECT_EQ(fill_template("<t>{{title}}</t>{{content}}{{other}}", {{"title", "{{content}}"}, {"content", "c"}}),
            "<t>{{content}}</t>c{{other}}");
  EXPECT_EQ(fill_template("{{title", {{"title", "x"}}), "{{title");
}

TEST(Markdown, APageWithFrontMatterInTheDefaultTemplate) {
  auto fm = split_front_matter("conference: sip:club@h\ntitle: Dune & friends\n\n# Dune\n");
  std::string page = render_page(default_template(), fm.body, fm.title, fm.conference);
  EXPECT_NE(page.find("<title>Dune &amp; friends</title>"), std::string::npos) << page;
  EXPECT_NE(page.find(R"(<meta name="confab-conference" content="sip:club@h">)"), std::string::npos) << page;
  EXPECT_NE(page.find(R"(<script type="module" src="/confab.js" data-confab="auto"></script>)"), std::string::npos);
  EXPECT_NE(page.find("<h1>Dune</h1>"), std::string::npos);
  EXPECT_EQ(page.find("conference: sip"), std::string::npos);  // the front matter is not shown
  EXPECT_EQ(meta_conference(page), "sip:club@h");
}

TEST(Markdown, EscapesTitleAndConference) {
  std::string page = render_page("{{title}}|{{conference}}", "", "<b>\"x\"</b>", "sip:a@h\"><script>");
  EXPECT_EQ(page.find("<b>"), std::string::npos) << page;
  EXPECT_EQ(page.find("<script>"), std::string::npos) << page;
}
