#include "control/control_server.h"

#include <gtest/gtest.h>
#include <spdlog/spdlog.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <cstring>
#include <thread>

#include "base/temp_dir.h"

namespace confab::control {
namespace {

namespace json = boost::json;

// Runs `client` on a thread of its own while `loop` serves, then stops the loop.
void with_loop(sip::EventLoop& loop, std::function<void()> client) {
  std::thread t([&] {
    client();
    loop.post([&] { loop.stop(); });
  });
  loop.run();
  t.join();
}

// What a raw request line (not made by call_control) gets back.
std::string raw_exchange(const std::string& path, const std::string& data) {
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) return "connect failed";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST(ControlServer, RunsCommandsAndSaysWhatIsWrong) {
  sip::EventLoop loop;
  base::TempDir dir("confab-control");
  std::string path = dir.path + "/run/test.sock";
  ControlServer server(loop, path, "test");
  server.add("echo", "WORDS", "says them back", [](const Args& args) {
    json::array out;
    for (auto& a : args) out.emplace_back(a);
    return Answer::done(std::move(out));
  });
  server.add("boom", "", "fails", [](const Args&) -> Answer { throw std::runtime_error("kaput"); });
  struct stat st{};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((dir.path + "/run").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);

  std::vector<Answer> got;
  std::string junk, unknown_shape, oversized;
  with_loop(loop, [&] {
    got.push_back(call_control(path, "echo", {"a", "b c"}));
    got.push_back(call_control(path, "nope", {}));
    got.push_back(call_control(path, "boom", {}));
    got.push_back(call_control(path, "log-level", {"debug"}));
    got.push_back(call_control(path, "log-level", {"loud"}));
    got.push_back(call_control(path, "help", {}));
    junk = raw_exchange(path, "not json\n");
    unknown_shape = raw_exchange(path, R"({"command":"echo","args":[1]})" "\n");
    oversized = raw_exchange(path, std::string(ControlServer::kMaxRequest + 10, 'x'));
  });
  ASSERT_EQ(got.size(), 6u);
  EXPECT_TRUE(got[0].ok);
  EXPECT_EQ(json::serialize(got[0].result), R"(["a","b c"])");
  EXPECT_FALSE(got[1].ok);
  EXPECT_EQ(got[1].error, "no command 'nope' in test (`confab ctl test help` lists them)");
  EXPECT_FALSE(got[2].ok);
  EXPECT_EQ(got[2].error, "boom failed: kaput");
  EXPECT_TRUE(got[3].ok);
  EXPECT_EQ(got[3].result, json::value("debug"));
  EXPECT_EQ(spdlog::get_level(), spdlog::level::debug);
  EXPECT_FALSE(got[4].ok);
  EXPECT_NE(got[4].error.find("'loud' is not a log level"), std::string::npos);
  EXPECT_TRUE(got[5].ok);
  EXPECT_TRUE(got[5].result.as_object().contains("echo"));
  EXPECT_TRUE(got[5].result.as_object().contains("log-level"));
  EXPECT_NE(junk.find(R"("ok":false)"), std::string::npos) << junk;
  EXPECT_NE(unknown_shape.find("array of strings"), std::string::npos) << unknown_shape;
  EXPECT_NE(oversized.find("over 64 KiB"), std::string::npos) << oversized;
  spdlog::set_level(spdlog::level::info);
}

TEST(ControlServer, ASecondPartOnTheSameSocketIsRefusedAndADeadOnesSocketReplaced) {
  sip::EventLoop loop;
  base::TempDir dir("confab-control");
  std::string path = dir.path + "/p.sock";
  {
    ControlServer first(loop, path, "test");
    try {
      ControlServer second(loop, path, "test");
      FAIL() << "two parts on one socket";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find("another process answers there"), std::string::npos) << e.what();
    }
  }
  EXPECT_NE(::access(path.c_str(), F_OK), 0);  // removed at the end
  // A socket file nobody listens on (a part that was killed) is replaced.
  int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.data(), path.size());
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ::close(fd);
  ControlServer again(loop, path, "test");
  Answer a;
  with_loop(loop, [&] { a = call_control(path, "help", {}); });
  EXPECT_TRUE(a.ok);
}

TEST(ControlClient, NothingListeningIsAClearError) {
  try {
    call_control("/nonexistent/confab.sock", "help", {});
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("nothing answers on /nonexistent/confab.sock"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace confab::control
