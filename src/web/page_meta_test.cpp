#include "web/page_meta.h"

#include <gtest/gtest.h>

using namespace confab::web;

TEST(PageMeta, PathsMapToSanitisedConferenceUsers) {
  EXPECT_EQ(conference_user("/films/dune"), "web-films-dune");
  EXPECT_EQ(conference_user("/"), "web-home");
  EXPECT_EQ(conference_user(""), "web-home");
  EXPECT_EQ(conference_user("/Films/Blade Runner 2049"), "web-films-blade-runner-2049");
  EXPECT_EQ(conference_user("/a__b//c..d/"), "web-a-b-c-d");
  EXPECT_EQ(conference_user("/caf\xc3\xa9/na\xc3\xafve"), "web-caf-na-ve");
  EXPECT_EQ(conference_user("/@;?=%"), "web-home");
  EXPECT_EQ(default_conference("/films/dune", "127.0.0.1:5080"), "sip:web-films-dune@127.0.0.1:5080");
}

TEST(PageMeta, LongPathsAreBoundedAndStayApart) {
  std::string a = "/" + std::string(200, 'x') + "/a", b = "/" + std::string(200, 'x') + "/b";
  std::string ua = conference_user(a), ub = conference_user(b);
  EXPECT_LE(ua.size(), kMaxUser);
  EXPECT_LE(ub.size(), kMaxUser);
  EXPECT_NE(ua, ub);
  EXPECT_EQ(ua.rfind("web-xxxx", 0), 0u) << ua;
  for (char c : ua) EXPECT_TRUE((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-') << ua;
  EXPECT_EQ(conference_user(a), ua);  // stable
}

TEST(PageMeta, ValidConferenceUris) {
  EXPECT_TRUE(valid_conference_uri("sip:film-club@conf.example.com"));
  EXPECT_TRUE(valid_conference_uri("sips:room@127.0.0.1:5081"));
  EXPECT_FALSE(valid_conference_uri("tel:+15550100"));
  EXPECT_FALSE(valid_conference_uri("sip:conf.example.com"));  // no user part
  EXPECT_FALSE(valid_conference_uri("javascript:alert(1)"));
  EXPECT_FALSE(valid_conference_uri("not a uri"));
  EXPECT_FALSE(valid_conference_uri(""));
}

TEST(PageMeta, MetaTagOverridesInHtml) {
  EXPECT_EQ(meta_conference(R"(<html><head><meta name="confab-conference" content="sip:club@h"></head>)"), "sip:club@h");
  EXPECT_EQ(meta_conference(R"(<META CONTENT='sip:a@h;x=1&amp;y' Name=Confab-Conference />)"), "sip:a@h;x=1&y");
  EXPECT_EQ(meta_conference("<meta name=confab-conference content=sip:u@h>"), "sip:u@h");
  EXPECT_EQ(meta_conference(R"(<meta charset="utf-8"><meta name="description" content="sip:no@h">)"), "");
  EXPECT_EQ(meta_conference(R"(<metadata name="confab-conference" content="sip:no@h">)"), "");
  EXPECT_EQ(meta_conference(R"(<meta content="a>b" name="confab-conference">)"), "a>b");  // '>' inside quotes
  EXPECT_EQ(meta_conference(R"(<meta name="confab-conference")"), "");                   // no content, cut off
  EXPECT_EQ(meta_conference(R"(<meta name="confab-conference" content="sip:unterminated)"), "sip:unterminated");
  EXPECT_EQ(meta_conference("<p>no meta</p>"), "");
}

TEST(PageMeta, FrontMatterInMarkdown) {
  auto fm = split_front_matter("conference: sip:club@h\ntitle: Dune night\n\n# Dune\n\ntext\n");
  EXPECT_EQ(fm.conference, "sip:club@h");
  EXPECT_EQ(fm.title, "Dune night");
  EXPECT_EQ(fm.body, "# Dune\n\ntext\n");
  auto crlf = split_front_matter("Conference:  sip:x@h \r\n# T\r\n");
  EXPECT_EQ(crlf.conference, "sip:x@h");
  EXPECT_EQ(crlf.body, "# T\r\n");
  auto none = split_front_matter("# Dune\nconference: sip:not@front\n");
  EXPECT_EQ(none.conference, "");
  EXPECT_EQ(none.body, "# Dune\nconference: sip:not@front\n");
  auto only = split_front_matter("conference: sip:only@h");
  EXPECT_EQ(only.conference, "sip:only@h");
  EXPECT_EQ(only.body, "");
  EXPECT_EQ(split_front_matter("").body, "");
}
