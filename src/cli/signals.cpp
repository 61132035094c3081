#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <thread>

#include <spdlog/spdlog.h>

#include "cli/commands.h"

namespace confab::cli {

namespace {
sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  return set;
}

void exit_now(int sig) { _exit(128 + sig); }  // async-signal-safe, as a handler must be
}  // namespace

void block_stop_signals() {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

void stop_on_signals(std::function<void()> on_signal, std::function<void()> on_hangup) {
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  std::thread([set, on_signal = std::move(on_signal), on_hangup = std::move(on_hangup)] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0 && sig == SIGHUP) {
      if (on_hangup)
        on_hangup();
      else
        spdlog::info("SIGHUP: nothing of this part can change while it runs; restart it to apply changes");
    }
    on_signal();
  }).detach();
}

void exit_on_stop_signals() {
  struct sigaction action {};
  action.sa_handler = exit_now;
  sigemptyset(&action.sa_mask);
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
  sigaction(SIGHUP, &action, nullptr);
  // A signal that came while blocked is delivered here, at the unblock.
  sigset_t set = stop_signals();
  pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

}  // namespace confab::cli
