#include "game/world.h"

#include <gtest/gtest.h>

#include <fstream>
#include <stdexcept>

#include "base/temp_dir.h"
#include "game/game_options.h"

using namespace confab::game;

namespace {

struct WorldFile {
  confab::base::TempDir dir{"confab-world"};
  std::string path = dir.path + "/world.toml";
  explicit WorldFile(const std::string& text) { std::ofstream(path) << text; }
};

// The error load_world throws for `text`, with the file's path replaced by "F".
std::string error_of(const std::string& text) {
  WorldFile f(text);
  try {
    load_world(f.path, "127.0.0.1:5080");
  } catch (const std::runtime_error& e) {
    std::string what = e.what();
    if (what.rfind(f.path, 0) == 0) what = "F" + what.substr(f.path.size());
    return what;
  }
  return "(no error)";
}

}  // namespace

TEST(World, DefaultIsFourQuadrantsWithConferences) {
  World w = load_world("", "conf.example.com:5080");
  EXPECT_EQ(w.name, "world");
  EXPECT_EQ(w.width, 100);
  ASSERT_EQ(w.zones.size(), 4u);
  EXPECT_EQ(w.zones[0].name, "nw");
  EXPECT_EQ(w.zones[3].name, "se");
  EXPECT_EQ(w.zones[3].x, 50);
  EXPECT_EQ(w.zones[3].y, 50);
  EXPECT_EQ(w.zones[1].conference, "sip:world-ne@conf.example.com:5080");
  EXPECT_EQ(w.speed, 5);
  EXPECT_EQ(w.max_players_per_zone, 50u);
  EXPECT_EQ(w.proximity_m, 10);
  EXPECT_EQ(w.proximity_db_at_line, -6);
  EXPECT_EQ(w.tick_ms, 50u);
  EXPECT_EQ(w.voice, VoiceMode::server);
  EXPECT_NO_THROW(check_zones(w));
  EXPECT_EQ(default_world("").zones[0].conference, "");  // no conference host: no conferences
}

TEST(World, ZoneAtGivesEveryPointOneZone) {
  World w = default_world("");
  EXPECT_EQ(w.zone_at(0, 0)->name, "nw");
  EXPECT_EQ(w.zone_at(49.99, 10)->name, "nw");
  EXPECT_EQ(w.zone_at(50, 10)->name, "ne");  // a zone owns its west line
  EXPECT_EQ(w.zone_at(10, 50)->name, "sw");  // and its north line
  EXPECT_EQ(w.zone_at(100, 100)->name, "se");  // the world's edges belong to the zones along them
  EXPECT_EQ(w.zone_at(100, 0)->name, "ne");
  EXPECT_EQ(w.zone_at(-5, 200)->name, "sw");  // clamped to the world
  EXPECT_EQ(w.zones[1].distance_to(47, 10), 3);
  EXPECT_EQ(w.zones[3].distance_to(47, 46), 5);
  EXPECT_EQ(w.zones[3].distance_to(60, 60), 0);
}

TEST(World, ReadsEverySetting) {
  WorldFile f(R"(
name = "town"
width = 60
height = 20.5
speed = 2.5
max_players_per_zone = 3
proximity_m = 4
proximity_db_at_line = -10
tick_ms = 100
voice = "client"

[[zones]]
name = "west"
width = 20
height = 20.5

[[zones]]
name = "east"
x = 20
width = 40
height = 20.5
conference = "sip:east@conf.example.com"
max_players = 7
)");
  World w = load_world(f.path, "10.0.0.1");
  EXPECT_EQ(w.name, "town");
  EXPECT_EQ(w.width, 60);
  EXPECT_EQ(w.height, 20.5);
  EXPECT_EQ(w.speed, 2.5);
  EXPECT_EQ(w.max_players_per_zone, 3u);
  EXPECT_EQ(w.proximity_m, 4);
  EXPECT_EQ(w.effective_proximity_m(), 0);  // client voice: no proximity
  EXPECT_EQ(w.proximity_db_at_line, -10);
  EXPECT_EQ(w.tick_ms, 100u);
  EXPECT_EQ(w.voice, VoiceMode::client);
  ASSERT_EQ(w.zones.size(), 2u);
  EXPECT_EQ(w.zones[0].conference, "sip:town-west@10.0.0.1");
  EXPECT_EQ(w.zones[0].max_players, 3u);
  EXPECT_EQ(w.zones[1].conference, "sip:east@conf.example.com");
  EXPECT_EQ(w.zones[1].max_players, 7u);
}

TEST(World, WithoutZonesASizedWorldGetsQuadrants) {
  WorldFile f("name = \"small\"\nwidth = 20\nheight = 10\n");
  World w = load_world(f.path, "");
  ASSERT_EQ(w.zones.size(), 4u);
  EXPECT_EQ(w.zones[3].x, 10);
  EXPECT_EQ(w.zones[3].y, 5);
  EXPECT_EQ(w.zones[3].width, 10);
  EXPECT_EQ(w.zones[0].conference, "");
}

TEST(World, ErrorsNameTheFileLineKeyAndWhatIsWrong) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"sped = 5\n", "F:1: sped: unknown key (did you mean 'speed'?)"},
      {"name = \"w\"\nprximity_m = 3\n", "F:2: prximity_m: unknown key (did you mean 'proximity_m'?)"},
      {"speed = -1\n", "F:1: speed: must be a number from 0.01 to 1000 m/s, not -1"},
      {"speed = \"fast\"\n", "F:1: speed: must be a number from 0.01 to 1000 m/s, not \"fast\""},
      {"speed = nan\n", "F:1: speed: must be a number from 0.01 to 1000 m/s, not nan"},
      {"width = 0\n", "F:1: width: must be a number from 1 to 1000000 m, not 0"},
      {"tick_ms = 5\n", "F:1: tick_ms: must be a whole number from 10 to 1000 ms, not 5"},
      {"tick_ms = 50.5\n", "F:1: tick_ms: must be a whole number from 10 to 1000 ms, not 50.5"},
      {"max_players_per_zone = 0\n",
       "F:1: max_players_per_zone: must be a whole number from 1 to 100000 players, not 0"},
      {"proximity_db_at_line = 3\n", "F:1: proximity_db_at_line: must be a number from -59 to 0 dB, not 3"},
      {"proximity_m = -1\n", "F:1: proximity_m: must be a number from 0 to 1000000 m (0: off), not -1"},
      {"voice = \"both\"\n", "F:1: voice: must be \"server\" or \"client\", not \"both\""},
      {"name = \"My World\"\n", "F:1: name: must be 1-31 characters of a-z, 0-9 and _, not \"My World\""},
      {"name = 3\n", "F:1: name: must be a string, not 3"},
      {"zones = 3\n", "F:1: zones: must be one or more [[zones]] tables, not 3"},
      {"zones = []\n", "F:1: zones: must be one or more [[zones]] tables, not an array"},
      {"zones = [1]\n", "F:1: zones[1]: must be a table ([[zones]]), not 1"},
      {"[[zones]]\nname = \"a\"\nwidht = 100\nheight = 100\n",
       "F:3: zones[1].widht: unknown key (did you mean 'width'?)"},
      {"[[zones]]\nwidth = 100\nheight = 100\n", "F:1: zones[1].name: missing (every zone needs a name, e.g. name = \"lobby\")"},
      {"[[zones]]\nname = \"Lobby\"\nwidth = 100\nheight = 100\n",
       "F:2: zones[1].name: must be 1-32 characters of a-z, 0-9 and _, not \"Lobby\""},
      {"[[zones]]\nname = \"a\"\nwidth = 100\n", "F:1: zones[1].height: missing (a zone is x, y, width and height in metres)"},
      {"[[zones]]\nname = \"a\"\nwidth = 100\nheight = 200\n",
       "F:4: zones[1].height: must be a number from 0.001 to 100 m, not 200"},
      {"[[zones]]\nname = \"a\"\nx = 60\nwidth = 50\nheight = 100\n",
       "F:1: zones[1]: zone 'a' (60, 0, 50 x 100) reaches outside the world (0, 0, 100 x 100)"},
      {"[[zones]]\nname = \"a\"\nwidth = 100\nheight = 100\nconference = \"room\"\n",
       "F:1: zones[1]: zone 'a': conference 'room' is not a sip: URI"},
      {"[[zones]]\nname = \"a\"\nwidth = 100\nheight = 100\nmax_players = 0\n",
       "F:5: zones[1].max_players: must be a whole number from 1 to 100000 players, not 0"},
      {"[[zones]]\nname = \"a\"\nwidth = 60\nheight = 100\n[[zones]]\nname = \"b\"\nx = 50\nwidth = 50\nheight = 100\n",
       "F:1: zones: zones 'a' and 'b' overlap (both hold (55, 50))"},
      {"[[zones]]\nname = \"a\"\nwidth = 50\nheight = 100\n[[zones]]\nname = \"a\"\nx = 50\nwidth = 50\nheight = 100\n",
       "F:1: zones: two zones are named 'a'"},
      {"[[zones]]\nname = \"a\"\nwidth = 50\nheight = 100\n[[zones]]\nname = \"b\"\nx = 50\nwidth = 50\nheight = 60\n",
       "F:1: zones: no zone holds the point (75, 80): the zones must cover the whole world (100 x 100 m); add a "
       "zone there or make the world smaller"},
      {"speed = 5\nspeed = 6\n", "F:2:9: Error while parsing key-value pair: cannot redefine existing integer 'speed'"},
      {"speed = \n", "F:1:9: Error while parsing key-value pair: expected value, saw '\\n'"},
  };
  for (auto& c : cases) EXPECT_EQ(error_of(c.text), c.error) << c.text;
}

TEST(World, AMissingFileIsAnError) {
  EXPECT_THROW(load_world("/nonexistent/world.toml", ""), std::runtime_error);
}

TEST(GameOptions, AdminUrlAndTokenFile) {
  EXPECT_EQ(parse_admin_url("http://127.0.0.1:5081/"), "http://127.0.0.1:5081");
  EXPECT_EQ(parse_admin_url("http://[::1]:5081"), "http://[::1]:5081");
  EXPECT_THROW(parse_admin_url("127.0.0.1:5081"), std::invalid_argument);
  EXPECT_THROW(parse_admin_url("http://127.0.0.1"), std::invalid_argument);
  try {
    parse_admin_url("https://x:1");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("--admin must be"), std::string::npos) << e.what();
  }
}
