#include "proxy/registrar.h"

#include <gtest/gtest.h>

#include <filesystem>

using namespace confab::proxy;
using confab::sip::ContactField;

namespace {

ContactField contact(std::string uri, std::optional<int64_t> expires = std::nullopt, std::optional<double> q = {}) {
  ContactField c;
  c.uri = std::move(uri);
  c.expires = expires;
  c.q = q;
  return c;
}

RegisterRequest reg(std::vector<ContactField> contacts, std::optional<int64_t> expires, std::string call_id,
                    uint32_t cseq) {
  RegisterRequest r;
  r.aor = "alice@example.com";
  r.contacts = std::move(contacts);
  r.expires_header = expires;
  r.call_id = std::move(call_id);
  r.cseq = cseq;
  r.source = "udp:127.0.0.1:5062";
  return r;
}

class RegistrarTest : public ::testing::Test {
 protected:
  SqliteLocationStore store{":memory:"};
  Registrar registrar{store, RegistrarPolicy{}};
};

}  // namespace

TEST_F(RegistrarTest, AddsBindingsWithExpiryAndQ) {
  auto r = registrar.process(reg({contact("sip:alice@10.0.0.1:5062", 120, 0.5), contact("sip:alice@10.0.0.2")},
                                 600, "c1", 1),
                             1000);
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.bindings.size(), 2u);
  EXPECT_EQ(r.bindings[0].contact, "sip:alice@10.0.0.2");  // q=1 sorts first
  EXPECT_EQ(r.bindings[0].expires_at, 1600);
  EXPECT_EQ(r.bindings[1].expires_at, 1120);
  EXPECT_DOUBLE_EQ(r.bindings[1].q, 0.5);
  auto values = contact_values(r.bindings, 1000);
  EXPECT_EQ(values[0], "<sip:alice@10.0.0.2>;expires=600");
  EXPECT_EQ(values[1], "<sip:alice@10.0.0.1:5062>;expires=120;q=0.5");
}

TEST_F(RegistrarTest, QueryWithoutContactsReturnsBindings) {
  registrar.process(reg({contact("sip:alice@10.0.0.1")}, 600, "c1", 1), 1000);
  auto r = registrar.process(reg({}, std::nullopt, "c2", 1), 1001);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.bindings.size(), 1u);
}

TEST_F(RegistrarTest, RefreshUpdatesAndZeroExpiryRemoves) {
  registrar.process(reg({contact("sip:alice@10.0.0.1")}, 600, "c1", 1), 1000);
  auto r = registrar.process(reg({contact("sip:alice@10.0.0.1:5060")}, 900, "c1", 2), 1010);
  ASSERT_EQ(r.bindings.size(), 1u);  // same contact (default port), refreshed
  EXPECT_EQ(r.bindings[0].expires_at, 1910);
  r = registrar.process(reg({contact("sip:alice@10.0.0.1", 0)}, std::nullopt, "c1", 3), 1020);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(r.bindings.empty());
}

TEST_F(RegistrarTest, RejectsTooBriefInterval) {
  auto r = registrar.process(reg({contact("sip:alice@10.0.0.1")}, 10, "c1", 1), 1000);
  EXPECT_EQ(r.status, 423);
  EXPECT_EQ(r.min_expires, 60);
  EXPECT_TRUE(store.lookup("alice@example.com", 1000).empty());
}

TEST_F(RegistrarTest, CapsAtMaxExpires) {
  auto r = registrar.process(reg({contact("sip:alice@10.0.0.1")}, 99999, "c1", 1), 1000);
  EXPECT_EQ(r.bindings[0].expires_at, 1000 + 3600);
}

TEST_F(RegistrarTest, WildcardRemovesAllButOnlyWithExpiresZero) {
  registrar.process(reg({contact("sip:alice@10.0.0.1"), contact("sip:alice@10.0.0.2")}, 600, "c1", 1), 1000);
  ContactField star;
  star.star = true;
  EXPECT_EQ(registrar.process(reg({star}, 30, "c2", 1), 1001).status, 400);
  EXPECT_EQ(registrar.process(reg({star, contact("sip:alice@x")}, 0, "c2", 1), 1001).status, 400);
  auto r = registrar.process(reg({star}, 0, "c2", 1), 1001);
  EXPECT_EQ(r.status, 200);
  EXPECT_TRUE(store.lookup("alice@example.com", 1001).empty());
}

TEST_F(RegistrarTest, RejectsOutOfOrderCSeq) {
  registrar.process(reg({contact("sip:alice@10.0.0.1")}, 600, "c1", 5), 1000);
  EXPECT_EQ(registrar.process(reg({contact("sip:alice@10.0.0.1")}, 600, "c1", 5), 1001).status, 500);
  EXPECT_EQ(registrar.process(reg({contact("sip:alice@10.0.0.1")}, 600, "c1", 4), 1001).status, 500);
  EXPECT_EQ(registrar.process(reg({contact("sip:alice@10.0.0.1")}, 600, "other-call", 1), 1001).status, 200);
}

TEST_F(RegistrarTest, RejectsInvalidContactAndTooMany) {
  EXPECT_EQ(registrar.process(reg({contact("not a uri")}, 600, "c1", 1), 1000).status, 400);
  Registrar small(store, RegistrarPolicy{60, 3600, 3600, 2});
  EXPECT_EQ(small.process(reg({contact("sip:a@1.1.1.1"), contact("sip:a@1.1.1.2")}, 600, "c1", 1), 1000).status, 200);
  EXPECT_EQ(small.process(reg({contact("sip:a@1.1.1.3")}, 600, "c1", 2), 1000).status, 403);
}

TEST_F(RegistrarTest, ExpiredBindingsDisappear) {
  registrar.process(reg({contact("sip:alice@10.0.0.1", 60)}, std::nullopt, "c1", 1), 1000);
  EXPECT_EQ(store.lookup("alice@example.com", 1059).size(), 1u);
  EXPECT_TRUE(store.lookup("alice@example.com", 1060).empty());
  EXPECT_EQ(store.purge_expired(1060), 1u);
}

TEST(SqliteLocationStore, SurvivesReopen) {
  auto path = std::filesystem::temp_directory_path() / ("confab-reg-" + std::to_string(::getpid()) + ".db");
  std::filesystem::remove(path);
  {
    SqliteLocationStore store(path.string());
    Registrar r(store, RegistrarPolicy{});
    ASSERT_EQ(r.process(reg({contact("sip:alice@10.0.0.1")}, 600, "c1", 1), 1000).status, 200);
  }
  {
    SqliteLocationStore store(path.string());
    auto b = store.lookup("alice@example.com", 1001);
    ASSERT_EQ(b.size(), 1u);
    EXPECT_EQ(b[0].contact, "sip:alice@10.0.0.1");
    EXPECT_EQ(b[0].call_id, "c1");
    EXPECT_EQ(read_bindings(path.string(), 1001).size(), 1u);
  }
  std::filesystem::remove(path);
}

TEST(CanonicalContact, ComparesByRfcRules) {
  EXPECT_EQ(canonical_contact("sip:a@HOST"), canonical_contact("sip:a@host:5060"));
  EXPECT_NE(canonical_contact("sip:a@host"), canonical_contact("sip:a@host;transport=tcp"));
  EXPECT_EQ(canonical_contact("sip:a@host;transport=udp"), canonical_contact("sip:a@host"));
}
