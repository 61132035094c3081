// ChildProcess: what a started program inherits, and how it is stopped.
#include "base/child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "base/temp_dir.h"

namespace confab::base {
namespace {

using namespace std::chrono_literals;

TEST(ChildProcess, InheritsNoDescriptorsAndStopsDespiteBlockedSignals) {
  TempDir dir;
  int leaked = ::open("/dev/null", O_RDONLY);  // not close-on-exec: must not reach the child anyway
  sigset_t term, old;
  sigemptyset(&term);
  sigaddset(&term, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &term, &old);  // as the service's threads do
  {
    ChildProcess ls({{"/bin/sh", "-c", "ls /proc/self/fd"}, {}, dir.path + "/fds"});
    for (int i = 0; i < 200 && ls.running(); ++i) std::this_thread::sleep_for(10ms);
    std::ifstream in(dir.path + "/fds");
    std::string fds((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_EQ(fds, "0\n1\n2\n3\n") << "3 is ls's own directory handle";
  }
  ChildProcess sleeper({{"sleep", "30"}, {}, ""});
  EXPECT_TRUE(sleeper.running());
  auto t0 = std::chrono::steady_clock::now();
  sleeper.terminate(3000ms);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1000ms) << "SIGTERM should have stopped it at once";
  EXPECT_FALSE(sleeper.running());
  EXPECT_EQ(sleeper.status(), "killed by signal 15");
  pthread_sigmask(SIG_SETMASK, &old, nullptr);
  ::close(leaked);
  try {
    ChildProcess missing({{"/nonexistent/program"}, {}, ""});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start /nonexistent/program"), std::string::npos);
  }
}

}  // namespace
}  // namespace confab::base
