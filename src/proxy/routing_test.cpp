#include "proxy/routing.h"

#include <gtest/gtest.h>

using namespace confab::proxy;
using confab::sip::Uri;

namespace {

class RoutingTest : public ::testing::Test {
 protected:
  SqliteLocationStore store{":memory:"};
  DomainPolicy policy{{"example.com"},
                      {{"conf.example.com", "127.0.0.1:5080"}, {"example.com", "127.0.0.1:5090"}},
                      {{"127.0.0.1", 5060}}};
  RoutingDecision decide(const std::string& uri) { return decide_route(policy, store, *Uri::parse(uri), 1000); }
  void add(const std::string& aor, const std::string& contact) {
    Binding b;
    b.aor = aor;
    b.contact = contact;
    b.contact_key = canonical_contact(contact);
    b.expires_at = 2000;
    store.upsert(b);
  }
};

}  // namespace

TEST_F(RoutingTest, ServedDomainsAndLocalAddresses) {
  EXPECT_TRUE(policy.serves(*Uri::parse("sip:a@example.com")));
  EXPECT_TRUE(policy.serves(*Uri::parse("sip:a@EXAMPLE.com")));
  EXPECT_TRUE(policy.serves(*Uri::parse("sip:a@127.0.0.1")));
  EXPECT_TRUE(policy.serves(*Uri::parse("sip:a@localhost:5060")));
  EXPECT_FALSE(policy.serves(*Uri::parse("sip:a@127.0.0.1:5080")));
  EXPECT_FALSE(policy.serves(*Uri::parse("sip:a@conf.example.com")));
  // Local addresses are aliases of the primary domain.
  EXPECT_EQ(policy.aor(*Uri::parse("sip:alice@127.0.0.1:5060")), "alice@example.com");
  EXPECT_EQ(policy.aor(*Uri::parse("sip:alice@Example.Com")), "alice@example.com");
}

TEST_F(RoutingTest, RegisteredUserForksToContacts) {
  add("bob@example.com", "sip:bob@10.0.0.1:5062");
  add("bob@example.com", "sip:bob@10.0.0.2:5062");
  auto d = decide("sip:bob@example.com");
  EXPECT_EQ(d.kind, RoutingDecision::Kind::Registered);
  EXPECT_EQ(d.bindings.size(), 2u);
  EXPECT_EQ(decide("sip:bob@127.0.0.1").kind, RoutingDecision::Kind::Registered);
}

TEST_F(RoutingTest, UnregisteredUserOfForeignDomainGoesToItsHost) {
  auto d = decide("sip:room7@conf.example.com");
  EXPECT_EQ(d.kind, RoutingDecision::Kind::Forward);
  EXPECT_EQ(d.next_hop, "sip:127.0.0.1:5080");
  d = decide("sip:room7@127.0.0.1:5080");
  EXPECT_EQ(d.kind, RoutingDecision::Kind::Forward);
  EXPECT_EQ(d.next_hop, "");  // RFC 3263 on the Request-URI itself
}

TEST_F(RoutingTest, UnregisteredUserOfOurDomainUsesStaticRouteOr404) {
  auto d = decide("sip:nobody@example.com");
  EXPECT_EQ(d.kind, RoutingDecision::Kind::Forward);
  EXPECT_EQ(d.next_hop, "sip:127.0.0.1:5090");
  // Addressed to the proxy itself: nowhere else to go.
  EXPECT_EQ(decide("sip:nobody@127.0.0.1").kind, RoutingDecision::Kind::NotFound);
  DomainPolicy bare({"example.org"}, {}, {{"127.0.0.1", 5060}});
  EXPECT_EQ(decide_route(bare, store, *Uri::parse("sip:x@example.org"), 1000).kind, RoutingDecision::Kind::NotFound);
}

TEST_F(RoutingTest, NoUserPartIsTheProxyItself) {
  EXPECT_EQ(decide("sip:127.0.0.1").kind, RoutingDecision::Kind::Self);
  EXPECT_EQ(decide("sip:example.com").kind, RoutingDecision::Kind::Self);
}
