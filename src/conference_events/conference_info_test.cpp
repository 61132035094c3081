// Tests of the conference-info document: rendering, per-subscriber version
// stamping, escaping, and the hardened, namespace-aware parser.
#include "conference_events/conference_info.h"

#include <gtest/gtest.h>

#include <string>

using namespace confab::conference_events;

namespace {

ConferenceInfo rich_document() {
  ConferenceInfo info;
  info.entity = "sip:standup@conference.example.com";
  info.version = 7;
  info.display_text = "Daily standup";
  info.conf_uris = {"sip:standup@conference.example.com", "tel:+15551234567"};
  info.maximum_user_count = 50;
  info.user_count = 2;
  info.active = true;
  info.locked = false;

  User alice{"sip:alice@example.com", ElementState::Full, "Alice", {}};
  Endpoint alice_phone;
  alice_phone.entity = "sip:alice@192.0.2.10:5062";
  alice_phone.display_text = "Alice's desk phone";
  alice_phone.status = EndpointStatus::Connected;
  alice_phone.joining_method = "dialed-in";
  alice_phone.joining_when = "2024-05-01T09:00:00Z";
  alice_phone.media_id = "1";
  alice_phone.media_type = "audio";
  alice_phone.media_status = "sendrecv";
  alice.endpoints.push_back(alice_phone);

  User bob{"sip:bob@example.com", ElementState::Full, "Bob", {}};
  Endpoint bob_softphone;
  bob_softphone.entity = "sip:bob@198.51.100.7";
  bob_softphone.status = EndpointStatus::Disconnected;
  bob_softphone.joining_method = "dialed-out";
  bob_softphone.disconnection_method = "departed";
  Endpoint bob_mobile;
  bob_mobile.entity = "sip:bob@203.0.113.9";
  bob_mobile.status = EndpointStatus::MutedViaFocus;
  bob_mobile.media_id = "2";
  bob_mobile.media_type = "audio";
  bob_mobile.media_status = "recvonly";
  bob.endpoints = {bob_softphone, bob_mobile};

  info.users = {alice, bob};
  return info;
}

void expect_same_endpoint(const Endpoint& a, const Endpoint& b) {
  EXPECT_EQ(a.entity, b.entity);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.display_text, b.display_text);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.joining_method, b.joining_method);
  EXPECT_EQ(a.joining_when, b.joining_when);
  EXPECT_EQ(a.disconnection_method, b.disconnection_method);
  EXPECT_EQ(a.media_id, b.media_id);
  EXPECT_EQ(a.media_type, b.media_type);
  EXPECT_EQ(a.media_status, b.media_status);
}

void expect_same(const ConferenceInfo& a, const ConferenceInfo& b) {
  EXPECT_EQ(a.entity, b.entity);
  EXPECT_EQ(a.state, b.state);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.display_text, b.display_text);
  EXPECT_EQ(a.conf_uris, b.conf_uris);
  EXPECT_EQ(a.maximum_user_count, b.maximum_user_count);
  EXPECT_EQ(a.user_count, b.user_count);
  EXPECT_EQ(a.active, b.active);
  EXPECT_EQ(a.locked, b.locked);
  ASSERT_EQ(a.users.size(), b.users.size());
  for (size_t i = 0; i < a.users.size(); ++i) {
    EXPECT_EQ(a.users[i].entity, b.users[i].entity);
    EXPECT_EQ(a.users[i].state, b.users[i].state);
    EXPECT_EQ(a.users[i].display_text, b.users[i].display_text);
    ASSERT_EQ(a.users[i].endpoints.size(), b.users[i].endpoints.size());
    for (size_t j = 0; j < a.users[i].endpoints.size(); ++j) {
      expect_same_endpoint(a.users[i].endpoints[j], b.users[i].endpoints[j]);
    }
  }
}

// Each of `needles` must occur in `text` after the previous one.
void expect_in_order(const std::string& text, std::initializer_list<std::string> needles) {
  size_t from = 0;
  std::string previous = "(start)";
  for (const auto& needle : needles) {
    auto at = text.find(needle, from);
    ASSERT_NE(at, std::string::npos) << needle << " missing or not after " << previous << " in " << text;
    from = at + needle.size();
    previous = needle;
  }
}

std::string parse_error(std::string_view xml) {
  std::string error;
  EXPECT_FALSE(parse(xml, &error).has_value()) << xml.substr(0, 200);
  EXPECT_FALSE(error.empty());
  return error;
}

constexpr const char* kMinimal =
    R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x" version="1"/>)";

}  // namespace

TEST(ConferenceInfo, StatusNamesRoundTrip) {
  for (auto status : {EndpointStatus::Pending, EndpointStatus::DialingOut, EndpointStatus::DialingIn,
                      EndpointStatus::Alerting, EndpointStatus::OnHold, EndpointStatus::Connected,
                      EndpointStatus::MutedViaFocus, EndpointStatus::Disconnecting, EndpointStatus::Disconnected}) {
    EXPECT_EQ(status_from(status_name(status)), status) << status_name(status);
  }
  EXPECT_EQ(status_name(EndpointStatus::DialingOut), "dialing-out");
  EXPECT_EQ(status_name(EndpointStatus::MutedViaFocus), "muted-via-focus");
  EXPECT_EQ(status_name(EndpointStatus::OnHold), "on-hold");
  EXPECT_FALSE(status_from("Connected").has_value());
  EXPECT_FALSE(status_from("").has_value());
  EXPECT_EQ(std::string(kContentType), "application/conference-info+xml");
}

TEST(ConferenceInfo, RenderParseRoundTripOfARichDocument) {
  auto info = rich_document();
  std::string error;
  auto parsed = parse(render(info), &error);
  ASSERT_TRUE(parsed) << error;
  expect_same(info, *parsed);
}

TEST(ConferenceInfo, RoundTripOfAPartialDocumentKeepsStates) {
  ConferenceInfo info;
  info.entity = "sip:c@x";
  info.state = ElementState::Partial;
  info.version = 4294967295u;
  User gone{"sip:gone@x", ElementState::Deleted, "", {}};
  User changed{"sip:changed@x", ElementState::Partial, "", {}};
  Endpoint left;
  left.entity = "sip:changed@host";
  left.state = ElementState::Deleted;
  changed.endpoints.push_back(left);
  info.users = {gone, changed};
  auto text = render(info);
  EXPECT_NE(text.find(R"(<users state="partial">)"), std::string::npos) << text;
  auto parsed = parse(text);
  ASSERT_TRUE(parsed);
  expect_same(info, *parsed);
}

TEST(ConferenceInfo, RenderedDocumentHasNamespaceRootAttributesAndSchemaOrder) {
  auto text = render(rich_document());
  EXPECT_EQ(text.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<conference-info ", 0), 0u) << text;
  expect_in_order(text, {"<conference-info", R"(xmlns="urn:ietf:params:xml:ns:conference-info")",
                         R"(entity="sip:standup@conference.example.com")", R"(state="full")", R"(version="7")", ">"});
  expect_in_order(text, {"<conference-description>", "<display-text>Daily standup</display-text>", "<conf-uris>",
                         "<entry><uri>sip:standup@conference.example.com</uri></entry>",
                         "<entry><uri>tel:+15551234567</uri></entry>", "</conf-uris>",
                         "<maximum-user-count>50</maximum-user-count>", "</conference-description>",
                         "<conference-state>", "<user-count>2</user-count>", "<active>true</active>",
                         "<locked>false</locked>", "</conference-state>", "<users>", R"(<user entity="sip:alice@)",
                         "<display-text>Alice</display-text>", R"(<endpoint entity="sip:alice@)",
                         "<status>connected</status>", "<joining-method>dialed-in</joining-method>",
                         "<joining-info><when>2024-05-01T09:00:00Z</when></joining-info>", R"(<media id="1">)",
                         "<type>audio</type>", "<status>sendrecv</status>", "</media>", "</endpoint>", "</user>",
                         R"(<user entity="sip:bob@)", "<status>disconnected</status>",
                         "<joining-method>dialed-out</joining-method>",
                         "<disconnection-method>departed</disconnection-method>", "<status>muted-via-focus</status>",
                         "</users>", "</conference-info>"});
}

TEST(ConferenceInfo, OmitsEmptySectionsButAlwaysHasUsersInAFullDocument) {
  ConferenceInfo info;
  info.entity = "sip:c@x";
  auto full = render(info);
  EXPECT_EQ(full.find("conference-description"), std::string::npos);
  EXPECT_EQ(full.find("conference-state"), std::string::npos);
  EXPECT_NE(full.find("<users/></conference-info>"), std::string::npos) << full;

  info.state = ElementState::Partial;
  info.user_count = 3;
  auto partial = render(info);
  EXPECT_EQ(partial.find("users"), std::string::npos) << partial;
  EXPECT_NE(partial.find("<conference-state><user-count>3</user-count></conference-state>"), std::string::npos);
  EXPECT_NE(partial.find(R"(state="partial")"), std::string::npos);

  info.user_count.reset();
  info.locked = true;  // any one of the three is enough for <conference-state>
  EXPECT_NE(render(info).find("<conference-state><locked>true</locked></conference-state>"), std::string::npos);
}

TEST(ConferenceInfo, DocumentTemplateStampsVersionsLikeRender) {
  auto info = rich_document();
  DocumentTemplate once(info);
  for (uint32_t version : {0u, 1u, 7u, 42u, 4294967295u}) {
    info.version = version;
    EXPECT_EQ(once.with_version(version), render(info)) << version;
  }
  // Apart from the version the stamped documents are byte-identical.
  auto v1 = once.with_version(1);
  auto v987 = once.with_version(987);
  ASSERT_EQ(v987.size(), v1.size() + 2);
  auto at = v1.find(R"(version="1")", 30);
  ASSERT_NE(at, std::string::npos);
  EXPECT_EQ(v1.substr(0, at), v987.substr(0, at));
  EXPECT_EQ(v1.substr(at + 11), v987.substr(at + 13));
  EXPECT_EQ(v987.substr(at, 13), R"(version="987")");
  auto reparsed = parse(v987);
  ASSERT_TRUE(reparsed);
  EXPECT_EQ(reparsed->version, 987u);
}

TEST(ConferenceInfo, DocumentTemplateIsNotFooledByVersionTextInContent) {
  ConferenceInfo info;
  info.entity = R"(sip:x@y;p=" version="0")";
  info.display_text = R"( version="0" )";
  DocumentTemplate once(info);
  info.version = 5;
  EXPECT_EQ(once.with_version(5), render(info));
  auto parsed = parse(once.with_version(5));
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->entity, info.entity);
  EXPECT_EQ(parsed->display_text, info.display_text);
}

TEST(ConferenceInfo, EscapesMarkupInNamesAndEntities) {
  ConferenceInfo info;
  info.entity = R"(sip:a<&">b@x)";
  info.display_text = R"(Q&A <live> "now")";
  info.users.push_back(User{R"(sip:"o'neil"@x)", ElementState::Full, R"(<script>&amp;"</script>)", {}});
  auto text = render(info);
  // '>' needs no escaping in an attribute value; '<', '&' and '"' do.
  EXPECT_NE(text.find(R"(entity="sip:a&lt;&amp;&quot;>b@x")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(<user entity="sip:&quot;o'neil&quot;@x">)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(&lt;script&gt;&amp;amp;"&lt;/script&gt;)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"(Q&amp;A &lt;live&gt; "now")"), std::string::npos) << text;
  EXPECT_EQ(text.find("<script>"), std::string::npos);
  EXPECT_EQ(text.find("<live>"), std::string::npos);
  auto parsed = parse(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->entity, info.entity);
  EXPECT_EQ(parsed->display_text, info.display_text);
  ASSERT_EQ(parsed->users.size(), 1u);
  EXPECT_EQ(parsed->users[0].entity, info.users[0].entity);
  EXPECT_EQ(parsed->users[0].display_text, info.users[0].display_text);
}

TEST(ConferenceInfo, ParsesAMinimalDocumentWithDefaults) {
  auto parsed = parse(kMinimal);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->entity, "sip:c@x");
  EXPECT_EQ(parsed->version, 1u);
  EXPECT_EQ(parsed->state, ElementState::Full);
  EXPECT_TRUE(parsed->users.empty());
  EXPECT_FALSE(parsed->user_count.has_value());
  EXPECT_FALSE(parsed->active.has_value());
}

TEST(ConferenceInfo, ParseRejectsWrongRootOrNamespace) {
  parse_error(R"(<conference xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:c@x" version="1"/>)");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:dialog-info" entity="sip:c@x" version="1"/>)");
  parse_error(R"(<conference-info entity="sip:c@x" version="1"/>)");
  parse_error(R"(<ci:conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1"/>)");
  parse_error(R"(<ci:conference-info xmlns:ci="urn:other" entity="a" version="1"/>)");
}

TEST(ConferenceInfo, ParseRejectsMissingOrBadRootAttributes) {
  EXPECT_NE(parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" version="1"/>)")
                .find("entity"),
            std::string::npos);
  EXPECT_NE(parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a"/>)")
                .find("version"),
            std::string::npos);
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="two"/>)");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="-1"/>)");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1x"/>)");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version=""/>)");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="4294967296"/>)");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1" state="x"/>)");
}

TEST(ConferenceInfo, ParseRejectsDoctypeAndEntityDeclarations) {
  std::string laughs =
      "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n"
      " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
      " <!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">\n]>\n"
      "<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"sip:c@x\" version=\"1\">"
      "<conference-description><display-text>&lol2;</display-text></conference-description></conference-info>";
  EXPECT_NE(parse_error(laughs).find("DOCTYPE"), std::string::npos);
  parse_error(std::string("<!ENTITY x \"y\">") + kMinimal);
  std::string external =
      "<!DOCTYPE conference-info SYSTEM \"file:///etc/passwd\">"
      "<conference-info xmlns=\"urn:ietf:params:xml:ns:conference-info\" entity=\"sip:c@x\" version=\"1\"/>";
  parse_error(external);
}

TEST(ConferenceInfo, ParseRejectsDocumentsOverOneMebibyte) {
  std::string big = R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1">)";
  big += "<!--" + std::string(kMaxDocumentBytes, 'x') + "-->";
  big += "</conference-info>";
  EXPECT_EQ(parse_error(big), "document too large");
  // Just under the limit is fine.
  std::string fits = R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1">)";
  std::string end = "--></conference-info>";
  fits += "<!--" + std::string(kMaxDocumentBytes - fits.size() - 4 - end.size(), 'x') + end;
  ASSERT_EQ(fits.size(), kMaxDocumentBytes);
  EXPECT_TRUE(parse(fits).has_value());
}

TEST(ConferenceInfo, ParseLimitsUsersAndEndpoints) {
  auto document_with = [](size_t users, size_t endpoints) {
    std::string xml = R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1"><users>)";
    for (size_t u = 0; u < users; ++u) {
      xml += "<user entity=\"u" + std::to_string(u) + "\">";
      for (size_t e = 0; e < endpoints; ++e) xml += "<endpoint entity=\"e" + std::to_string(e) + "\"/>";
      xml += "</user>";
    }
    return xml + "</users></conference-info>";
  };
  auto at_limit = parse(document_with(kMaxUsers, 0));
  ASSERT_TRUE(at_limit);
  EXPECT_EQ(at_limit->users.size(), kMaxUsers);
  EXPECT_NE(parse_error(document_with(kMaxUsers + 1, 0)).find("too many users"), std::string::npos);

  auto endpoints_at_limit = parse(document_with(1, kMaxEndpointsPerUser));
  ASSERT_TRUE(endpoints_at_limit);
  EXPECT_EQ(endpoints_at_limit->users[0].endpoints.size(), kMaxEndpointsPerUser);
  EXPECT_NE(parse_error(document_with(1, kMaxEndpointsPerUser + 1)).find("too many endpoints"), std::string::npos);
}

TEST(ConferenceInfo, ParseRejectsMalformedXml) {
  auto text = render(rich_document());
  for (size_t cut : {text.size() - 1, text.size() - 20, text.size() / 2, size_t{60}}) {
    parse_error(std::string_view(text).substr(0, cut));
  }
  parse_error("");
  parse_error("not xml at all");
  parse_error(std::string(kMinimal) + kMinimal);  // two roots
}

TEST(ConferenceInfo, ParseRejectsBadValuesInside) {
  auto with_users = [](const std::string& users) {
    return std::string(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1">)") +
           "<users>" + users + "</users></conference-info>";
  };
  parse_error(with_users(R"(<user/>)"));
  parse_error(with_users(R"(<user entity="u"><endpoint/></user>)"));
  parse_error(with_users(R"(<user entity="u" state="gone"/>)"));
  parse_error(with_users(R"(<user entity="u"><endpoint entity="e"><status>asleep</status></endpoint></user>)"));
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1">)"
              "<conference-state><active>maybe</active></conference-state></conference-info>");
  parse_error(R"(<conference-info xmlns="urn:ietf:params:xml:ns:conference-info" entity="a" version="1">)"
              "<conference-state><user-count>many</user-count></conference-state></conference-info>");
}

TEST(ConferenceInfo, ParseAcceptsAPrefixedNamespaceAndIgnoresExtensions) {
  constexpr const char* kPrefixed = R"(<?xml version="1.0" encoding="UTF-8"?>
<ci:conference-info xmlns:ci="urn:ietf:params:xml:ns:conference-info" xmlns:ext="urn:example:ext"
    entity="sips:conf233@example.com" state="partial" version="12">
  <ext:floor-control>on</ext:floor-control>
  <ci:conference-description>
    <ci:subject> Quarterly review </ci:subject>
    <ci:conf-uris><ci:entry><ci:uri>sip:conf233@example.com</ci:uri><ci:purpose>participation</ci:purpose></ci:entry></ci:conf-uris>
  </ci:conference-description>
  <ci:conference-state><ci:user-count> 33 </ci:user-count><ci:locked>1</ci:locked></ci:conference-state>
  <ci:users>
    <ext:user entity="sip:not-a-user@example.com"/>
    <ci:user entity="sip:bob@example.com" state="partial">
      <ci:display-text>Bob Hoskins</ci:display-text>
      <ci:roles><ci:entry>participant</ci:entry></ci:roles>
      <ci:endpoint entity="sip:bob@pc33.example.com">
        <ci:referred><ci:by>sip:alice@example.com</ci:by></ci:referred>
        <ci:status>on-hold</ci:status>
        <ext:mood>calm</ext:mood>
        <ci:media id="7"><ci:type>audio</ci:type><ci:label>34567</ci:label><ci:status>inactive</ci:status></ci:media>
      </ci:endpoint>
    </ci:user>
    <user xmlns="urn:ietf:params:xml:ns:conference-info" entity="sip:carol@example.com"/>
    <user entity="sip:unbound@example.com"/>
  </ci:users>
</ci:conference-info>)";
  std::string error;
  auto parsed = parse(kPrefixed, &error);
  ASSERT_TRUE(parsed) << error;
  EXPECT_EQ(parsed->entity, "sips:conf233@example.com");
  EXPECT_EQ(parsed->state, ElementState::Partial);
  EXPECT_EQ(parsed->version, 12u);
  EXPECT_EQ(parsed->display_text, " Quarterly review ");  // free text keeps its spaces
  EXPECT_EQ(parsed->conf_uris, std::vector<std::string>{"sip:conf233@example.com"});
  EXPECT_EQ(parsed->user_count, 33u);
  EXPECT_EQ(parsed->locked, true);
  EXPECT_FALSE(parsed->active.has_value());
  ASSERT_EQ(parsed->users.size(), 2u);  // the ext: and the unbound <user> are not ours
  EXPECT_EQ(parsed->users[0].entity, "sip:bob@example.com");
  EXPECT_EQ(parsed->users[0].state, ElementState::Partial);
  EXPECT_EQ(parsed->users[0].display_text, "Bob Hoskins");
  ASSERT_EQ(parsed->users[0].endpoints.size(), 1u);
  const auto& endpoint = parsed->users[0].endpoints[0];
  EXPECT_EQ(endpoint.status, EndpointStatus::OnHold);
  EXPECT_EQ(endpoint.media_id, "7");
  EXPECT_EQ(endpoint.media_type, "audio");
  EXPECT_EQ(endpoint.media_status, "inactive");
  EXPECT_EQ(parsed->users[1].entity, "sip:carol@example.com");
}
